// MongoDB benchmark: change events per second from the server into the chDB mirror (the native
// capture, in its own process), against the same server's raw watch() read rate of the same
// events in the same run (the ceiling: the change stream alone, nothing decoded or stored).
// The server is the mongo-java-server stand-in: its speed is not MongoDB's, only the ratio says
// something about Tributary.
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  Int32,
  MongoClient,
  ObjectId,
  type AnyBulkWriteOperation,
  type Document,
  type Timestamp,
} from 'mongodb';
import { newestOplogTime } from '../ingest/mongo/oplog.ts';
import { Random } from '../packs/common/random.ts';
import { startMongoStandIn } from '../stack/index.ts';

const CHANGES = Number(process.env.BENCH_CHANGES ?? 100_000);
const DATABASE = 'bench';
const COLLECTION = 'user_interactions';

interface CaptureReport {
  snapshotDocuments: number;
  streamedChanges: number;
  seconds: number;
  peakRssMb: number;
}

function runCapture(url: string, warehouseDir: string): CaptureReport {
  const output = execFileSync(
    process.execPath,
    [
      '--import',
      'tsx',
      new URL('./mongo-capture-process.ts', import.meta.url).pathname,
      url,
      `${DATABASE}.${COLLECTION}`,
      warehouseDir,
    ],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] },
  );
  return JSON.parse(output.trim().split('\n').at(-1) ?? '{}') as CaptureReport;
}

/** 80% inserts of seed-shaped interaction events, 15% updates, 5% deletes, in bulk writes. */
async function writeWorkload(client: MongoClient): Promise<void> {
  const random = new Random(1);
  const collection = client.db(DATABASE).collection(COLLECTION);
  const ids: ObjectId[] = [];
  let written = 0;
  while (written < CHANGES) {
    const operations: AnyBulkWriteOperation<Document>[] = [];
    for (let index = 0; index < 1000 && written < CHANGES; index++, written++) {
      const roll = random.next();
      if (ids.length < 100 || roll < 0.8) {
        const _id = new ObjectId();
        ids.push(_id);
        operations.push({
          insertOne: {
            document: {
              _id,
              user_id: random.uuid(),
              session_id: random.hex(8),
              event_type: random.pick([
                'lesson_start',
                'paragraph_read',
                'exercise_attempt',
                'lesson_complete',
              ]),
              event_category: 'learning',
              content_info: {
                content_type: 'lesson',
                content_id: random.uuid(),
                difficulty_level: new Int32(2),
              },
              interaction_data: {
                duration: random.int(5, 300),
                score: random.int(0, 100),
                attempts: new Int32(1),
              },
              user_context: {
                device_type: 'mobile',
                os: 'ios',
                current_streak: new Int32(random.int(0, 30)),
              },
              timestamp: new Date(Date.UTC(2026, 9, random.int(1, 31), random.int(0, 23))),
              experiments: [
                { experiment_name: 'exp_aa_null', variant: random.pick(['control', 'treatment']) },
              ],
            },
          },
        });
      } else if (roll < 0.95) {
        operations.push({
          updateOne: {
            filter: { _id: random.pick(ids) },
            update: { $set: { 'interaction_data.score': 100 } },
          },
        });
      } else {
        const at = random.int(0, ids.length - 1);
        operations.push({ deleteOne: { filter: { _id: ids[at] } } });
        ids.splice(at, 1);
      }
    }
    await collection.bulkWrite(operations, { ordered: true });
  }
}

/** Reads `count` events with a bare change stream (same options as the capture's), in seconds. */
async function rawWatchSeconds(
  client: MongoClient,
  startAt: Timestamp | undefined,
  count: number,
): Promise<number> {
  const stream = client
    .db(DATABASE)
    .collection(COLLECTION, { promoteValues: false, promoteLongs: false })
    .watch([], { fullDocument: 'updateLookup', startAtOperationTime: startAt });
  const startedAt = performance.now();
  let read = 0;
  while (read < count) if ((await stream.tryNext()) !== null) read++;
  const seconds = (performance.now() - startedAt) / 1000;
  await stream.close();
  return seconds;
}

const format = (value: number) => Math.round(value).toLocaleString('en-US');

const root = await mkdtemp(join(tmpdir(), 'tributary-bench-mongo-'));
const mongo = await startMongoStandIn({ dataDir: join(root, 'mongo') });
const client = new MongoClient(mongo.url);
try {
  await client.connect();
  const warehouseDir = join(root, 'warehouse');
  // The capture snapshots the (still nearly empty) collection and stores its stream position.
  await client.db(DATABASE).collection(COLLECTION).insertOne({ _id: new ObjectId(), seed: true });
  runCapture(mongo.url, warehouseDir);
  const start = await newestOplogTime(client);
  console.error(`writing ${format(CHANGES)} changes…`);
  await writeWorkload(client);

  // Both read the same events: the capture from its stored position, the ceiling from just after it.
  const capture = runCapture(mongo.url, warehouseDir);
  const ceilingSeconds = await rawWatchSeconds(client, start, capture.streamedChanges);
  const captureRate = capture.streamedChanges / capture.seconds;
  const ceilingRate = capture.streamedChanges / ceilingSeconds;
  console.log(
    `MongoDB capture benchmark: ${format(capture.streamedChanges)} change events (stand-in server: mongo-java-server, in memory)`,
  );
  console.log(`  raw watch() read (ceiling)   ${format(ceilingRate)} events/s`);
  console.log(
    `  native capture → chDB mirror ${format(captureRate)} events/s (peak RSS ${format(capture.peakRssMb)} MB)`,
  );
  console.log(`  ratio capture / ceiling      ${(captureRate / ceilingRate).toFixed(2)}`);
  console.log("  (the stand-in's speed is not MongoDB's; the ratio is the comparable figure)");
} finally {
  await client.close();
  await mongo.stop();
  await rm(root, { recursive: true, force: true });
}
