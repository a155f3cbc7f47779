// Write-back benchmark: BENCH_WRITEBACK_DOCS (default 1M) daily_user_metrics documents and
// BENCH_WRITEBACK_ROWS (default as many) user_streaks rows, from a warehouse generated here, each
// next to a baseline measured before and after it in the same run (their mean is the baseline): the
// MongoDB driver's plain insertMany of the same documents into an empty collection, and Postgres
// COPY of the same rows into an empty table. Then the incremental write-back after one new day (a
// tenth of the documents, all new; logged as the transforms log a rewritten day, so only that day
// is compared) against the full one, and the scheduler's overhead per job run (a job that does
// nothing, run through leases and run history). Each step is timed in wall and CPU seconds (this
// process and the server it writes to), and each ratio given in both: on a shared machine the load
// moves wall time between steps, CPU time much less. MongoDB is the mongo-java-server stand-in
// unless BENCH_MONGO_URL names a real server (its CPU is then not counted).
// BENCH_WRITEBACK_ONLY=mongo|streaks|scheduler runs one section; BENCH_MONGO_HEAP sets the
// stand-in's maximum heap (default 12g).
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { MongoClient, type Db, type Document } from 'mongodb';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { z } from 'zod';
import { parsePipelineConfig } from '../config/pipeline.ts';
import {
  defineJobKind,
  FileLease,
  JobKindRegistry,
  resolveJobs,
  Scheduler,
  WarehouseRunStore,
} from '../jobs/index.ts';
import { DEFAULT_BATCH_ROWS, runTarget } from '../jobs/writeback/engine.ts';
import { learningTargets } from '../packs/learning/writeback.ts';
import { recordDayRewrite } from '../transforms/marts/day-rewrites.ts';
import { ownCpuSeconds, parentPid, processTreeCpuSeconds } from './cpu.ts';
import { startEmbeddedPostgres, startMongoStandIn } from '../stack/index.ts';
import { migrate, openWarehouse, type Warehouse } from '../warehouse/index.ts';

const DOCS = Number(process.env.BENCH_WRITEBACK_DOCS ?? 1_000_000);
const DAYS = 10;
const USERS = Math.max(100, Math.round(DOCS / DAYS));
const ROWS = Number(process.env.BENCH_WRITEBACK_ROWS ?? DOCS);
const PACK = 'bench';
/** Documents per insertMany in the baseline, as many as the write-back puts in one bulk write. */
const BATCH = DEFAULT_BATCH_ROWS;
// The stand-in keeps every document, and an oplog entry per write, in its heap (the default 4g is
// sized for the demo); the run prints the stand-in's peak memory.
const MONGO_HEAP = process.env.BENCH_MONGO_HEAP ?? '12g';

const seconds = async (action: () => Promise<unknown>) => {
  const started = performance.now();
  await action();
  return (performance.now() - started) / 1000;
};
const rate = (count: number, time: number) => `${Math.round(count / time).toLocaleString('en-US')}/s`;

/** Days `firstDay`… of the mart, logged in mart_day_rewrites as replaceDays logs them. */
async function generateMart(
  warehouse: Warehouse,
  firstDay: number,
  days: number,
  users: number,
): Promise<void> {
  const dayOf = (offset: number) =>
    new Date(Date.UTC(2026, 8, 1 + firstDay + offset)).toISOString().slice(0, 10);
  await warehouse.command(`
    INSERT INTO mart_daily_user_metrics
    SELECT '${PACK}', toDate('2026-09-01') + ${firstDay} + intDiv(number, ${users}), concat('u', toString(number % ${users})),
      10 + number % 40, 1 + number % 3, toInt64(60 + intHash32(number) % 3000), number % 9, number % 4,
      toInt64(intHash32(number * 3) % 500), number % 7, toInt64(number % 100)
    FROM numbers(${days * users})`);
  await recordDayRewrite(
    warehouse,
    'mart_daily_user_metrics',
    PACK,
    Array.from({ length: days }, (_, offset) => dayOf(offset)),
  );
}

