// Marts benchmark: 10M fact_activity rows (1M users, 90 days, 100k content items) and 1M exposures
// to 3 experiments, generated inside the embedded ClickHouse engine; then the full recompute of all
// marts, the incremental recompute after one new day, and the A/B analysis of one experiment, each
// against a full scan of the same facts (every row read: sum and exact distinct users) measured in
// the same run. BENCH_FACTS scales the facts (users, content and exposures scale with it).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { existingTables, recomputeAbResults, recomputeMarts } from '../transforms/index.ts';
import { migrate, openWarehouse } from '../warehouse/index.ts';
import { parseArgs } from 'node:util';
import {
  benchShape,
  DAYS,
  EXPOSURES,
  FACTS,
  fullScan,
  generateMartsData,
  PACK,
  START,
  timed,
  USERS,
} from './marts-data.ts';

// `--pack shop`: facts of the shop's shape (event mix, completions, values, A/B metrics).
const { values } = parseArgs({ options: { pack: { type: 'string', default: 'learning' } } });
const packShape = values.pack ?? 'learning';
const shape = benchShape(packShape);
const { mapping } = shape;

const root = await mkdtemp(join(tmpdir(), 'tributary-bench-marts-'));
const warehouse = await openWarehouse({ kind: 'chdb', path: join(root, 'warehouse') });
try {
  await migrate(warehouse);
  console.error(
    `generating ${FACTS.toLocaleString('en-US')} facts, ${USERS.toLocaleString('en-US')} users, ${EXPOSURES.toLocaleString('en-US')} exposures…`,
  );
  let newDay = '';
  const generation = await timed(async () => (newDay = await generateMartsData(warehouse, PACK, shape)));
  console.error(`generated in ${generation.toFixed(1)} s`);
  const existing = await existingTables(warehouse);
  const scanBefore = await fullScan(warehouse, PACK);
  const fullSteps: [string, number][] = [];
  const incrementalSteps: [string, number][] = [];
  const full = await timed(() =>
    recomputeMarts(
      warehouse,
      PACK,
      mapping,
      existing,
      { activityDays: 'all', ratingDays: 'all', exposuresChanged: true },
      (table, seconds) => fullSteps.push([table, seconds]),
    ),
  );
  await warehouse.command(newDay);
  const [day] = await warehouse.query<{ day: string }>(
    `SELECT toString(max(day)) AS day FROM fact_activity WHERE pack = '${PACK}'`,
  );
  const days = [day?.day ?? START];
  const incremental = await timed(() =>
    recomputeMarts(
      warehouse,
      PACK,
      mapping,
      existing,
      { activityDays: days, ratingDays: days, exposuresChanged: false },
      (table, seconds) => incrementalSteps.push([table, seconds]),
    ),
  );
  const ab = await timed(() => recomputeAbResults(warehouse, PACK, mapping, existing, 'exp_a'));
  const scan = (scanBefore + (await fullScan(warehouse, PACK))) / 2;
  const line = (label: string, seconds: number, target: string) =>
    console.log(
      `  ${label.padEnd(34)} ${seconds.toFixed(2).padStart(7)} s   ${(seconds / scan).toFixed(1).padStart(6)} × scan   target ${target}`,
    );
  console.log(
    `marts benchmark (${packShape} facts): ${FACTS.toLocaleString('en-US')} facts, ${USERS.toLocaleString('en-US')} users, ${DAYS} days (embedded ClickHouse)`,
  );
  console.log(`  ${'full scan of the facts (baseline)'.padEnd(34)} ${scan.toFixed(2).padStart(7)} s`);
  const steps = (label: string, timings: [string, number][]) =>
    console.log(
      `    ${label}: ${timings.map(([table, seconds]) => `${table} ${seconds.toFixed(2)}`).join(', ')}`,
    );
  line('full recompute of all marts', full, '< 5 s');
  steps('of which, in seconds', fullSteps);
  line('incremental, one new day', incremental, '< 0.5 s');
  steps('of which, in seconds', incrementalSteps);
  line('A/B analysis of one experiment', ab, '< 1 s');
  console.log('    (variant sums over agg_ab_users, rebuilt from the facts in the full recompute above)');
} finally {
  await warehouse.close();
  await rm(root, { recursive: true, force: true });
}
