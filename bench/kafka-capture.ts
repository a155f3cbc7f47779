// The native capture onto Kafka alone, against the same capture straight into chDB, over the same
// WAL in the same run: every capture's slot exists before the workload is written, so each decodes
// the very same changes. The Kafka path feeds bench:kafka's live run (b) and freshness run; this
// shows what the capture → Kafka sink costs without a worker or Debezium beside it.
// `BENCH_BASELINE_TREE=dir` also runs another checkout's capture process (the code before a
// change), alternated with this one's (A B B A), each on slots of its own.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmbeddedPostgres, startKafka } from '../stack/index.ts';
import { openWorkloadDatabase, writeWorkload } from './activity-workload.ts';
import { reportOf, runChild } from './child.ts';

const CHANGES = Number(process.env.BENCH_CHANGES ?? 100_000);
const BASELINE_TREE = process.env.BENCH_BASELINE_TREE;

interface CaptureReport {
  streamedChanges: number;
  totalSeconds: number;
  /** From the first write's start to the last's end: the streaming, without start and close. */
  writingSeconds: number;
  writeSeconds: number;
  checkpointSeconds: number;
  cpuSeconds: number;
}

interface Run {
  label: string;
  tree: string;
  source: string;
  to: 'kafka' | 'chdb';
}

const here = new URL('..', import.meta.url).pathname;
const runs: Run[] = [{ label: 'chDB', tree: here, source: 'direct', to: 'chdb' }];
if (BASELINE_TREE)
  runs.push(
    { label: 'Kafka, baseline (1)', tree: BASELINE_TREE, source: 'base1', to: 'kafka' },
    { label: 'Kafka (1)', tree: here, source: 'kafka1', to: 'kafka' },
    { label: 'Kafka (2)', tree: here, source: 'kafka2', to: 'kafka' },
    { label: 'Kafka, baseline (2)', tree: BASELINE_TREE, source: 'base2', to: 'kafka' },
  );
else runs.push({ label: 'Kafka', tree: here, source: 'kafka', to: 'kafka' });

const format = (value: number) => Math.round(value).toLocaleString('en-US');

const root = await mkdtemp(join(tmpdir(), 'tributary-bench-kafka-capture-'));
const postgres = await startEmbeddedPostgres({ dataDir: join(root, 'pg') });
const kafka = await startKafka({ dataDir: join(root, 'kafka') });
try {
  const { url, client } = await openWorkloadDatabase(postgres, 'bench');
  const capture = (run: Run, profileDir?: string) =>
    runChild([
      ...(profileDir ? ['--cpu-prof', '--cpu-prof-dir', profileDir] : []),
      '--import',
      'tsx',
      join(run.tree, 'bench/capture-process.ts'),
      url,
      run.source,
      run.to === 'kafka' ? `kafka://${kafka.bootstrapServers}` : join(root, `warehouse-${run.source}`),
    ]);
  // Each capture's slot, on the empty table.
  for (const run of runs) await capture(run);
  console.error(`writing ${format(CHANGES)} changes…`);
  await writeWorkload(client, CHANGES);
  await client.end();
  const lines: string[] = [];
  for (const run of runs) {
    const child = await capture(
      run,
      process.env.BENCH_PROFILE_DIR && join(process.env.BENCH_PROFILE_DIR, run.source),
    );
    const report = reportOf<CaptureReport>(child);
    const rate = report.streamedChanges / report.totalSeconds;
    const line =
      `  ${run.label.padEnd(22)} ${format(report.streamedChanges)} changes in ${report.totalSeconds.toFixed(2)} s = ` +
      `${format(rate)} changes/s; first write → last ${report.writingSeconds.toFixed(2)} s = ` +
      `${format(report.streamedChanges / report.writingSeconds)} changes/s; in writes ${report.writeSeconds.toFixed(2)} s, ` +
      `checkpoints ${report.checkpointSeconds.toFixed(2)} s; CPU ${report.cpuSeconds.toFixed(1)} s; peak RSS ${child.peakRssMb.toFixed(0)} MB`;
    console.error(line);
    lines.push(line);
  }
  console.log(
    `\nCapture → Kafka against capture → chDB (${format(CHANGES)} changes, the same WAL)\n${lines.join('\n')}`,
  );
} finally {
  await kafka.stop();
  await postgres.stop();
  await rm(root, { recursive: true, force: true });
}
