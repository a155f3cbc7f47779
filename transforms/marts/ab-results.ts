// mart_ab_results: per experiment, variant and metric — n, mean, variance; against control the
// absolute and relative lift with 95% intervals (delta method for the relative one), the relative
// test's p-value (the same test as the interval: stats/compare), the CUPED-adjusted relative lift
// with the same metric over the window before exposure as covariate, the always-valid mSPRT
// p-value with its confidence sequence, the sample-ratio-mismatch test against the configured
// split, and the decision (sequential unless a planned sample was reached, Holm over the metrics).
// Users count once their analysis window is over; ClickHouse returns per-variant sums, never
// per-user rows.
//
// Two steps: agg_ab_users holds each exposed user's metric values (a partial aggregate, rewritten
// per exposure day: new facts on day d change only the users exposed within a window of d), and the
// results are per-variant sums over it. `only` limits the results to one experiment.
import type { AbMetric, PackMapping } from '../../packs/index.ts';
import { bookkeepingTable, quoteString, type Warehouse } from '../../warehouse/index.ts';
import { daysCondition, insertInto, replacePartitions, type DaySelection } from './partitions.ts';
import { IN_SEGMENT_CELL } from './segments.ts';
import { chiSquareGoodnessOfFit, compare, cupedAdjust, lift, type CovariateSummary } from '../stats/tests.ts';

/** The per-user measures agg_ab_users keeps; a pack names its metrics after them (AbMetric). */
export const AB_MEASURES = [
  'converted',
  'active_days',
  'events',
  'value',
] as const satisfies readonly AbMetric['measure'][];

const EXPOSURES = bookkeepingTable('ab_exposures');

/** A sample-ratio mismatch this unlikely under the configured split means the assignment is broken. */
export const SRM_ALPHA = 0.001;

interface VariantSums {
  experiment: string;
  variant: string;
  /** Every exposed user, window over or not. */
  exposed: number;
  /** The users whose window is over: the ones the sums cover. */
  n: number;
  [sum: string]: number | string;
}

/** Users by country, platform and signup month (`YYYY-MM`), as dim_users has them; empty is everyone. */
export interface UserSegment {
  country: string;
  platform: string;
  signupMonth: string;
}

export async function recomputeAbResults(
  warehouse: Warehouse,
  pack: string,
  mapping: PackMapping,
  existing: Set<string>,
  only?: string,
): Promise<void> {
  const configured = mapping.experimentConfigs.mirrors.every((mirror) => existing.has(mirror));
  const configs = configured ? await warehouse.query<ExperimentConfig>(mapping.experimentConfigs.select) : [];
  await recordDefinitions(warehouse, pack, mapping, configs);
  const inputs = await resultInputs(warehouse, pack, configs, mapping.analysisWindowDays, only);
  const target = {
    table: 'mart_ab_results',
    pack,
    where: only === undefined ? '1' : 'experiment = {only:String}',
    params: { only: only ?? '' },
  };
  // The per-cell sums first: the mart adds up all of them, a segment's results its own.
  await replacePartitions(warehouse, { ...target, table: 'agg_ab_segments' }, async (stage) => {
    if (inputs) await fillSegmentSums(warehouse, stage, pack, inputs);
  });
  await replacePartitions(warehouse, target, async (stage) => {
    if (!inputs) return;
    const rows = resultRows(pack, mapping.abMetrics, inputs, await variantSums(warehouse, pack, inputs));
    if (rows.length > 0) await warehouse.insert(stage, rows);
  });
}

/**
 * mart_ab_results' rows for one segment of users, computed on request from the per-cell sums
 * (agg_ab_segments) and the definitions the last transform recorded: the same statistics and decision rules over the
 * segment's exposed users only (the split test too: assignment does not depend on the segment).
 * What a dashboard shows for a filtered view; the pack's mapping is not needed.
 */
