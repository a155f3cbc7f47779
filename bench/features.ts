// Feature export benchmark on the bench:marts warehouse (10M facts, 1M users, 90 days; BENCH_FACTS
// scales it) plus the learning features' dimension sources with a history of versions: (a) every
// user × every feature as of the last instant to Parquet, (b) a spine of one row per user count at
// random instants to Parquet, (c) the Redis materialization of every user into a private
// redis-server, then read back in batches of random users as `features get` reads them. Each runs
// in its own process (bench/features-step.ts), reporting its time, its peak RSS above its idle
// footprint, and its ratio to a full scan of the facts measured in the same run.
// Content features as of the last instant (every item the facts name × its features) are timed too.
// (a) and (b) run fact by fact (the default) and from per-user daily tiles; (c) is also compared with
// its floors: the engine alone computing its vectors (nothing written), and the same hashes written
// by redis-cli --pipe alone, as (c) writes them (RESTORE of each hash's DUMP payload) and by HSET (as
// before Redis 7.0), with Redis' own CPU for each.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRedis } from '../stack/index.ts';
import { runChild } from './child.ts';
import { DAYS, FACTS, USERS } from './marts-data.ts';

interface StepResult {
  step: string;
  seconds: number;
  /** The step process's CPU time, the engine's threads included. */
  cpuSeconds: number;
  idleMb: number;
  peakMb: number;
  rows?: number;
  features?: number;
  /** Redis' own CPU time during the step (INFO cpu). */
  redisCpuSeconds?: number;
  /** Of redis-get: users a batch, and the batches' median and 95th percentile latency. */
  batchUsers?: number;
  batchP50Ms?: number;
  batchP95Ms?: number;
  /** Of (c): the engine writing the vectors out, then sending them to Redis. */
  encodeSeconds?: number;
  sendSeconds?: number;
}

const STEP = new URL('./features-step.ts', import.meta.url).pathname;
/** BENCH_FEATURES_TILES=0 leaves out the daily-tiles runs of (a) and (b), the slowest steps. */
const TILES = process.env.BENCH_FEATURES_TILES !== '0';

async function run(step: string, root: string, extra?: string): Promise<StepResult> {
  const { stdout } = await runChild(['--import', 'tsx', STEP, step, root, ...(extra ? [extra] : [])]);
  const line = stdout.trim().split('\n').at(-1) ?? '';
  return JSON.parse(line) as StepResult;
}

