// CDC benchmark: 1M changes (70% insert, 25% update, 5% delete) on the learning pack's
// user_activity_results, streamed by the capture process into the chDB mirror, against Postgres'
// own pgoutput decoding of the same changes (pg_logical_slot_get_binary_changes) in the same run.
// Also the initial snapshot of a 1M-row table, and the capture process' peak RSS.
import { execFileSync } from 'node:child_process';
import { reportOf, rssByTenth, runChild } from './child.ts';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { BATCH_DEFAULTS } from '../ingest/landing/follow-stream.ts';
import { startEmbeddedPostgres } from '../stack/index.ts';
import { INSERT_ROWS, PER_TRANSACTION, openWorkloadDatabase, writeWorkload } from './activity-workload.ts';
import { prepareToastedTable, writeToastedWorkload } from './toasted-workload.ts';

const CHANGES = Number(process.env.BENCH_CHANGES ?? 1_000_000);
const SNAPSHOT_ROWS = Number(process.env.BENCH_SNAPSHOT_ROWS ?? 1_000_000);

interface CaptureReport {
  snapshotRows: number;
  streamedChanges: number;
  totalSeconds: number;
  snapshotSeconds: number;
  writeSeconds: number;
  checkpointSeconds: number;
  floorRssMb: number;
  cpuSeconds: number;
}

type CaptureRun = CaptureReport & { peakRssMb: number; rssByTenthMb: number[] };

async function runCapture(url: string, sourceName: string, warehouseDir: string): Promise<CaptureRun> {
  const profile = process.env.BENCH_PROFILE_DIR
    ? ['--cpu-prof', '--cpu-prof-dir', process.env.BENCH_PROFILE_DIR]
    : [];
  const run = await runChild([
    ...profile,
    '--import',
    'tsx',
    new URL('./capture-process.ts', import.meta.url).pathname,
    url,
    sourceName,
    warehouseDir,
  ]);
  return {
    ...reportOf<CaptureReport>(run),
    peakRssMb: run.peakRssMb,
    rssByTenthMb: rssByTenth(run.rssSamplesMb),
  };
}

const format = (value: number) => Math.round(value).toLocaleString('en-US');

