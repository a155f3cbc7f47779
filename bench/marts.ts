// Marts benchmark: 10M fact_activity rows (1M users, 90 days, 100k content items) and 1M exposures
// to 3 experiments, generated inside the embedded ClickHouse engine; then the full recompute of all
// marts, the incremental recompute after one new day, and the A/B analysis of one experiment, each
// against a full scan of the same facts (every row read: sum and exact distinct users) measured in
// the same run. BENCH_FACTS scales the facts (users, content and exposures scale with it).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PackMapping } from '../packs/index.ts';
import { existingTables, recomputeAbResults, recomputeMarts } from '../transforms/index.ts';
import { migrate, openWarehouse, type Warehouse } from '../warehouse/index.ts';

const FACTS = Number(process.env.BENCH_FACTS ?? 10_000_000);
const USERS = Math.max(1000, Math.round(FACTS / 10));
const CONTENT = Math.max(100, Math.round(FACTS / 100));
const EXPOSURES = USERS;
const DAYS = 90;
const START = '2026-08-03';
const PACK = 'bench';

/** The facts are generated, not mapped: only the marts' inputs matter here. */
const mapping: PackMapping = {
  activity: [],
  exposures: [],
  ratings: [],
  users: { mirrors: [], select: '' },
  content: { mirrors: [], select: '' },
  experimentConfigs: {
    mirrors: ['bench_experiments'],
    select: 'SELECT experiment, variant, share FROM bench_experiments',
  },
  analysisWindowDays: 7,
  viewEventTypes: ['lesson_start', 'paragraph_read'],
  startEventType: 'lesson_start',
};

/** Writes the facts; returns the statement that adds the new day the incremental run processes. */
async function generate(warehouse: Warehouse): Promise<string> {
  // One row per user action: users, days and content spread by hashes of the row number; about a
  // third are exercise answers with a score, a tenth are completions.
  const activity = (from: number, count: number, day: string) => `
    INSERT INTO fact_activity
    SELECT '${PACK}', concat('f:', toString(number)), concat('u', toString(intHash32(number) % ${USERS})),
      toDateTime64(${day} + toIntervalSecond(intHash32(number * 3) % 86400), 3, 'UTC') AS ts, toDate(ts),
      ['lesson_start', 'paragraph_read', 'exercise_attempt', 'lesson_complete'][1 + number % 4] AS event_type,
      concat('c', toString(intHash32(number * 5) % ${CONTENT})), 'lesson', concat('s', toString(intHash32(number * 7) % ${USERS * 3})),
      toInt64(intHash32(number * 11) % 300), if(event_type = 'exercise_attempt', toInt64(intHash32(number) % 11), NULL),
      if(event_type = 'exercise_attempt', toInt64(10), NULL), toUInt8(event_type = 'lesson_complete'), toInt64(number % 10), '',
      toUInt32(intHash32(number) % ${USERS} + 1)
    FROM numbers(${from}, ${count})`;
  await warehouse.command(
    activity(0, FACTS, `toDateTime('${START}', 'UTC') + toIntervalDay(intHash32(number * 13) % ${DAYS})`),
  );
  await warehouse.command(`
    INSERT INTO fact_exposure_events
    SELECT '${PACK}', concat('e:', toString(number)), ['exp_a', 'exp_b', 'exp_c'][1 + number % 3],
      if(intHash32(number * 17) % 2 = 0, 'control', 'treatment'), concat('u', toString(number % ${USERS})),
      toDateTime64(toDateTime('${START}', 'UTC') + toIntervalSecond(intHash32(number * 19) % (60 * 86400)), 3, 'UTC'),
      toUInt32(number % ${USERS} + 1)
    FROM numbers(${EXPOSURES})`);
  await warehouse.command(`
    INSERT INTO dim_users SELECT concat('u', toString(number)), '${PACK}',
      toDateTime64(toDateTime('${START}', 'UTC') + toIntervalSecond(intHash32(number * 23) % (${DAYS} * 86400)), 3, 'UTC'), '', '', 'active',
      toUInt32(number + 1)
    FROM numbers(${USERS})`);
  // The keys fact building assigns (transforms/facts.ts): user u<n> has key n + 1.
  await warehouse.command(
    `INSERT INTO dim_user_keys SELECT '${PACK}', concat('u', toString(number)), toUInt32(number + 1) FROM numbers(${USERS})`,
  );
  await warehouse.command(
    'CREATE TABLE IF NOT EXISTS bench_experiments (experiment String, variant String, share Float64) ENGINE = Memory',
  );
  await warehouse.command(
    `INSERT INTO bench_experiments SELECT e, v, 0.5 FROM (SELECT arrayJoin(['exp_a', 'exp_b', 'exp_c']) AS e) AS experiments CROSS JOIN (SELECT arrayJoin(['control', 'treatment']) AS v) AS variants`,
  );
  // About a ninetieth of the facts, all on the day after the last.
  return activity(FACTS, Math.round(FACTS / DAYS), `toDateTime('${START}', 'UTC') + toIntervalDay(${DAYS})`);
}

async function timed(action: () => Promise<unknown>): Promise<number> {
  const startedAt = performance.now();
  await action();
  return (performance.now() - startedAt) / 1000;
}

async function fullScan(warehouse: Warehouse): Promise<number> {
  return timed(() =>
    warehouse.query(`SELECT sum(duration_s), uniqExact(user_id) FROM fact_activity WHERE pack = '${PACK}'`),
  );
}

const root = await mkdtemp(join(tmpdir(), 'tributary-bench-marts-'));
const warehouse = await openWarehouse({ kind: 'chdb', path: join(root, 'warehouse') });
try {
  await migrate(warehouse);
  console.error(
    `generating ${FACTS.toLocaleString('en-US')} facts, ${USERS.toLocaleString('en-US')} users, ${EXPOSURES.toLocaleString('en-US')} exposures…`,
  );
  let newDay = '';
  const generation = await timed(async () => (newDay = await generate(warehouse)));
  console.error(`generated in ${generation.toFixed(1)} s`);
  const existing = await existingTables(warehouse);
  const scanBefore = await fullScan(warehouse);
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
  const scan = (scanBefore + (await fullScan(warehouse))) / 2;
  const line = (label: string, seconds: number, target: string) =>
    console.log(
      `  ${label.padEnd(34)} ${seconds.toFixed(2).padStart(7)} s   ${(seconds / scan).toFixed(1).padStart(6)} × scan   target ${target}`,
    );
  console.log(
    `marts benchmark: ${FACTS.toLocaleString('en-US')} facts, ${USERS.toLocaleString('en-US')} users, ${DAYS} days (embedded ClickHouse)`,
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
