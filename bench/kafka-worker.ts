// The Kafka worker alone over a backlog, against the direct capture of the same changes, in one run:
// the native capture fills a topic with BENCH_CHANGES changes (default 100k), then the direct capture
// (straight into chDB, the rate a worker is held to) and the worker over the whole topic alternate,
// each on its own slot or group. `BENCH_BASELINE_TREE=DIR` runs another checkout's worker too (the
// code before a change), alternated with this one's (A B B A); `BENCH_PROFILE_DIR=DIR` writes a V8
// CPU profile of each worker. Figures: changes/s (the engine open → last landing, as bench:kafka
// times both), and CPU seconds of each process (every thread), the figure other load moves least.
// `BENCH_BACKLOG=N` grows the topic to N messages with copies of its own before the workers read it
// (bench:kafka's backlog run, alone and alternated), and `BENCH_DIRECT=0` leaves the direct capture
// out; each worker's RSS is printed at each tenth of its run.
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmbeddedPostgres, startKafka } from '../stack/index.ts';
import { openWorkloadDatabase, writeWorkload } from './activity-workload.ts';
import { growTopic, storedMessages } from './backlog.ts';
import { reportOf, rssByTenth, runChild, type WorkerReport } from './child.ts';

const CHANGES = Number(process.env.BENCH_CHANGES ?? 100_000);
const BASELINE_TREE = process.env.BENCH_BASELINE_TREE;
const PROFILE_DIR = process.env.BENCH_PROFILE_DIR;
const BACKLOG = Number(process.env.BENCH_BACKLOG ?? 0);
const DIRECT = process.env.BENCH_DIRECT !== '0';
const CLI = new URL('../bin/tributary.js', import.meta.url).pathname;
const here = new URL('..', import.meta.url).pathname;

interface CaptureReport {
  streamedChanges: number;
  totalSeconds: number;
  cpuSeconds: number;
}

interface Run {
  label: string;
  tree: string;
}

const runs: Run[] = BASELINE_TREE
  ? [
      { label: 'baseline (1)', tree: BASELINE_TREE },
      { label: 'this tree (1)', tree: here },
      { label: 'this tree (2)', tree: here },
      { label: 'baseline (2)', tree: BASELINE_TREE },
    ]
  : [{ label: 'this tree', tree: here }];

const format = (value: number) => Math.round(value).toLocaleString('en-US');

const root = await mkdtemp(join(tmpdir(), 'tributary-bench-kafka-worker-'));
const postgres = await startEmbeddedPostgres({ dataDir: join(root, 'pg') });
const kafka = await startKafka({ dataDir: join(root, 'kafka') });
const brokers = kafka.bootstrapServers;
try {
  const { url, client } = await openWorkloadDatabase(postgres, 'bench');
  const direct = (index: number) =>
    runChild([
      '--import',
      'tsx',
      join(here, 'bench/capture-process.ts'),
      url,
      `direct${index}`,
      join(root, `warehouse-direct${index}`),
    ]);
  const capture = [
    'capture',
    '--source',
    url,
    '--source-name',
    'nat',
    '--tables',
    'public.user_activity_results',
  ];
  const toKafka = [CLI, ...capture, '--to', 'kafka', '--brokers', brokers, '--until-caught-up'];
  // Every capture's slot exists before the workload is written: all carry the same changes.
  await runChild(toKafka);
  if (DIRECT) for (const [index] of runs.entries()) await direct(index);
  console.error(`writing ${format(CHANGES)} changes…`);
  await writeWorkload(client, CHANGES);
  await client.end();
  await runChild(toKafka);
  const topic = 'nat.public.user_activity_results';
  const held = await storedMessages(brokers, topic);
  if (BACKLOG > held) {
    console.error(`growing ${topic} to ${format(BACKLOG)} messages…`);
    await growTopic(brokers, topic, held, BACKLOG);
  }

  const lines: string[] = [];
  for (const [index, run] of runs.entries()) {
    const load = loadavg()[0] ?? 0;
    const directReport = DIRECT ? reportOf<CaptureReport>(await direct(index)) : undefined;
    const directRate = directReport ? directReport.streamedChanges / directReport.totalSeconds : Number.NaN;
    const worker = await runChild([
      ...(PROFILE_DIR ? ['--cpu-prof', '--cpu-prof-dir', join(PROFILE_DIR, `worker${index}`)] : []),
      '--import',
      'tsx',
      join(run.tree, 'bench/worker-process.ts'),
      brokers,
      `backlog${index}`,
      '^nat\\.public\\.',
      join(root, `warehouse-worker${index}`),
      '3',
    ]);
    const report = reportOf<WorkerReport>(worker);
    const rate = report.messages / ((report.lastLandedAt - report.readyAt) / 1000);
    lines.push(
      `  ${run.label.padEnd(14)} load ${load.toFixed(1)}: worker ${format(report.messages)} messages: ${format(rate)} changes/s, ` +
        `${report.cpuSeconds.toFixed(2)} CPU-s, peak RSS ${worker.peakRssMb.toFixed(0)} MB ` +
        `(floor ${report.floorRssMb.toFixed(0)} MB, +${(worker.peakRssMb - report.floorRssMb).toFixed(0)})` +
        (directReport
          ? ` | direct ${format(directRate)} changes/s, ${directReport.cpuSeconds.toFixed(2)} CPU-s | ` +
            `worker/direct ${(rate / directRate).toFixed(2)}`
          : ''),
      `    RSS at each tenth: ${rssByTenth(worker.rssSamplesMb)
        .map((mb) => mb.toFixed(0))
        .join(', ')} MB`,
    );
    console.error(lines.slice(-2).join('\n'));
  }
  console.log(
    `\nKafka worker over a backlog of ${format(Math.max(BACKLOG, held))} messages (${format(CHANGES)} changes)${DIRECT ? ', against the direct capture' : ''}:\n${lines.join('\n')}`,
  );
} finally {
  await kafka.stop();
  await postgres.stop();
  await rm(root, { recursive: true, force: true });
}