const root = await mkdtemp(join(tmpdir(), 'tributary-bench-'));
const postgres = await startEmbeddedPostgres({ dataDir: join(root, 'pg') });
try {
  // Streaming: capture creates its slot on the empty table, the workload is written, then both the
  // baseline slot and the capture decode the same 1M changes.
  const { url: streamUrl, client } = await openWorkloadDatabase(postgres, 'bench');
  await runCapture(streamUrl, 'bench', join(root, 'warehouse-stream'));
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

  const stream = await runCapture(streamUrl, 'bench', join(root, 'warehouse-stream'));
  await client.end();

  // The compound-key table with a TOASTed column half of the changes leave unchanged, captured the same way.
  const toastedUrl = await postgres.createDatabase('bench_toasted');
  const toastedClient = new pg.Client({ connectionString: toastedUrl });
  await toastedClient.connect();
  await prepareToastedTable(toastedClient);
  await runCapture(toastedUrl, 'toasted', join(root, 'warehouse-toasted'));
  console.error(`writing ${format(CHANGES)} changes to the TOASTed table…`);
  await writeToastedWorkload(toastedClient, CHANGES);
  await toastedClient.end();
  const toasted = await runCapture(toastedUrl, 'toasted', join(root, 'warehouse-toasted'));
  // The engine alone inserting as many rows of that shape, in batches of the capture's byte budget.
  const floor = JSON.parse(
    execFileSync(
      process.execPath,
      [
        '--import',
        'tsx',
        new URL('./toasted-floor-process.ts', import.meta.url).pathname,
        join(root, 'warehouse-floor'),
        String(toasted.streamedChanges),
        String(BATCH_DEFAULTS.bytes),
      ],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] },
    )
      .trim()
      .split('\n')
      .at(-1) ?? '{}',
  ) as { rows: number; insertSeconds: number };

  // Snapshot: a fresh database holding 1M rows, captured from scratch.
  const { url: snapshotUrl, client: snapshotClient } = await openWorkloadDatabase(postgres, 'bench_snapshot');
  for (let from = 1; from <= SNAPSHOT_ROWS; from += 100_000)
    await snapshotClient.query(INSERT_ROWS, [from, Math.min(SNAPSHOT_ROWS, from + 99_999)]);
  started = performance.now();
  const copied = await snapshotClient.query(
    'SELECT count(*) FROM (SELECT * FROM user_activity_results) AS rows_read',
  );
  const scanSeconds = (performance.now() - started) / 1000;
  await snapshotClient.end();
  const snapshot = await runCapture(snapshotUrl, 'snap', join(root, 'warehouse-snapshot'));

  const baselineRate = baselineChanges / baselineSeconds;
  const streamRate = stream.streamedChanges / stream.totalSeconds;
  const toastedRate = toasted.streamedChanges / toasted.totalSeconds;
  const snapshotRate = snapshot.snapshotRows / snapshot.snapshotSeconds;
  console.log(`
CDC benchmark (${format(CHANGES)} changes: 70% insert, 25% update, 5% delete; ${format(PER_TRANSACTION)} per transaction)
  baseline  Postgres pgoutput decode (pg_logical_slot_get_binary_changes)  ${format(baselineChanges)} changes in ${baselineSeconds.toFixed(2)} s  = ${format(baselineRate)} changes/s
  capture   commit → visible in the chDB mirror                             ${format(stream.streamedChanges)} changes in ${stream.totalSeconds.toFixed(2)} s  = ${format(streamRate)} changes/s
  ratio     capture / baseline                                              ${(streamRate / baselineRate).toFixed(2)}   (target ≥ 0.55)
  TOASTed   (bigint, numeric, text) key, 4 kB text left unchanged by half    ${format(toasted.streamedChanges)} changes in ${toasted.totalSeconds.toFixed(2)} s  = ${format(toastedRate)} changes/s
  ratio     TOASTed table / activity table                                  ${(toastedRate / streamRate).toFixed(2)}   (target ≥ 0.7; peak RSS ${toasted.peakRssMb.toFixed(0)} MB)
  floor     chDB alone inserting ${format(floor.rows)} rows of that shape            ${floor.insertSeconds.toFixed(2)} s = ${format(floor.rows / floor.insertSeconds)} rows/s; capture / floor = ${(toastedRate / (floor.rows / floor.insertSeconds)).toFixed(2)}
  snapshot  ${format(snapshot.snapshotRows)} rows in ${snapshot.snapshotSeconds.toFixed(2)} s = ${format(snapshotRate)} rows/s   (Postgres reads the table in ${scanSeconds.toFixed(2)} s: ${format(Number(copied.rows[0]?.count ?? 0) / scanSeconds)} rows/s)
  landing  per change: warehouse insert ${((stream.writeSeconds / stream.streamedChanges) * 1e6).toFixed(1)} µs, write intents ${((stream.checkpointSeconds / stream.streamedChanges) * 1e6).toFixed(2)} µs (the runner's own bookkeeping; the rest is decoding and waiting for WAL)
  peak RSS  streaming ${stream.peakRssMb.toFixed(0)} MB, snapshot ${snapshot.peakRssMb.toFixed(0)} MB, TOASTed ${toasted.peakRssMb.toFixed(0)} MB; idle floor ${stream.floorRssMb.toFixed(0)} MB with chDB open (target: floor + 250 MB = ${(stream.floorRssMb + 250).toFixed(0)} MB)
  RSS at each tenth of the stream: ${stream.rssByTenthMb.map((mb) => mb.toFixed(0)).join(', ')} MB
  RSS at each tenth of the TOASTed stream: ${toasted.rssByTenthMb.map((mb) => mb.toFixed(0)).join(', ')} MB (its idle floor ${toasted.floorRssMb.toFixed(0)} MB)
  CPU       capture process used ${stream.cpuSeconds.toFixed(1)} s of CPU streaming (${(stream.cpuSeconds / stream.totalSeconds).toFixed(2)} cores), ${toasted.cpuSeconds.toFixed(1)} s on the TOASTed table, ${snapshot.cpuSeconds.toFixed(1)} s snapshotting`);
} finally {
  await postgres.stop();
  await rm(root, { recursive: true, force: true });
}
