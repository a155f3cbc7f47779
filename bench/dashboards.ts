// Dashboards benchmark: on the bench:marts warehouse (BENCH_FACTS facts, default 10M; `--facts N`
// overrides), each panel's API latency (p50/p95 over `--requests N` requests, default 200, with
// varied filters so the cache rarely answers) next to the same panel's SQL run directly on the
// warehouse in the same run, interleaved request by request; then one daily report's render time.
// Baseline: the direct query. Targets: p95 < 300 ms per panel, the server adding < 20 ms at p95,
// a daily report in < 5 s. `--panels a,b` measures only those panels. `--dir PATH` keeps the
// generated warehouse there and reuses it on the next run with the same `--facts` (generating and
// recomputing 10M facts takes minutes); `--recompute` rebuilds its marts from the kept facts.
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import {
  PANELS,
  shiftDay,
  startDashboards,
  toQueryString,
  type ResolvedFilters,
} from '../dashboards/index.ts';
import { runReport } from '../reports/index.ts';
import { existingTables, recomputeMarts } from '../transforms/index.ts';
import { bookkeepingTable, migrate, openWarehouse } from '../warehouse/index.ts';
import { percentile } from './percentile.ts';

const { values } = parseArgs({
  options: {
    facts: { type: 'string' },
    requests: { type: 'string' },
    panels: { type: 'string' },
    dir: { type: 'string' },
    recompute: { type: 'boolean' },
  },
});
/** `--panels a,b`: only these panels (default: all). */
const ONLY = values.panels?.split(',');
if (values.facts) process.env.BENCH_FACTS = values.facts;
const REQUESTS = Number(values.requests ?? 200);
const { DAYS, FACTS, generateMartsData, mapping, PACK, START, USERS } = await import('./marts-data.ts');

