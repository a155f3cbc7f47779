// Soak benchmark: native capture → Kafka → worker → chDB under a steady 5k changes/s for
// BENCH_SOAK_MINUTES (default 30). The worker's and the capture's RSS are sampled every 10 s and the
// commit → landed lag every second; it prints whether RSS has a trend (least-squares slope over the
// run after its first tenth) and the lag's p50/p99.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmbeddedPostgres, startKafka } from '../stack/index.ts';
import { openWorkloadDatabase } from './activity-workload.ts';
import { reportOf, runChild, type WorkerReport } from './child.ts';

const MINUTES = Number(process.env.BENCH_SOAK_MINUTES ?? 30);
const RATE = Number(process.env.BENCH_SOAK_RATE ?? 5000);
const CLI = new URL('../bin/tributary.js', import.meta.url).pathname;
const SAMPLE_MS = 10_000;

/** Least-squares slope of samples taken every SAMPLE_MS, in MB per hour, over all but the first tenth. */
function trend(samples: number[]): { slopeMbPerHour: number; medianMb: number } {
  const kept = samples.slice(Math.floor(samples.length / 10));
  const hours = kept.map((_, index) => (index * SAMPLE_MS) / 3_600_000);
  const meanX = hours.reduce((sum, x) => sum + x, 0) / kept.length;
  const meanY = kept.reduce((sum, y) => sum + y, 0) / kept.length;
  let covariance = 0;
  let variance = 0;
  kept.forEach((y, index) => {
    const x = hours[index] ?? 0;
    covariance += (x - meanX) * (y - meanY);
    variance += (x - meanX) ** 2;
  });
  const sorted = [...kept].sort((a, b) => a - b);
  return {
    slopeMbPerHour: variance === 0 ? 0 : covariance / variance,
    medianMb: sorted[Math.floor(sorted.length / 2)] ?? 0,
  };
}

function quantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
}

const root = await mkdtemp(join(tmpdir(), 'tributary-bench-soak-'));
const postgres = await startEmbeddedPostgres({ dataDir: join(root, 'pg') });
const kafka = await startKafka({ dataDir: join(root, 'kafka') });
try {
  const { url, client } = await openWorkloadDatabase(postgres, 'soak');
  const capture = (...extra: string[]) => [
    CLI,
    'capture',
    '--source',
    url,
    '--source-name',
    'soak',
    '--tables',
    'public.user_activity_results',
    '--to',
    'kafka',
    '--brokers',
    kafka.bootstrapServers,
    ...extra,
  ];
  await runChild(capture('--until-caught-up'));
  let stop!: () => void;
  const stopped = new Promise<void>((resolve) => (stop = resolve));
  const lagBySecond = new Map<number, number>();
  const capturing = runChild(capture('--batch-delay-ms', '50'), {
    signalAfter: stopped,
    sampleMs: SAMPLE_MS,
  });
  const working = runChild(
    [
      '--import',
      'tsx',
      new URL('./worker-process.ts', import.meta.url).pathname,
      kafka.bootstrapServers,
      'soak',
      '^soak\\.public\\.',
      join(root, 'warehouse'),
    ],
    {
      signalAfter: stopped,
      sampleMs: SAMPLE_MS,
      env: { BENCH_LAG_LINES: '1' },
      onLine: (line) => {
        if (!line.startsWith('{"lagMs"')) return;
        const second = Math.floor(Date.now() / 1000);
        const { lagMs } = JSON.parse(line) as { lagMs: number };
        lagBySecond.set(second, Math.max(lagBySecond.get(second) ?? 0, lagMs));
      },
    },
  );
  console.error(`writing ${RATE} changes/s for ${MINUTES} minute(s)…`);
  const started = Date.now();
  let written = 0;
  let nextId = 1;
  while (Date.now() - started < MINUTES * 60_000) {
    const due = Math.floor(((Date.now() - started) / 1000) * RATE);
    if (written >= due) {
      await new Promise((resolve) => setTimeout(resolve, 5));
      continue;
    }
    const count = Math.min(1000, due - written);
    const inserts = Math.ceil(count * 0.75);
    await client.query('BEGIN');
    await client.query(
      `INSERT INTO user_activity_results (id, user_id, score, feedback, completed_at, created_at)
       SELECT md5('soak' || g)::uuid, md5('user' || (g % 5000))::uuid, g % 11, 'soak', clock_timestamp(), clock_timestamp()
       FROM generate_series($1::int, $2::int) AS g`,
      [nextId, nextId + inserts - 1],
    );
    await client.query(
      `UPDATE user_activity_results SET score = score + 1
       WHERE id IN (SELECT md5('soak' || g)::uuid FROM generate_series($1::int, $2::int) AS g)`,
      [Math.max(1, nextId - 5000), Math.max(1, nextId - 5000) + (count - inserts) - 1],
    );
    await client.query('COMMIT');
    nextId += inserts;
    written += count;
  }
  await new Promise((resolve) => setTimeout(resolve, 10_000));
  stop();
  const [captureRun, workerRun] = await Promise.all([capturing, working]);
  await client.end();
  const lags = [...lagBySecond.values()];
  const landed = reportOf<WorkerReport>(workerRun).messages;
  const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
  const line = (name: string, samples: number[]) => {
    const { slopeMbPerHour, medianMb } = trend(samples);
    const drift = slopeMbPerHour * (MINUTES / 60);
    const verdict =
      Math.abs(drift) < medianMb * 0.05
        ? 'flat (drift under 5% of the median over the run)'
        : `${drift > 0 ? 'RISING' : 'falling'} (${drift.toFixed(0)} MB over the run)`;
    return `  ${name} RSS: median ${medianMb.toFixed(0)} MB, peak ${Math.max(...samples).toFixed(0)} MB, trend ${slopeMbPerHour.toFixed(1)} MB/h → ${verdict}`;
  };
  // The writer's rows and the worker's messages differ by Kafka's few heartbeat/marker messages at most;
  // far fewer landed means the path fell behind the rate and the lag figures measure a growing backlog.
  const pace =
    landed >= written * 0.99
      ? 'kept pace'
      : `FELL BEHIND: ${(landed / written).toFixed(2)} of the changes landed by the end`;
  console.log(`
Soak (${MINUTES} min at ${RATE} changes/s, ${written.toLocaleString('en-US')} changes written, ${landed.toLocaleString('en-US')} landed: ${pace}; native capture → Kafka → worker → chDB)
  lag commit → landed, per second's worst: p50 ${seconds(quantile(lags, 0.5))}, p99 ${seconds(quantile(lags, 0.99))}, max ${seconds(Math.max(...lags))} over ${lags.length} s with landings
${line('worker', workerRun.rssSamplesMb)}
${line('capture', captureRun.rssSamplesMb)}`);
} finally {
  await kafka.stop();
  await postgres.stop();
  await rm(root, { recursive: true, force: true });
}
