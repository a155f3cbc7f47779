// The bench:marts warehouse, generated inside the embedded ClickHouse engine: 10M fact_activity
// rows (1M users, 90 days, 100k content items), 1M exposures to 3 experiments, 1M dim_users rows
// and their user keys. BENCH_FACTS scales the facts (users, content and exposures scale with it).
// bench:marts, bench:dashboards and bench:features build the same data with it. The facts take a
// pack's shape (its event types, completions, scores, values and A/B metrics): the learning pack's
// by default, the shop's with `bench:marts -- --pack shop`.
import type { PackMapping } from '../packs/index.ts';
import { LEARNING_AB_METRICS } from '../packs/learning/mapping.ts';
import { SHOP_AB_METRICS } from '../packs/shop/mapping.ts';
import type { Warehouse } from '../warehouse/index.ts';

export const FACTS = Number(process.env.BENCH_FACTS ?? 10_000_000);
export const USERS = Math.max(1000, Math.round(FACTS / 10));
export const CONTENT = Math.max(100, Math.round(FACTS / 100));
export const EXPOSURES = USERS;
export const DAYS = 90;
export const START = '2026-08-03';
/** The pack name the marts benchmarks write under. */
export const PACK = 'bench';

/** What a pack's facts look like, for generating them. */
export interface BenchShape {
  /** Event types, one per row in turn (repeats weigh a type). */
  eventTypes: readonly string[];
  contentType: string;
  /** The event that completes (is_completion = 1). */
  completion: string;
  /** The event that carries a score out of 10, if any. */
  scored?: string;
  /** The row's `value`, an SQL expression over `number` and `event_type`. */
  value: string;
  mapping: PackMapping;
}

/** The facts are generated, not mapped: only the marts' inputs matter here. */
function benchMapping(
  overrides: Pick<PackMapping, 'abMetrics' | 'viewEventTypes' | 'startEventType'>,
): PackMapping {
  return {
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
    ...overrides,
  };
}

export const BENCH_SHAPES: Readonly<Record<string, BenchShape>> = {
  // About a third are exercise answers with a score, a tenth are completions (quarter each type).
  learning: {
    eventTypes: ['lesson_start', 'paragraph_read', 'exercise_attempt', 'lesson_complete'],
    contentType: 'lesson',
    completion: 'lesson_complete',
    scored: 'exercise_attempt',
    value: 'toInt64(number % 10)',
    mapping: benchMapping({
      abMetrics: LEARNING_AB_METRICS,
      viewEventTypes: ['lesson_start', 'paragraph_read'],
      startEventType: 'lesson_start',
    }),
  },
  // 75% product views, 15% cart adds, 10% purchases worth $5–$205 in cents; no scores.
  shop: {
    eventTypes: [
      ...Array<string>(15).fill('product_view'),
      'add_to_cart',
      'add_to_cart',
      'add_to_cart',
      'purchase',
      'purchase',
    ],
    contentType: 'product',
    completion: 'purchase',
    value: "if(event_type = 'purchase', toInt64(500 + intHash32(number * 31) % 20000), toInt64(0))",
    mapping: benchMapping({
      abMetrics: SHOP_AB_METRICS,
      viewEventTypes: ['product_view'],
      startEventType: 'add_to_cart',
    }),
  },
};

export function benchShape(pack: string): BenchShape {
  const shape = BENCH_SHAPES[pack];
  if (!shape)
    throw new Error(`no bench shape for pack "${pack}"; known: ${Object.keys(BENCH_SHAPES).join(', ')}`);
  return shape;
}

/** The learning pack's mapping, which bench:dashboards and bench:features use. */
export const mapping = benchShape('learning').mapping;

