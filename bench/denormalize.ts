// Denormalization benchmark (postbook): profile updates committed at a steady rate (default 100/s)
// to the profiles of members who each have copies in posts, comments, likes, messages and
// notifications; the native Mongo capture follows them into a chDB mirror and the sync rewrites
// every copy. Latency = from the update's commit to the last copy written, p50/p99/max. Same run:
// - one change's writes alone, applied one after another (no load);
// - the floor: the same writes (the sync's Denormalizer.apply, no capture) started at the same rate
//   whether or not the earlier ones finished, latency from when each was due; what the server
//   itself allows at that rate, so sync p99 / floor p99 says what capture and the sync add.
// The server is the mongo-java-server stand-in: its speed is not MongoDB's.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { MongoClient, ObjectId, type Document } from 'mongodb';
import { TeeSink } from '../ingest/landing/tee-sink.ts';
import { WarehouseSink } from '../ingest/landing/warehouse-sink.ts';
import { runMongoCapture } from '../ingest/mongo/capture.ts';
import { createPiiPolicy } from '../ingest/pii.ts';
import { Denormalizer, nameChangesOf } from '../packs/postbook/denormalize.ts';
import { startMongoStandIn } from '../stack/index.ts';
import { openWarehouse } from '../warehouse/index.ts';
import { percentile } from './percentile.ts';

const RATE = Number(process.env.BENCH_UPDATES_PER_SECOND ?? 100);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 20);
const MEMBERS = Number(process.env.BENCH_MEMBERS ?? 200);
const COPIES_PER_COLLECTION = 5;
/** Capture batching: land at most this long after a change arrives. */
const BATCH_DELAY_MS = 50;