export async function segmentAbResults(
  warehouse: Warehouse,
  pack: string,
  segment: UserSegment,
  only?: string,
): Promise<Record<string, unknown>[]> {
  const configs = await warehouse.query<ExperimentConfig & { window_days: number }>(
    `SELECT experiment, variant, share, planned_n, window_days FROM dim_experiments
     WHERE pack = {pack:String} ORDER BY experiment, variant`,
    { pack },
  );
  const metrics = await warehouse.query<AbMetric>(
    'SELECT metric AS name, measure FROM dim_ab_metrics WHERE pack = {pack:String} ORDER BY metric',
    { pack },
  );
  const windowDays = Number(configs[0]?.window_days ?? 0);
  const inputs = await resultInputs(warehouse, pack, configs, windowDays, only);
  if (!inputs) return [];
  return resultRows(pack, metrics, inputs, await variantSums(warehouse, pack, inputs, segment));
}

/** An experiment's configured variant, as the pack's experimentConfigs select gives it. */
interface ExperimentConfig {
  experiment: string;
  variant: string;
  share: number;
  planned_n?: number | string | null;
}

interface ResultInputs {
  configs: ExperimentConfig[];
  experiments: string[];
  windowDays: number;
  /** The newest fact: windows ending by then are over. */
  end: string;
}

/** dim_experiments and dim_ab_metrics: what the results are computed against, as read now. */
async function recordDefinitions(
  warehouse: Warehouse,
  pack: string,
  mapping: PackMapping,
  configs: readonly ExperimentConfig[],
): Promise<void> {
  await warehouse.command('DELETE FROM dim_experiments WHERE pack = {pack:String}', { pack });
  await warehouse.command('DELETE FROM dim_ab_metrics WHERE pack = {pack:String}', { pack });
  if (configs.length > 0)
    await warehouse.insert(
      'dim_experiments',
      configs.map((config) => ({
        pack,
        experiment: config.experiment,
        variant: config.variant,
        share: Number(config.share),
        planned_n: config.planned_n == null ? null : Number(config.planned_n),
        window_days: mapping.analysisWindowDays,
      })),
    );
  if (mapping.abMetrics.length > 0)
    await warehouse.insert(
      'dim_ab_metrics',
      mapping.abMetrics.map((metric) => ({ pack, metric: metric.name, measure: metric.measure })),
    );
}

async function resultInputs(
  warehouse: Warehouse,
  pack: string,
  configs: ExperimentConfig[],
  windowDays: number,
  only: string | undefined,
): Promise<ResultInputs | undefined> {
  const [end] = await warehouse.query<{ end: string }>(
    `SELECT toString(max(ts)) AS end FROM fact_activity
     WHERE pack = {pack:String} AND day = (SELECT max(day) FROM fact_activity WHERE pack = {pack:String})`,
    { pack },
  );
  const experiments = [...new Set(configs.map((config) => config.experiment))].filter(
    (experiment) => only === undefined || experiment === only,
  );
  return end && experiments.length > 0 ? { configs, experiments, windowDays, end: end.end } : undefined;
}