/** The documents insertMany stores: the same shape the write-back upserts. */
function baselineDocument(row: Record<string, unknown>): Document {
  const now = new Date();
  return {
    user_id: row.user_id,
    date: new Date(`${String(row.day)}T00:00:00Z`),
    learning_metrics: {
      total_study_time: row.total_study_time,
      lessons_completed: row.lessons_completed,
      study_sessions: row.study_sessions,
      avg_lesson_score: row.avg_lesson_score,
    },
    engagement_metrics: { unique_content_pieces: row.unique_content_pieces },
    computed_at: now,
    created_at: now,
  };
}

const uuid = (expression: string) =>
  `(lower(hex(MD5(toString(${expression})))) AS h, concat(substring(h, 1, 8), '-', substring(h, 9, 4), '-', substring(h, 13, 4), '-', substring(h, 17, 4), '-', substring(h, 21, 12)))`;

/** Wall and CPU seconds of a step: this process's (the engine's threads included) and a server's. */
interface Cost {
  wall: number;
  cpu: number;
}

async function measure(action: () => Promise<unknown>, serverPid?: number): Promise<Cost> {
  const serverCpu = () => (serverPid === undefined ? 0 : processTreeCpuSeconds(serverPid));
  const cpuBefore = ownCpuSeconds() + serverCpu();
  const wall = await seconds(action);
  return { wall, cpu: ownCpuSeconds() + serverCpu() - cpuBefore };
}

const mean = (a: Cost, b: Cost): Cost => ({ wall: (a.wall + b.wall) / 2, cpu: (a.cpu + b.cpu) / 2 });
const show = (cost: Cost, count?: number) =>
  `${cost.wall.toFixed(2)} s, ${cost.cpu.toFixed(1)} CPU-s${count === undefined ? '' : `  ${rate(count, cost.wall)}`}`;
const line = (label: string, value: string) => console.log(`  ${label.padEnd(58)} ${value}`);
/** A ratio of rates (or of times) by wall time and by CPU time. */
const ratios = (wall: number, cpu: number) => `${wall.toFixed(2)} (CPU ${cpu.toFixed(2)})`;