const root = await mkdtemp(join(tmpdir(), 'tributary-bench-denormalize-'));
const mongo = await startMongoStandIn({ dataDir: join(root, 'mongo') });
const client = new MongoClient(mongo.url);
await client.connect();
const db = client.db('postbook');
const warehouse = await openWarehouse({ kind: 'chdb', path: join(root, 'warehouse') });
try {
  const ids = Array.from({ length: MEMBERS }, (_, index) => `member-${index}`);
  await db
    .collection('user_profiles')
    .insertMany(
      ids.map((userId) => ({ _id: new ObjectId(), userId, displayName: 'Start', avatarUrl: 'a.jpg' })),
    );
  for (const [collection, prefix] of [
    ['posts', ''],
    ['comments', ''],
    ['likes', ''],
    ['messages', 'sender'],
    ['notifications', 'actor'],
  ] as const) {
    const field = (name: string) => (prefix ? `${prefix}${name[0]?.toUpperCase()}${name.slice(1)}` : name);
    const documents: Document[] = ids.flatMap((userId) =>
      Array.from({ length: COPIES_PER_COLLECTION }, () => ({
        [prefix ? `${prefix}Id` : 'userId']: userId,
        [field('displayName')]: 'Start',
        [field('avatarUrl')]: 'a.jpg',
      })),
    );
    await db.collection(collection).insertMany(documents);
    await db.collection(collection).createIndex({ [prefix ? `${prefix}Id` : 'userId']: 1 });
  }

  // Baseline: one change's writes, applied directly.
  const direct = new Denormalizer(db);
  const baseline: number[] = [];
  for (let index = 0; index < 200; index++) {
    const started = performance.now();
    await direct.apply({
      userId: ids[index % MEMBERS] ?? '',
      group: 'profile',
      version: BigInt(index + 1),
      values: { displayName: `Direct ${index}`, avatarUrl: 'b.jpg' },
    });
    baseline.push(performance.now() - started);
  }
  await db.collection('profile_sync').deleteMany({});

  const total = RATE * SECONDS;
  /** Calls `step(index)` at RATE per second for `total` steps, each when due, without waiting for the last. */
  const atRate = async (step: (index: number, due: number) => Promise<void>) => {
    const started = performance.now();
    const running: Promise<void>[] = [];
    for (let index = 0; index < total; index++) {
      const due = started + (index * 1000) / RATE;
      const wait = due - performance.now();
      if (wait > 0) await sleep(wait);
      running.push(step(index, due));
    }
    await Promise.all(running);
  };

  // The floor: the same writes at the same rate, straight to the server.
  const floor: number[] = [];
  await atRate(async (index, due) => {
    await direct.apply({
      userId: ids[index % MEMBERS] ?? '',
      group: 'profile',
      version: BigInt(index + 1),
      values: { displayName: `Floor ${index}`, avatarUrl: 'c.jpg' },
    });
    floor.push(performance.now() - due);
  });
  await db.collection('profile_sync').deleteMany({});

  // The measured path: commit → capture → sync.
  const committedAt = new Map<string, number>();
  const latencies: number[] = [];
  const denormalizer = new Denormalizer(db);
  /** Where the measured path spends its time: the batches handed to the sync, and the time in it. */
  const followed = { batches: 0, changes: 0, ms: 0 };
  const stop = new AbortController();
  const pii = createPiiPolicy({
    dropFields: [],
    hashFields: [],
    hashPii: false,
    hashKey: 'bench-denormalize-key-01',
  });
  const capture = runMongoCapture({
    sourceUrl: mongo.url,
    sourceName: 'bench',
    collections: { kind: 'list', collections: ['postbook.user_profiles'] },
    // A batch's changes are applied together (a member's older ones folded into the newest); each
    // update's latency ends when its batch's copies are all written.
    sink: new TeeSink(new WarehouseSink(warehouse), async (changes) => {
      const applying = performance.now();
      await denormalizer.applyChanges(changes);
      const done = performance.now();
      followed.batches++;
      followed.changes += changes.length;
      followed.ms += done - applying;
      for (const change of changes)
        for (const name of nameChangesOf(change)) {
          const committed = committedAt.get(`${name.userId}|${name.values.displayName ?? ''}`);
          if (committed !== undefined) latencies.push(done - committed);
        }
    }),
    pii,
    untilCaughtUp: false,
    batchDelayMs: BATCH_DELAY_MS,
    signal: stop.signal,
  });
  // The snapshot's profiles go through the sync first (every copy rewritten once): the updates
  // start once that is done, or they would measure the snapshot's catch-up.
  while (followed.changes < MEMBERS) await sleep(100);
  const snapshot = { ...followed };
  // Updates of one member follow each other (the app's order); members' updates overlap.
  const lastOf = new Map<string, Promise<void>>();
  await atRate(async (index) => {
    const userId = ids[index % MEMBERS] ?? '';
    const displayName = `Name ${index}`;
    const update = (lastOf.get(userId) ?? Promise.resolve()).then(async () => {
      await db.collection('user_profiles').updateOne({ userId }, { $set: { displayName } });
      committedAt.set(`${userId}|${displayName}`, performance.now());
    });
    lastOf.set(userId, update);
    await update;
  });
  const deadline = Date.now() + 60_000;
  while (latencies.length < total && Date.now() < deadline) await sleep(100);
  stop.abort();
  await capture.catch(() => undefined);

  const sorted = [...latencies].sort((a, b) => a - b);
  const base = [...baseline].sort((a, b) => a - b);
  const floorSorted = [...floor].sort((a, b) => a - b);
  const copies = 5 * COPIES_PER_COLLECTION;
  console.log(
    `denormalize: ${total} profile updates at ${RATE}/s over ${MEMBERS} members, ${copies} copies each`,
  );
  console.log(`  propagated: ${latencies.length}/${total}`);
  const batches = followed.batches - snapshot.batches;
  console.log(
    `  the sync, after the snapshot: ${batches} batches of ${((followed.changes - snapshot.changes) / Math.max(1, batches)).toFixed(1)} changes on average, ${((followed.ms - snapshot.ms) / 1000).toFixed(1)} s applying them (the rest of the path: capture and landing)`,
  );
  console.log(
    `  commit → last copy: p50 ${percentile(sorted, 0.5).toFixed(1)} ms, p99 ${percentile(sorted, 0.99).toFixed(1)} ms, max ${(sorted.at(-1) ?? Number.NaN).toFixed(1)} ms (target p99 < 2000 ms)`,
  );
  console.log(
    `  one change's writes alone, one after another: p50 ${percentile(base, 0.5).toFixed(1)} ms, p99 ${percentile(base, 0.99).toFixed(1)} ms`,
  );
  console.log(
    `  floor, the same writes at ${RATE}/s straight to the server: p50 ${percentile(floorSorted, 0.5).toFixed(1)} ms, p99 ${percentile(floorSorted, 0.99).toFixed(1)} ms, max ${(floorSorted.at(-1) ?? Number.NaN).toFixed(1)} ms`,
  );
  console.log(
    `  ratio p99 / floor p99: ${(percentile(sorted, 0.99) / percentile(floorSorted, 0.99)).toFixed(1)}×`,
  );
} finally {
  await client.close();
  await warehouse.close();
  await mongo.stop();
  await rm(root, { recursive: true, force: true });
}
