// Batch limits against memory: the same streamed changes captured straight into chDB with the
// default batch limits (BATCH_DEFAULTS) and with smaller ones, in one run, reporting each capture's
// rate and peak RSS against its idle floor (Node, the modules and chDB open). Each setting runs
// twice, in the order A B C … C B A, so a drift in the machine's load falls on every setting alike.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BATCH_DEFAULTS } from '../ingest/landing/follow-stream.ts';
import { startEmbeddedPostgres } from '../stack/index.ts';
import { openWorkloadDatabase, writeWorkload } from './activity-workload.ts';
import { reportOf, rssByTenth, runChild } from './child.ts';

const CHANGES = Number(process.env.BENCH_CHANGES ?? 100_000);
const MB = 1024 * 1024;
/** Rows and bytes scaled together: the defaults divided by each of BENCH_DIVISORS (default 1,2,4,8). */
const SETTINGS = (process.env.BENCH_DIVISORS ?? '1,2,4,8')
  .split(',')
  .map(Number)
  .map((divisor) => ({
    rows: BATCH_DEFAULTS.rows / divisor,
    bytes: BATCH_DEFAULTS.bytes / divisor,
  }));

interface CaptureReport {
  streamedChanges: number;
  totalSeconds: number;
  floorRssMb: number;
}

const root = await mkdtemp(join(tmpdir(), 'tributary-bench-batch-'));
const postgres = await startEmbeddedPostgres({ dataDir: join(root, 'pg') });
try {
  const { url, client } = await openWorkloadDatabase(postgres, 'bench');
  const order = [...SETTINGS.keys(), ...[...SETTINGS.keys()].reverse()];
  const runs = order.map((setting, index) => ({
    setting,
    source: `b${index}`,
    warehouse: join(root, `w${index}`),
  }));
  const capture = (source: string, warehouse: string, env: Record<string, string> = {}) =>
    runChild(
      ['--import', 'tsx', new URL('./capture-process.ts', import.meta.url).pathname, url, source, warehouse],
      { env },
    );
  // Every capture has its slot before the workload is written: all carry the same changes.
  for (const run of runs) await capture(run.source, run.warehouse);
  console.error(`writing ${CHANGES.toLocaleString('en-US')} changes…`);
  await writeWorkload(client, CHANGES);
  await client.end();
  const figures = SETTINGS.map(() => ({
    rates: [] as number[],
    peaks: [] as number[],
    floors: [] as number[],
    tenths: [] as string[],
  }));
  for (const run of runs) {
    const { rows, bytes } = SETTINGS[run.setting] as { rows: number; bytes: number };
    const child = await capture(run.source, run.warehouse, {
      BENCH_BATCH_ROWS: String(rows),
      BENCH_BATCH_BYTES: String(bytes),
    });
    const report = reportOf<CaptureReport>(child);
    const figure = figures[run.setting] as (typeof figures)[number];
    figure.rates.push(report.streamedChanges / report.totalSeconds);
    figure.peaks.push(child.peakRssMb);
    figure.floors.push(report.floorRssMb);
    figure.tenths.push(
      rssByTenth(child.rssSamplesMb)
        .map((mb) => mb.toFixed(0))
        .join(' '),
    );
  }
  const mean = (values: number[]) => values.reduce((sum, value) => sum + value, 0) / values.length;
  const baseRate = mean(figures[0]?.rates ?? []);
  console.log(
    `\nBatch limits (${CHANGES.toLocaleString('en-US')} streamed changes each, two runs per setting)`,
  );
  console.log('  rows     MB    changes/s (runs)          ratio   peak RSS (runs)   floor   peak − floor');
  SETTINGS.forEach(({ rows, bytes }, index) => {
    const { rates, peaks, floors } = figures[index] as (typeof figures)[number];
    console.log(
      `  ${String(rows).padStart(6)} ${(bytes / MB).toFixed(0).padStart(4)}   ${Math.round(mean(rates)).toLocaleString('en-US').padStart(7)} (${rates.map((rate) => Math.round(rate)).join(', ')})`.padEnd(
        48,
      ) +
        `${(mean(rates) / baseRate).toFixed(2)}    ${Math.round(Math.max(...peaks))} MB (${peaks.map(Math.round).join(', ')})   ${Math.round(mean(floors))} MB   +${Math.round(Math.max(...peaks) - mean(floors))} MB`,
    );
  });
  figures.forEach((figure, index) =>
    console.log(`  RSS by tenth, ${SETTINGS[index]?.rows} rows: ${figure.tenths.join(' | ')} MB`),
  );
} finally {
  await postgres.stop();
  await rm(root, { recursive: true, force: true });
}