/** Per experiment, variant and metric: the mart's row from the variants' sums. */
function resultRows(
  pack: string,
  metrics: readonly AbMetric[],
  { configs, experiments, end }: ResultInputs,
  allSums: VariantSums[],
): Record<string, unknown>[] {
  const rows: Record<string, unknown>[] = [];
  for (const experiment of experiments) {
    const variants = configs.filter((config) => config.experiment === experiment);
    const srm = sampleRatio(
      variants,
      allSums.filter((entry) => entry.experiment === experiment),
    );
    // A variant whose users are all still inside their window has nothing to compare yet.
    const sums = allSums.filter((entry) => entry.experiment === experiment && entry.n > 0);
    const control = sums.find((entry) => entry.variant === 'control') ?? sums[0];
    if (!control) continue;
    const plannedValue = variants.find((entry) => entry.planned_n != null)?.planned_n;
    const plannedPerArm = plannedValue == null ? null : Number(plannedValue);
    const controlSummaries = new Map(
      metrics.map((metric) => [metric.name, summary(control, metric.measure)]),
    );
    for (const variant of sums) {
      const own = new Map(metrics.map((metric) => [metric.name, summary(variant, metric.measure)]));
      // The metrics read together for this variant: one Holm family.
      const comparable = metrics.filter((metric) => {
        const c = controlSummaries.get(metric.name);
        const t = own.get(metric.name);
        return variant !== control && c && t && t.n > 1 && c.n > 1 && c.mean !== 0;
      });
      const comparisons = compare(
        comparable.map((metric) => ({
          metric: metric.name,
          control: controlSummaries.get(metric.name) as CovariateSummary,
          treatment: own.get(metric.name) as CovariateSummary,
        })),
        { srmFlag: srm.flag, plannedPerArm },
      );
      for (const metric of metrics) {
        const mine = own.get(metric.name) as CovariateSummary;
        const controlSummary = controlSummaries.get(metric.name) as CovariateSummary;
        const row: Record<string, unknown> = {
          pack,
          experiment,
          variant: variant.variant,
          metric: metric.name,
          n: mine.n,
          mean: mine.mean,
          variance: mine.variance,
          srm_p_value: srm.pValue,
          srm_flag: srm.flag ? 1 : 0,
          decision: 'continue_testing',
          planned_n: plannedPerArm,
          computed_at: end,
        };
        const comparison = comparisons.find((entry) => entry.metric === metric.name);
        if (comparison) {
          const plain = comparison.lift;
          const [cupedControl, cupedTreatment] = cupedAdjust(controlSummary, mine);
          const cuped = lift(cupedControl, cupedTreatment);
          Object.assign(row, {
            control_mean: controlSummary.mean,
            abs_lift: plain.absolute,
            rel_lift: plain.relative,
            ci_low: plain.relativeInterval.low,
            ci_high: plain.relativeInterval.high,
            abs_ci_low: plain.absoluteInterval.low,
            abs_ci_high: plain.absoluteInterval.high,
            p_value: plain.pValue,
            cuped_rel_lift: cuped.relative,
            cuped_ci_low: cuped.relativeInterval.low,
            cuped_ci_high: cuped.relativeInterval.high,
            cuped_p_value: cuped.pValue,
            msprt_p_value: comparison.sequential.pValue,
            seq_ci_low: comparison.sequential.interval.low,
            seq_ci_high: comparison.sequential.interval.high,
            decision_p_value: comparison.decisionPValue,
            decision_basis: comparison.basis,
            users_still_needed: comparison.usersStillNeeded,
            decision: comparison.decision,
          });
        }
        rows.push(row);
      }
    }
  }
  return rows;
}

/**
 * Rewrites agg_ab_users for the users first exposed on the given days: each metric over the
 * analysis window after exposure and over the same span before it, from the facts in reach.
 */