async function main(): Promise<void> {
  const only = process.env.BENCH_WRITEBACK_ONLY;
  if (only !== undefined && !['mongo', 'streaks', 'scheduler'].includes(only))
    throw new Error(`BENCH_WRITEBACK_ONLY must be mongo, streaks or scheduler, not ${only}`);
  const dir = await mkdtemp(join(tmpdir(), 'tributary-bench-writeback-'));
  const warehouse = await openWarehouse({ kind: 'chdb', path: join(dir, 'warehouse') });
  try {
    await migrate(warehouse);
    if (only === undefined || only === 'mongo') await mongoSection(warehouse, dir);
    if (only === undefined || only === 'streaks') await streaksSection(warehouse, dir);
    if (only === undefined || only === 'scheduler') await schedulerSection(warehouse, dir);
  } finally {
    await warehouse.close();
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * MongoDB daily_user_metrics: the full write-back against insertMany of the same documents,
 * measured before and after it (each into a stand-in of its own: the stand-in keeps a dropped
 * collection's writes in its oplog), then the incremental run after one new day.
 */
async function mongoSection(warehouse: Warehouse, dir: string): Promise<void> {
  console.log(
    `write-back benchmark: ${DOCS.toLocaleString('en-US')} daily_user_metrics documents (${USERS.toLocaleString('en-US')} users × ${DAYS} days); ` +
      `MongoDB: ${process.env.BENCH_MONGO_URL ? 'BENCH_MONGO_URL' : 'mongo-java-server stand-in'}`,
  );
  await generateMart(warehouse, 0, DAYS, USERS);
  const dailyTarget = (db: Db) => {
    const [daily] = learningTargets({ pack: PACK, source: PACK, mongo: db, asOf: new Date() });
    if (!daily) throw new Error('no daily_user_metrics target');
    return daily;
  };
  // The same documents, read from the same warehouse query as the write-back's; read again for each
  // baseline rather than kept, or the write-backs measured between the two baselines would run with
  // a million of them in this process's heap, which a job's run does not have.
  const baseline = async (label: string) =>
    withMongo(join(dir, `mongo-${label}`), async (db, pid) => {
      const documents = (
        await warehouse.query<Record<string, unknown>>(dailyTarget(db).sql, { pack: PACK })
      ).map(baselineDocument);
      const collection = db.collection('baseline_daily_user_metrics');
      return measure(async () => {
        for (let start = 0; start < documents.length; start += BATCH)
          await collection.insertMany(documents.slice(start, start + BATCH), { ordered: false });
      }, pid);
    });
  const insertManyBefore = await baseline('before');
  const { full, incremental, written, incrementalWritten, compared, mongoPeak } = await withMongo(
    join(dir, 'mongo'),
    async (db, pid) => {
      // A target per run, as the write-back job makes them: what a target learns in a run (the
      // natural key → _id of each scope it read) is that run's.
      const full = await measure(
        () => runTarget(warehouse, dailyTarget(db), { pack: PACK }, { dryRun: false }),
        pid,
      );
      const written = await db.collection('daily_user_metrics').countDocuments();
      // One new day: a tenth of the documents, the rest unchanged.
      await generateMart(warehouse, DAYS, 1, USERS);
      let incrementalWritten = 0;
      let compared = 0;
      const incremental = await measure(async () => {
        const report = await runTarget(warehouse, dailyTarget(db), { pack: PACK }, { dryRun: false });
        incrementalWritten = report.inserted + report.updated;
        compared = report.compared;
      }, pid);
      return {
        full,
        incremental,
        written,
        incrementalWritten,
        compared,
        mongoPeak: pid ? await peakMemory(pid) : undefined,
      };
    },
  );
  const insertManyAfter = await baseline('after');
  const insertMany = mean(insertManyBefore, insertManyAfter);
  console.log('\nMongoDB daily_user_metrics (CPU: this process and the MongoDB server)');
  line(
    'insertMany into an empty collection (baseline; before, after)',
    `${show(insertManyBefore, DOCS)}; ${show(insertManyAfter, DOCS)}`,
  );
  line('full write-back (query, hash, upsert, record)', show(full, written));
  line(
    '  full write-back / insertMany rate (target ≥ 0.5)',
    ratios(insertMany.wall / full.wall, insertMany.cpu / full.cpu),
  );
  line(
    `incremental after one new day (${compared.toLocaleString('en-US')} compared, ${incrementalWritten.toLocaleString('en-US')} written)`,
    show(incremental),
  );
  line(
    '  full / incremental (target ≥ 10)',
    ratios(full.wall / incremental.wall, full.cpu / incremental.cpu),
  );
  if (mongoPeak) line("  the stand-in's peak memory (VmHWM)", mongoPeak);
}

/** A MongoDB database for one step: BENCH_MONGO_URL's, or a stand-in of its own, stopped after. */
async function withMongo<T>(
  dataDir: string,
  step: (db: Db, serverPid: number | undefined) => Promise<T>,
): Promise<T> {
  const server = process.env.BENCH_MONGO_URL
    ? undefined
    : await startMongoStandIn({ dataDir, maxHeap: MONGO_HEAP });
  const client = new MongoClient(process.env.BENCH_MONGO_URL ?? server?.url ?? '');
  try {
    await client.connect();
    const db = client.db('bench');
    const result = await step(db, server?.pid);
    if (!server) await db.dropDatabase();
    return result;
  } finally {
    await client.close().catch(() => undefined);
    await server?.stop();
  }
}

/**
 * Postgres user_streaks: the write-back lapsing ROWS streaks against COPY of as many rows into an
 * empty table, measured before and after it, and the floor (one UPDATE of the same rows).
 */
async function streaksSection(warehouse: Warehouse, dir: string): Promise<void> {
  const postgres = await startEmbeddedPostgres({ dataDir: join(dir, 'postgres') });
  const client = new pg.Client({ connectionString: await postgres.createDatabase('bench') });
  try {
    await client.connect();
    // The postmaster: the parent of this connection's backend.
    const backend = (await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]?.pid;
    const postmaster = backend === undefined ? undefined : parentPid(backend);
    console.log(
      `\nPostgres user_streaks: ${ROWS.toLocaleString('en-US')} rows (CPU: this process and the Postgres server)`,
    );
    await client.query(`CREATE TABLE user_streaks (user_id uuid PRIMARY KEY, current_streak int DEFAULT 0,
      longest_streak int DEFAULT 0, last_activity_date date, streak_freeze_count int DEFAULT 0,
      created_at timestamp DEFAULT now(), updated_at timestamp DEFAULT now())`);
    const ids = await client.query<{ id: string }>(
      `SELECT md5(i::text)::uuid::text AS id FROM generate_series(0, ${ROWS - 1}) AS i`,
    );
    const copyInto = async (table: string) => {
      await client.query(`CREATE TABLE ${table} (LIKE user_streaks INCLUDING ALL)`);
      return measure(async () => {
        const lines = (function* () {
          for (const { id } of ids.rows)
            yield `${id}\t5\t9\t2026-10-01\t0\t2026-09-01 00:00:00\t2026-10-01 00:00:00\n`;
        })();
        await pipeline(Readable.from(lines), client.query(copyFrom(`COPY ${table} FROM STDIN`)));
      }, postmaster);
    };
    const copyBefore = await copyInto('user_streaks_copy');
    await client.query('INSERT INTO user_streaks SELECT * FROM user_streaks_copy');
    await client.query('VACUUM ANALYZE user_streaks');
    await warehouse.command(`CREATE TABLE raw.${PACK}_user_streaks (user_id String, current_streak Int32, _version UInt64, _is_deleted UInt8)
      ENGINE = ReplacingMergeTree(_version) ORDER BY user_id`);
    await warehouse.command(
      `INSERT INTO raw.${PACK}_user_streaks SELECT ${uuid('number')}.2, 5, 1, 0 FROM numbers(${ROWS})`,
    );
    await warehouse.command(`INSERT INTO fact_activity (pack, source_key, user_id, ts, day, event_type)
      SELECT '${PACK}', toString(number), ${uuid('number')}.2, toDateTime64('2026-10-01 12:00:00', 3, 'UTC'), toDate('2026-10-01'), 'lesson_complete'
      FROM numbers(${ROWS})`);
    await warehouse.command(`INSERT INTO dim_users (user_id, pack, timezone)
      SELECT ${uuid('number')}.2, '${PACK}', ['Asia/Ho_Chi_Minh', 'America/New_York', 'Europe/Berlin', 'UTC'][1 + number % 4] FROM numbers(${ROWS})`);
    const streaks = learningTargets({
      pack: PACK,
      source: PACK,
      postgres: client,
      asOf: new Date('2026-11-01T00:00:00Z'),
    })[0];
    if (!streaks) throw new Error('no user_streaks target');
    let lapsed = 0;
    const writeback = await measure(async () => {
      const report = await runTarget(warehouse, streaks, { pack: PACK }, { dryRun: false });
      lapsed = report.updated;
    }, postmaster);
    const copyAfter = await copyInto('user_streaks_copy_after');
    const copy = mean(copyBefore, copyAfter);
    // The floor: Postgres alone doing the same work, one UPDATE of the same rows' same columns
    // (the COPY's table, vacuumed as user_streaks was), with no warehouse, time zones or batches.
    await client.query('VACUUM ANALYZE user_streaks_copy');
    const floor = await measure(
      () =>
        client.query(
          'UPDATE user_streaks_copy SET current_streak = 0, updated_at = now() WHERE current_streak <> 0',
        ),
      postmaster,
    );
    line(
      'COPY into an empty table (baseline; before, after)',
      `${show(copyBefore, ROWS)}; ${show(copyAfter, ROWS)}`,
    );
    line(
      `write-back: ${lapsed.toLocaleString('en-US')} lapsed streaks (query, time zones, UPDATE)`,
      show(writeback, lapsed),
    );
    line(
      '  write-back / COPY rate (target ≥ 0.5)',
      ratios((lapsed / writeback.wall) * (copy.wall / ROWS), (lapsed / writeback.cpu) * (copy.cpu / ROWS)),
    );
    line('floor: one UPDATE of as many rows, Postgres alone', show(floor, ROWS));
    line("  write-back / the floor's time", ratios(writeback.wall / floor.wall, writeback.cpu / floor.cpu));
  } finally {
    await client.end().catch(() => undefined);
    await postgres.stop();
  }
}

async function schedulerSection(warehouse: Warehouse, dir: string): Promise<void> {
  const { runs, msPerRun, floorMs, roundTrips } = await schedulerOverhead(warehouse, dir);
  console.log('\nScheduler');
  line(
    `overhead per job run (${runs} runs of a job doing nothing)`,
    `${msPerRun.toFixed(1)} ms (target < 50)`,
  );
  line('  floor: one run-history read and one write', `${floorMs.toFixed(1)} ms`);
  line('  warehouse round trips per run', String(roundTrips));
}

/** A process's peak resident memory, as Linux reports it. */
async function peakMemory(pid: number): Promise<string | undefined> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  return /VmHWM:\s*(.+)/.exec(status)?.[1]?.trim();
}

/**
 * Scheduler overhead: a job that does nothing, run through the lease and the run history, each
 * run a second after the previous one; next to the floor, one run-history row written and read
 * back with the same warehouse.
 */
async function schedulerOverhead(
  warehouse: Warehouse,
  dir: string,
  runs = 100,
): Promise<{ runs: number; msPerRun: number; floorMs: number; roundTrips: number }> {
  const kinds = new JobKindRegistry().register(
    defineJobKind({ name: 'noop', options: z.object({}), run: async () => ({ rowsAffected: 0 }) }),
  );
  const config = parsePipelineConfig({
    sources: [{ kind: 'postgres', name: 'unused', url: 'postgres://u@127.0.0.1:1/x' }],
    warehouse: { dir: join(dir, 'warehouse') },
    jobs: [{ name: 'noop', cron: '* * * * * *', kind: 'noop', catchUp: 'none' }],
  });
  const clock = { now: new Date('2026-11-01T00:00:00Z') };
  // Round trips to the warehouse: the part of the overhead the load on the machine does not set.
  let roundTrips = 0;
  const counted = new Proxy(warehouse, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        if (['query', 'command', 'insert', 'insertLines'].includes(String(property))) roundTrips++;
        return (value as (...args: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  const store = new WarehouseRunStore(counted);
  const scheduler = new Scheduler({
    jobs: resolveJobs(config.jobs, kinds),
    store,
    lease: new FileLease(join(dir, 'locks'), { tracksHolders: true }),
    context: { warehouse: counted, config, log: () => undefined },
    now: () => clock.now,
  });
  const job = scheduler.jobs[0];
  if (!job) throw new Error('no job');
  const time = await seconds(async () => {
    for (let index = 0; index < runs; index++) {
      clock.now = new Date(clock.now.getTime() + 1000);
      await scheduler.reconcile(job, { current: true });
    }
  });
  const tripsPerRun = roundTrips / runs;
  const floor = await seconds(async () => {
    for (let index = 0; index < runs; index++) {
      const run = (await store.history('noop', 1))[0];
      if (run) await store.save({ ...run, runId: `floor-${index}`, job: 'floor' });
    }
  });
  return { runs, msPerRun: (time / runs) * 1000, floorMs: (floor / runs) * 1000, roundTrips: tripsPerRun };
}

await main();
