// CDC benchmark: 1M changes (70% insert, 25% update, 5% delete) on the learning pack's
// user_activity_results, streamed by the capture process into the chDB mirror, against Postgres'
// own pgoutput decoding of the same changes (pg_logical_slot_get_binary_changes) in the same run.
// Also the initial snapshot of a 1M-row table, and the capture process' peak RSS.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { getPack } from '../packs/index.ts';
import { startEmbeddedPostgres } from '../stack/index.ts';

const CHANGES = Number(process.env.BENCH_CHANGES ?? 1_000_000);
const SNAPSHOT_ROWS = Number(process.env.BENCH_SNAPSHOT_ROWS ?? 1_000_000);
const PER_TRANSACTION = 1000;

interface CaptureReport {
  snapshotRows: number;
  streamedChanges: number;
  totalSeconds: number;
  snapshotSeconds: number;
  peakRssMb: number;
  floorRssMb: number;
  cpuSeconds: number;
}

const uuidOf = (n: number) => {
  const hex = createHash('md5').update(String(n)).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
};

function runCapture(url: string, sourceName: string, warehouseDir: string): CaptureReport {
  const profile = process.env.BENCH_PROFILE_DIR
    ? ['--cpu-prof', '--cpu-prof-dir', process.env.BENCH_PROFILE_DIR]
    : [];
  const output = execFileSync(
    process.execPath,
    [
      ...profile,
      '--import',
      'tsx',
      new URL('./capture-process.ts', import.meta.url).pathname,
      url,
      sourceName,
      warehouseDir,
    ],
    {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  return JSON.parse(output.trim().split('\n').at(-1) ?? '{}') as CaptureReport;
}

async function prepareCatalog(client: pg.Client): Promise<void> {
  await client.query(getPack('learning').postgresSchemaSql);
  await client.query(
    `INSERT INTO lessons (id, title) SELECT md5('lesson' || g)::uuid, 'Lesson ' || g FROM generate_series(1, 20) g`,
  );
  await client.query(
    `INSERT INTO lesson_activities (id, lesson_id, activity_type, content)
     SELECT md5('activity' || g)::uuid, md5('lesson' || (g % 20 + 1))::uuid, 'quiz', '{"q": 1}' FROM generate_series(1, 100) g`,
  );
}

const INSERT_ROWS = `
  INSERT INTO user_activity_results (id, user_id, lesson_id, activity_id, attempt_number, user_answers, correct_answers, score, max_score, time_taken, is_passed, feedback, completed_at, created_at)
  SELECT md5(g::text)::uuid, md5('user' || (g % 5000))::uuid, md5('lesson' || (g % 20 + 1))::uuid, md5('activity' || (g % 100 + 1))::uuid,
         1 + g % 3, jsonb_build_object('answer', g % 4), '{"answer": 2}'::jsonb, g % 11, 10, 20 + g % 300, g % 3 > 0,
         'Bài làm tốt lắm ' || g, timestamp '2026-10-01' + g * interval '1 second', timestamp '2026-10-01' + g * interval '1 second'
  FROM generate_series($1::int, $2::int) g`;

/** 70% inserts, 25% updates, 5% deletes, in transactions of 1000 changes. */
async function writeWorkload(client: pg.Client, changes: number): Promise<void> {
  let inserted = 0;
  let deleted = 0;
  let seed = 1;
  const random = () => (seed = (seed * 48271) % 2147483647) / 2147483647;
  for (let done = 0; done < changes; done += PER_TRANSACTION) {
    await client.query('BEGIN');
    await client.query(INSERT_ROWS, [inserted + 1, inserted + 700]);
    inserted += 700;
    const live = () => deleted + 1 + Math.floor(random() * (inserted - deleted));
    const updates = new Set<number>();
    while (updates.size < 250) updates.add(live());
    await client.query(
      'UPDATE user_activity_results SET score = score + 1, feedback = feedback || $2, is_passed = NOT is_passed WHERE id = ANY($1::uuid[])',
      [[...updates].map(uuidOf), ' ✓'],
    );
    const deletes = Array.from({ length: 50 }, (_, index) => deleted + 1 + index).filter(
      (n) => !updates.has(n),
    );
    await client.query('DELETE FROM user_activity_results WHERE id = ANY($1::uuid[])', [deletes.map(uuidOf)]);
    // Keep the change count exact when an id was both updated and due for deletion.
    if (deletes.length < 50)
      await client.query('DELETE FROM user_activity_results WHERE id = ANY($1::uuid[])', [
        [...updates].slice(0, 50 - deletes.length).map(uuidOf),
      ]);
    deleted += 50;
    await client.query('COMMIT');
  }
}

const format = (value: number) => Math.round(value).toLocaleString('en-US');

const root = await mkdtemp(join(tmpdir(), 'tributary-bench-'));
const postgres = await startEmbeddedPostgres({ dataDir: join(root, 'pg') });
try {
  // Streaming: capture creates its slot on the empty table, the workload is written, then both the
  // baseline slot and the capture decode the same 1M changes.
  const streamUrl = await postgres.createDatabase('bench');
  const client = new pg.Client({ connectionString: streamUrl });
  await client.connect();
  await prepareCatalog(client);
  runCapture(streamUrl, 'bench', join(root, 'warehouse-stream'));
  await client.query("SELECT pg_create_logical_replication_slot('bench_baseline', 'pgoutput')");
  console.error(`writing ${format(CHANGES)} changes…`);
  await writeWorkload(client, CHANGES);

  let started = performance.now();
  const decoded = await client.query<{ changes: string }>(
    `SELECT count(*) FILTER (WHERE get_byte(data, 0) IN (73, 85, 68)) AS changes
     FROM pg_logical_slot_get_binary_changes('bench_baseline', NULL, NULL, 'proto_version', '1', 'publication_names', 'tributary_bench')`,
  );
  const baselineSeconds = (performance.now() - started) / 1000;
  const baselineChanges = Number(decoded.rows[0]?.changes ?? 0);
  await client.query("SELECT pg_drop_replication_slot('bench_baseline')");

  const stream = runCapture(streamUrl, 'bench', join(root, 'warehouse-stream'));
  await client.end();

  // Snapshot: a fresh database holding 1M rows, captured from scratch.
  const snapshotUrl = await postgres.createDatabase('bench_snapshot');
  const snapshotClient = new pg.Client({ connectionString: snapshotUrl });
  await snapshotClient.connect();
  await prepareCatalog(snapshotClient);
  for (let from = 1; from <= SNAPSHOT_ROWS; from += 100_000)
    await snapshotClient.query(INSERT_ROWS, [from, Math.min(SNAPSHOT_ROWS, from + 99_999)]);
  started = performance.now();
  const copied = await snapshotClient.query(
    'SELECT count(*) FROM (SELECT * FROM user_activity_results) AS rows_read',
  );
  const scanSeconds = (performance.now() - started) / 1000;
  await snapshotClient.end();
  const snapshot = runCapture(snapshotUrl, 'snap', join(root, 'warehouse-snapshot'));

  const baselineRate = baselineChanges / baselineSeconds;
  const streamRate = stream.streamedChanges / stream.totalSeconds;
  const snapshotRate = snapshot.snapshotRows / snapshot.snapshotSeconds;
  console.log(`
CDC benchmark (${format(CHANGES)} changes: 70% insert, 25% update, 5% delete; ${format(PER_TRANSACTION)} per transaction)
  baseline  Postgres pgoutput decode (pg_logical_slot_get_binary_changes)  ${format(baselineChanges)} changes in ${baselineSeconds.toFixed(2)} s  = ${format(baselineRate)} changes/s
  capture   commit → visible in the chDB mirror                             ${format(stream.streamedChanges)} changes in ${stream.totalSeconds.toFixed(2)} s  = ${format(streamRate)} changes/s
  ratio     capture / baseline                                              ${(streamRate / baselineRate).toFixed(2)}   (target ≥ 0.55)
  snapshot  ${format(snapshot.snapshotRows)} rows in ${snapshot.snapshotSeconds.toFixed(2)} s = ${format(snapshotRate)} rows/s   (Postgres reads the table in ${scanSeconds.toFixed(2)} s: ${format(Number(copied.rows[0]?.count ?? 0) / scanSeconds)} rows/s)
  peak RSS  streaming ${stream.peakRssMb.toFixed(0)} MB, snapshot ${snapshot.peakRssMb.toFixed(0)} MB   (target < 300 MB; the process holds ${stream.floorRssMb.toFixed(0)} MB with chDB open and nothing captured)
  CPU       capture process used ${stream.cpuSeconds.toFixed(1)} s of CPU streaming (${(stream.cpuSeconds / stream.totalSeconds).toFixed(2)} cores), ${snapshot.cpuSeconds.toFixed(1)} s snapshotting`);
} finally {
  await postgres.stop();
  await rm(root, { recursive: true, force: true });
}