const root = await mkdtemp(join(tmpdir(), 'tributary-bench-features-'));
const redis = await startRedis({ dataDir: root });
try {
  console.error(
    `generating ${FACTS.toLocaleString('en-US')} facts, ${USERS.toLocaleString('en-US')} users, their dimension history and a spine…`,
  );
  const generated = await run('generate', root);
  console.error(`generated in ${generated.seconds.toFixed(1)} s`);
  const scans = [await run('scan', root)];
  const asOf = await run('asof', root);
  const spine = await run('spine', root);
  const content = await run('content', root);
  const asOfTiles = TILES ? await run('asof', root, 'tiles') : undefined;
  const spineTiles = TILES ? await run('spine', root, 'tiles') : undefined;
  const online = await run('redis', root, redis.url);
  const served = await run('redis-get', root, redis.url);
  const vectors = await run('vectors', root);
  const floor = await run('redis-restore-floor', root, redis.url);
  const hsetFloor = await run('redis-floor', root, redis.url);
  scans.push(await run('scan', root));
  const scan = scans.reduce((sum, result) => sum + result.seconds, 0) / scans.length;
  const rss = (result: StepResult) =>
    `peak RSS ${(result.peakMb - result.idleMb).toFixed(0).padStart(5)} MB above idle ${result.idleMb.toFixed(0)} MB`;
  const line = (label: string, result: StepResult, target: string, rate = '') =>
    console.log(
      `  ${label.padEnd(44)} ${result.seconds.toFixed(2).padStart(7)} s ${(result.seconds / scan).toFixed(1).padStart(6)} × scan   CPU ${result.cpuSeconds.toFixed(1)} s   ${rss(result)}   target ${target}${rate}`,
    );
  console.log(
    `features benchmark: ${FACTS.toLocaleString('en-US')} facts, ${USERS.toLocaleString('en-US')} users, ${DAYS} days, ${asOf.features} features (embedded ClickHouse)`,
  );
  console.log(
    `  ${'full scan of the facts (baseline)'.padEnd(44)} ${scan.toFixed(2).padStart(7)} s   (${scans.map((result) => result.seconds.toFixed(2)).join(', ')})`,
  );
  line(`(a) as-of, ${asOf.rows?.toLocaleString('en-US')} users to Parquet`, asOf, '< 10 s');
  line(`(b) spine of ${spine.rows?.toLocaleString('en-US')} rows to Parquet`, spine, '< 30 s');
  line(
    `content as-of, ${content.rows?.toLocaleString('en-US')} items × ${content.features} to Parquet`,
    content,
    'none (not in the issue)',
  );
  if (asOfTiles)
    line(
      `(a) with daily tiles (× fact by fact ${(asOfTiles.seconds / asOf.seconds).toFixed(2)})`,
      asOfTiles,
      '< 10 s',
    );
  if (spineTiles)
    line(
      `(b) with daily tiles (× fact by fact ${(spineTiles.seconds / spine.seconds).toFixed(2)})`,
      spineTiles,
      '< 30 s',
    );
  line(
    `(c) Redis, ${online.rows?.toLocaleString('en-US')} users`,
    online,
    '≥ 100k users/s',
    `   (${Math.round((online.rows ?? 0) / online.seconds).toLocaleString('en-US')} users/s end to end, the as-of computation included; ` +
      `of it the vectors written out ${online.encodeSeconds?.toFixed(2)} s, sent ${online.sendSeconds?.toFixed(2)} s: ` +
      `${Math.round((online.rows ?? 0) / ((online.encodeSeconds ?? 0) + (online.sendSeconds ?? 0))).toLocaleString('en-US')} users/s; Redis CPU ${online.redisCpuSeconds?.toFixed(1)} s)`,
  );
  const rate = (result: StepResult) =>
    Math.round((result.rows ?? 0) / result.seconds).toLocaleString('en-US');
  console.log(
    `  ${`(c) read back: ${served.batchUsers} random users a call`.padEnd(44)} ${served.batchP50Ms?.toFixed(1).padStart(7)} ms median, ${served.batchP95Ms?.toFixed(1)} ms 95th percentile   (${Math.round(((served.batchUsers ?? 0) * 1000) / (served.batchP50Ms ?? 1)).toLocaleString('en-US')} users/s at the median; all 67 features each, one round trip a call)`,
  );
  console.log(
    `  ${'(c) floor: the engine alone computing them'.padEnd(44)} ${vectors.seconds.toFixed(2).padStart(7)} s   (${rate(vectors)} users/s, CPU ${vectors.cpuSeconds.toFixed(1)} s, nothing written: the most (c) can reach end to end; (c) takes ${(online.seconds / vectors.seconds).toFixed(1)}× this floor)`,
  );
  for (const [label, result] of [
    ['RESTORE', floor],
    ['HSET', hsetFloor],
  ] as const)
    console.log(
      `  ${`(c) floor: ${label} by redis-cli --pipe alone`.padEnd(44)} ${result.seconds.toFixed(2).padStart(7)} s   (${rate(result)} users/s, Redis CPU ${result.redisCpuSeconds?.toFixed(1)} s: ${(((result.redisCpuSeconds ?? 0) / (result.rows ?? 1)) * 1e6).toFixed(1)} µs a hash; (c) takes ${(online.seconds / result.seconds).toFixed(1)}× this floor)`,
    );
} finally {
  await redis.stop();
  await rm(root, { recursive: true, force: true });
}