/** Writes the facts; returns the statement that adds the new day the incremental run processes. */
export async function generateMartsData(
  warehouse: Warehouse,
  pack: string,
  shape: BenchShape = benchShape('learning'),
): Promise<string> {
  const types = `[${shape.eventTypes.map((type) => `'${type}'`).join(', ')}]`;
  const scored = `event_type = '${shape.scored ?? ''}'`;
  // One row per user action: users, days and content spread by hashes of the row number.
  const activity = (from: number, count: number, day: string) => `
    INSERT INTO fact_activity
    SELECT '${pack}', concat('f:', toString(number)), concat('u', toString(intHash32(number) % ${USERS})),
      toDateTime64(${day} + toIntervalSecond(intHash32(number * 3) % 86400), 3, 'UTC') AS ts, toDate(ts),
      ${types}[1 + number % ${shape.eventTypes.length}] AS event_type,
      concat('c', toString(intHash32(number * 5) % ${CONTENT})), '${shape.contentType}', concat('s', toString(intHash32(number * 7) % ${USERS * 3})),
      toInt64(intHash32(number * 11) % 300), if(${scored}, toInt64(intHash32(number) % 11), NULL),
      if(${scored}, toInt64(10), NULL), toUInt8(event_type = '${shape.completion}'), ${shape.value}, '',
      toUInt32(intHash32(number) % ${USERS} + 1)
    FROM numbers(${from}, ${count})`;
  await warehouse.command(
    activity(0, FACTS, `toDateTime('${START}', 'UTC') + toIntervalDay(intHash32(number * 13) % ${DAYS})`),
  );
  await warehouse.command(`
    INSERT INTO fact_exposure_events
    SELECT '${pack}', concat('e:', toString(number)), ['exp_a', 'exp_b', 'exp_c'][1 + number % 3],
      if(intHash32(number * 17) % 2 = 0, 'control', 'treatment'), concat('u', toString(number % ${USERS})),
      toDateTime64(toDateTime('${START}', 'UTC') + toIntervalSecond(intHash32(number * 19) % (60 * 86400)), 3, 'UTC'),
      toUInt32(number % ${USERS} + 1)
    FROM numbers(${EXPOSURES})`);
  await warehouse.command(`
    INSERT INTO dim_users SELECT concat('u', toString(number)), '${pack}',
      toDateTime64(toDateTime('${START}', 'UTC') + toIntervalSecond(intHash32(number * 23) % (${DAYS} * 86400)), 3, 'UTC'),
      ['VN', 'US', 'JP', 'DE', 'BR'][1 + intHash32(number * 29) % 5],
      ['ios', 'android', 'web'][1 + intHash32(number * 31) % 3], '', 'active',
      toUInt32(number + 1)
    FROM numbers(${USERS})`);
  // The keys fact building assigns (transforms/facts.ts): user u<n> has key n + 1.
  await warehouse.command(
    `INSERT INTO dim_user_keys SELECT '${pack}', concat('u', toString(number)), toUInt32(number + 1) FROM numbers(${USERS})`,
  );
  await warehouse.command(
    // On disk: a warehouse kept between runs (`--dir`) still has its experiments when reopened.
    'CREATE TABLE IF NOT EXISTS bench_experiments (experiment String, variant String, share Float64) ENGINE = MergeTree ORDER BY experiment',
  );
  await warehouse.command(
    `INSERT INTO bench_experiments SELECT e, v, 0.5 FROM (SELECT arrayJoin(['exp_a', 'exp_b', 'exp_c']) AS e) AS experiments CROSS JOIN (SELECT arrayJoin(['control', 'treatment']) AS v) AS variants`,
  );
  // About a ninetieth of the facts, all on the day after the last.
  return activity(FACTS, Math.round(FACTS / DAYS), `toDateTime('${START}', 'UTC') + toIntervalDay(${DAYS})`);
}

export async function timed(action: () => Promise<unknown>): Promise<number> {
  const startedAt = performance.now();
  await action();
  return (performance.now() - startedAt) / 1000;
}

export async function fullScan(warehouse: Warehouse, pack: string): Promise<number> {
  return timed(() =>
    warehouse.query(`SELECT sum(duration_s), uniqExact(user_id) FROM fact_activity WHERE pack = '${pack}'`),
  );
}