export async function refreshAbUsers(
  warehouse: Warehouse,
  pack: string,
  windowDays: number,
  exposureDays: DaySelection,
): Promise<void> {
  if (exposureDays !== 'all' && exposureDays.length === 0) return;
  const target = {
    table: 'agg_ab_users',
    pack,
    where: daysCondition(exposureDays, 'exposure_day'),
    params: { days: exposureDays === 'all' ? [] : exposureDays },
  };
  await replacePartitions(warehouse, target, async (stage, params) => {
    const after = `f.ts >= e.first_exposed_at AND f.ts < e.first_exposed_at + toIntervalDay(${windowDays})`;
    const before = `f.ts >= e.first_exposed_at - toIntervalDay(${windowDays}) AND f.ts < e.first_exposed_at`;
    // Active days as bits of a mask (day offsets -windowDays…windowDays from the exposure day),
    // counted at the end: far cheaper than a distinct count per user.
    const dayBit = `bitShiftLeft(toUInt32(1), toUInt8(least(31, greatest(0, dateDiff('day', toDate(e.first_exposed_at), f.day) + ${windowDays}))))`;
    const perUser: Record<(typeof AB_MEASURES)[number], (window: string) => string> = {
      converted: (window) => `toFloat64(maxIf(f.is_completion, ${window}))`,
      active_days: (window) => `toFloat64(bitCount(groupBitOrIf(${dayBit}, ${window})))`,
      events: (window) => `toFloat64(countIf(${window}))`,
      value: (window) => `toFloat64(sumIf(f.value, ${window}))`,
    };
    const userColumns = AB_MEASURES.flatMap((name) => [
      `${perUser[name](after)} AS ${name}_y`,
      `${perUser[name](before)} AS ${name}_x`,
    ]).join(', ');
    // The first exposures on the selected days, read from the view once.
    await warehouse.command(`ALTER TABLE ${EXPOSURES} DROP PARTITION ${quoteString(pack)}`);
    await insertInto(
      warehouse,
      EXPOSURES,
      `SELECT {pack:String}, toDate(first_exposed_at), experiment, variant, user_id, user_key, first_exposed_at
       FROM fact_exposures
       WHERE pack = {pack:String}
         AND ${
           exposureDays === 'all'
             ? '1'
             : `user_id IN (SELECT user_id FROM fact_exposure_events
                            WHERE pack = {pack:String} AND toDate(exposed_at) IN {days:Array(Date)})
                AND toDate(first_exposed_at) IN {days:Array(Date)}`
         }`,
      params,
    );
    // All exposure days are rewritten a week at a time: a week's exposures are a join table and a
    // set of groups that stay in cache (10.7 s at once, 7.3 s by week, for 1M exposures). The few
    // days around an incremental run's changes go in one statement.
    const days =
      exposureDays === 'all'
        ? (
            await warehouse.query<{ day: string }>(
              `SELECT DISTINCT toString(exposure_day) AS day FROM ${EXPOSURES}
               WHERE pack = {pack:String} ORDER BY day`,
              { pack },
            )
          ).map((row) => row.day)
        : exposureDays;
    const daysPerWrite = exposureDays === 'all' ? 7 : days.length;
    for (let at = 0; at < days.length; at += daysPerWrite) {
      const chunk = days.slice(at, at + daysPerWrite);
      // Grouped by (experiment, user key), which is one first exposure: integer keys hash cheaper
      // than the exposure's full description.
      await insertInto(
        warehouse,
        stage,
        `SELECT {pack:String}, any(e.exposure_day), e.experiment, any(e.variant), any(e.user_id), e.user_key,
             any(e.first_exposed_at), ${userColumns}
         -- The exposures are the join's hash table (its right side); the facts stream past it. Only
         -- facts within a window of the chunk's exposure days can count.
         FROM (SELECT user_key, ts, day, is_completion, value FROM fact_activity WHERE pack = {pack:String}
               AND day BETWEEN toDate({first:Date}) - ${windowDays + 1} AND toDate({last:Date}) + ${windowDays + 1}) AS f
         RIGHT JOIN (SELECT * FROM ${EXPOSURES} WHERE pack = {pack:String} AND exposure_day IN {chunk:Array(Date)}) AS e
           ON f.user_key = e.user_key
         GROUP BY e.experiment, e.user_key`,
        { ...params, chunk, first: chunk[0], last: chunk.at(-1) },
      );
    }
  });
}

function sampleRatio(
  variants: { variant: string; share: number }[],
  counts: { variant: string; exposed: number }[],
): { pValue: number; flag: boolean } {
  const observed = variants.map(
    (entry) => counts.find((count) => count.variant === entry.variant)?.exposed ?? 0,
  );
  if (observed.reduce((sum, count) => sum + count, 0) === 0 || variants.length < 2)
    return { pValue: 1, flag: false };
  const { pValue } = chiSquareGoodnessOfFit(
    observed,
    variants.map((entry) => entry.share),
  );
  return { pValue, flag: pValue < SRM_ALPHA };
}

/** Each sum the statistics need, per measure: its name and the per-user value it adds up. */
const MEASURE_SUMS = AB_MEASURES.flatMap((name) => [
  [`${name}_sy`, `${name}_y`],
  [`${name}_syy`, `${name}_y * ${name}_y`],
  [`${name}_sx`, `${name}_x`],
  [`${name}_sxx`, `${name}_x * ${name}_x`],
  [`${name}_sxy`, `${name}_x * ${name}_y`],
]);