/** A seeded generator, so every run asks the same questions. */
function generator(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const root = values.dir ?? (await mkdtemp(join(tmpdir(), 'tributary-bench-dashboards-')));
await mkdir(root, { recursive: true });
/** Written once the kept warehouse is complete: its scale, so a run at another scale refuses it. */
const marker = join(root, 'generated.json');
const kept = values.dir
  ? await readFile(marker, 'utf8').then(
      (text) => z.object({ facts: z.number() }).parse(JSON.parse(text)).facts,
      () => undefined,
    )
  : undefined;
if (kept !== undefined && kept !== FACTS)
  throw new Error(`${root} holds ${kept} facts, not ${FACTS}: pass --facts ${kept} or another --dir`);
// A warehouse without the marker was left half-built: start it again.
if (kept === undefined) await rm(join(root, 'warehouse'), { recursive: true, force: true });
const warehouse = await openWarehouse({ kind: 'chdb', path: join(root, 'warehouse') });
try {
  await migrate(warehouse);
  if (kept === undefined) {
    console.error(
      `generating ${FACTS.toLocaleString('en-US')} facts, ${USERS.toLocaleString('en-US')} users…`,
    );
    await generateMartsData(warehouse, PACK);
  }
  if (kept === undefined || values.recompute) {
    console.error('recomputing the marts…');
    const existing = await existingTables(warehouse);
    await recomputeMarts(warehouse, PACK, mapping, existing, {
      activityDays: 'all',
      ratingDays: 'all',
      exposuresChanged: true,
    });
  }
  if (kept === undefined) {
    // A transform checkpoint, as a run leaves one: the cache's version.
    await warehouse.insert(bookkeepingTable('checkpoints'), [
      {
        pipeline: `transform:${PACK}`,
        stream: 'state',
        state: '{}',
        updated_at: '2026-01-01 00:00:00',
        revision: 1,
      },
    ]);
    if (values.dir) await writeFile(marker, JSON.stringify({ facts: FACTS }));
  }
  const contents = (
    await warehouse.query<{ id: string }>(
      `SELECT content_id AS id FROM mart_content_performance WHERE pack = {pack:String}
       GROUP BY content_id ORDER BY sum(unique_users) DESC LIMIT 50`,
      { pack: PACK },
    )
  ).map((row) => row.id);
  const server = await startDashboards({ warehouse, host: '127.0.0.1', port: 0 });
  const random = generator(7);
  const pick = <T>(values: readonly T[]): T => values[Math.floor(random() * values.length)] as T;
  const months = ['2026-08', '2026-09', '2026-10'];
  const filtersFor = (): ResolvedFilters => {
    const length = 7 + Math.floor(random() * 50);
    const from = shiftDay(START, Math.floor(random() * (DAYS - length)));
    return {
      pack: PACK,
      from,
      to: shiftDay(from, length - 1),
      country: random() < 0.5 ? '' : pick(['VN', 'US', 'JP', 'DE', 'BR']),
      platform: random() < 0.7 ? '' : pick(['ios', 'android', 'web']),
      cohort: random() < 0.7 ? '' : pick(months),
      grain: pick(['day', 'week'] as const),
      kind: pick(['first_activity', 'signup'] as const),
      curve: pick(['retained', 'unbounded'] as const),
      experiment: pick(['', 'exp_a', 'exp_b', 'exp_c']),
      content: pick(contents),
    };
  };

  console.log(
    `dashboards benchmark: ${FACTS.toLocaleString('en-US')} facts, ${USERS.toLocaleString('en-US')} users, ${DAYS} days (embedded ClickHouse), ${REQUESTS} requests per panel`,
  );
  console.log(
    `  ${'panel'.padEnd(22)} ${'direct p50'.padStart(10)} ${'direct p95'.padStart(10)} ${'API p50'.padStart(9)} ${'API p95'.padStart(9)}  ${'API−direct p95'.padStart(14)}  API/direct p95`,
  );
  for (const panel of PANELS.filter((entry) => !ONLY || ONLY.includes(entry.id))) {
    const direct: number[] = [];
    const api: number[] = [];
    for (let index = 0; index < REQUESTS; index++) {
      const filters = filtersFor();
      // Alternate which goes first, so neither always meets a warmer cache of the engine.
      const runDirect = async () => {
        const startedAt = performance.now();
        await panel.query(warehouse, filters);
        direct.push(performance.now() - startedAt);
      };
      const runApi = async () => {
        const startedAt = performance.now();
        const response = await fetch(`${server.url}/api/panels/${panel.id}?${toQueryString(filters)}`);
        await response.arrayBuffer();
        if (!response.ok) throw new Error(`${panel.id}: ${response.status}`);
        api.push(performance.now() - startedAt);
      };
      if (index % 2 === 0) {
        await runDirect();
        await runApi();
      } else {
        await runApi();
        await runDirect();
      }
    }
    const d95 = percentile(direct, 0.95);
    const a95 = percentile(api, 0.95);
    console.log(
      `  ${panel.id.padEnd(22)} ${percentile(direct, 0.5).toFixed(1).padStart(8)}ms ${d95.toFixed(1).padStart(8)}ms ${percentile(api, 0.5).toFixed(1).padStart(7)}ms ${a95.toFixed(1).padStart(7)}ms  ${(a95 - d95).toFixed(1).padStart(12)}ms  ${(a95 / d95).toFixed(2).padStart(8)}×`,
    );
  }
  await server.close();
  const last = shiftDay(START, DAYS - 1);
  const direct = performance.now();
  for (const id of ['overview.summary', 'overview.active', 'content.leaderboard', 'experiments.results'])
    await PANELS.find((panel) => panel.id === id)?.query(warehouse, {
      ...filtersFor(),
      from: last,
      to: last,
    });
  const directMs = performance.now() - direct;
  const startedAt = performance.now();
  const reports = await mkdtemp(join(tmpdir(), 'tributary-bench-reports-'));
  await runReport({ warehouse, pack: PACK, period: 'daily', asOf: last, outDir: reports });
  const reportMs = performance.now() - startedAt;
  await rm(reports, { recursive: true, force: true });
  console.log(
    `  daily report (HTML + CSVs) ${(reportMs / 1000).toFixed(2)} s (target < 5 s); its four main panel queries alone ${(directMs / 1000).toFixed(2)} s (${(reportMs / directMs).toFixed(1)}×)`,
  );
} finally {
  await warehouse.close();
  if (!values.dir) await rm(root, { recursive: true, force: true });
}