/**
 * agg_ab_users' rows of the experiments with `window_over`: whether the user's window ended by the
 * newest fact (only those are counted in the sums).
 */
const exposedUsers = (windowDays: number) =>
  `SELECT *, first_exposed_at + toIntervalDay(${windowDays}) <= toDateTime64({end:String}, 3, 'UTC') AS window_over
   FROM agg_ab_users WHERE pack = {pack:String} AND experiment IN {experiments:Array(String)}`;

/**
 * Per experiment and variant: the exposed users (every one: the SRM test's counts) and, over the
 * users whose window is over, n and per metric Σy, Σy², Σx, Σx², Σxy (x = before exposure), added up
 * over the segment's cells of agg_ab_segments (every cell without a segment: the mart's figures).
 */
async function variantSums(
  warehouse: Warehouse,
  pack: string,
  { experiments }: ResultInputs,
  segment?: UserSegment,
): Promise<VariantSums[]> {
  const rows = await warehouse.query<Record<string, string | number>>(
    `SELECT experiment, variant, sum(exposed) AS exposed, sum(n) AS n,
       ${MEASURE_SUMS.map(([sum]) => `sum(${sum}) AS ${sum}`).join(', ')}
     FROM agg_ab_segments
     WHERE pack = {pack:String} AND experiment IN {experiments:Array(String)} AND ${IN_SEGMENT_CELL}
     GROUP BY experiment, variant ORDER BY experiment, variant`,
    {
      pack,
      experiments,
      country: segment?.country ?? '',
      platform: segment?.platform ?? '',
      cohort: segment?.signupMonth ?? '',
    },
  );
  return rows.map((row) => {
    const result: VariantSums = {
      experiment: String(row.experiment),
      variant: String(row.variant),
      exposed: Number(row.exposed),
      n: Number(row.n),
    };
    for (const [key, value] of Object.entries(row))
      if (key !== 'variant' && key !== 'experiment') result[key] = Number(value);
    return result;
  });
}

/**
 * agg_ab_segments' rows into `stage`: per experiment, variant and segment cell (the user's dim_users
 * row; empty strings for an exposed user dim_users lacks, who is in no segment), the exposed users,
 * n and the sums over those whose window is over. The one scan of agg_ab_users per run.
 */
async function fillSegmentSums(
  warehouse: Warehouse,
  stage: string,
  pack: string,
  { experiments, end, windowDays }: ResultInputs,
): Promise<void> {
  await insertInto(
    warehouse,
    stage,
    `SELECT {pack:String}, experiment, variant, u.country, u.signup_month, u.platform,
       count() AS exposed, countIf(window_over) AS n,
       ${MEASURE_SUMS.map(([sum, value]) => `sumIf(${value}, window_over) AS ${sum}`).join(', ')}
     FROM (${exposedUsers(windowDays)}) AS a
     LEFT JOIN (SELECT user_key, country, formatDateTime(signup_at, '%Y-%m') AS signup_month, platform
                FROM dim_users WHERE pack = {pack:String}) AS u ON u.user_key = a.user_key
     GROUP BY experiment, variant, u.country, u.signup_month, u.platform`,
    { pack, experiments, end },
  );
}

function summary(sums: VariantSums, measure: AbMetric['measure']): CovariateSummary {
  const n = sums.n;
  const get = (suffix: string) => Number(sums[`${measure}_${suffix}`] ?? 0);
  const mean = get('sy') / n;
  const covariateMean = get('sx') / n;
  const sampleVariance = (squares: number, average: number) =>
    n > 1 ? Math.max(0, (squares - n * average * average) / (n - 1)) : 0;
  return {
    n,
    mean,
    variance: sampleVariance(get('syy'), mean),
    covariateMean,
    covariateVariance: sampleVariance(get('sxx'), covariateMean),
    covariance: n > 1 ? (get('sxy') - n * mean * covariateMean) / (n - 1) : 0,
  };
}
