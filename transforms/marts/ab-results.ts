// mart_ab_results: per experiment, variant and metric — n, mean, variance; against control the
// absolute and relative lift with 95% intervals (delta method for the relative one), the p-value
// (two-proportion z for a binary metric, Welch otherwise), the CUPED-adjusted relative lift with the
// same metric over the window before exposure as covariate, the always-valid mSPRT p-value, the
// sample-ratio-mismatch test against the configured split, and the decision. Users count once their
// analysis window is over; ClickHouse returns per-variant sums, never per-user rows. `only` limits
// the run to one experiment.
import type { PackMapping } from '../../packs/index.ts';
import type { Warehouse } from '../../warehouse/index.ts';
import {
  chiSquareGoodnessOfFit,
  cupedAdjust,
  decide,
  lift,
  msprtPValue,
  type CovariateSummary,
} from '../stats/tests.ts';

export const AB_METRICS = [
  { name: 'completed_lesson_7d', binary: true },
  { name: 'active_days_7d', binary: false },
  { name: 'events_7d', binary: false },
] as const;

/** A sample-ratio mismatch this unlikely under the configured split means the assignment is broken. */
export const SRM_ALPHA = 0.001;

/** mSPRT's mixing distribution: effects of about a tenth of the metric's standard deviation. */
const MIXING_SCALE = 0.01;

interface VariantSums {
  experiment: string;
  variant: string;
  n: number;
  [sum: string]: number | string;
}

export async function recomputeAbResults(
  warehouse: Warehouse,
  pack: string,
  mapping: PackMapping,
  existing: Set<string>,
  only?: string,
): Promise<void> {
  await warehouse.command(
    `DELETE FROM mart_ab_results WHERE pack = {pack:String} ${only ? 'AND experiment = {only:String}' : ''}`,
    { pack, only: only ?? '' },
  );
  if (!mapping.experimentConfigs.mirrors.every((mirror) => existing.has(mirror))) return;
  const configs = await warehouse.query<{ experiment: string; variant: string; share: number }>(
    mapping.experimentConfigs.select,
  );
  const [end] = await warehouse.query<{ end: string }>(
    `SELECT toString(max(ts)) AS end FROM fact_activity WHERE pack = {pack:String}`,
    { pack },
  );
  if (!end) return;
  const experiments = [...new Set(configs.map((config) => config.experiment))].filter(
    (experiment) => only === undefined || experiment === only,
  );
  // One pass over the facts for every experiment: the exposures of all of them are one hash table.
  const allSums = await variantSums(warehouse, pack, experiments, mapping.analysisWindowDays, end.end);
  for (const experiment of experiments) {
    const variants = configs.filter((config) => config.experiment === experiment);
    const srm = await sampleRatio(warehouse, pack, experiment, variants);
    const sums = allSums.filter((entry) => entry.experiment === experiment);
    const control = sums.find((entry) => entry.variant === 'control') ?? sums[0];
    if (!control) continue;
    const rows: Record<string, unknown>[] = [];
    for (const metric of AB_METRICS) {
      const controlSummary = summary(control, metric.name);
      for (const variant of sums) {
        const own = summary(variant, metric.name);
        const row: Record<string, unknown> = {
          pack,
          experiment,
          variant: variant.variant,
          metric: metric.name,
          n: own.n,
          mean: own.mean,
          variance: own.variance,
          srm_p_value: srm.pValue,
          srm_flag: srm.flag ? 1 : 0,
          decision: 'continue_testing',
          computed_at: end.end,
        };
        if (variant !== control && own.n > 1 && controlSummary.n > 1 && controlSummary.mean !== 0) {
          const plain = lift(controlSummary, own, metric.binary);
          const [cupedControl, cupedTreatment] = cupedAdjust(controlSummary, own);
          const cuped = lift(cupedControl, cupedTreatment, false);
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
            msprt_p_value: msprtPValue(
              controlSummary,
              own,
              (MIXING_SCALE * (controlSummary.variance + own.variance)) / 2,
            ),
            decision: decide(plain.pValue, plain.absolute, srm.flag),
          });
        }
        rows.push(row);
      }
    }
    if (rows.length > 0) await warehouse.insert('mart_ab_results', rows);
  }
}

async function sampleRatio(
  warehouse: Warehouse,
  pack: string,
  experiment: string,
  variants: { variant: string; share: number }[],
): Promise<{ pValue: number; flag: boolean }> {
  const counts = await warehouse.query<{ variant: string; n: string }>(
    `SELECT variant, count() AS n FROM fact_exposures WHERE pack = {pack:String} AND experiment = {experiment:String} GROUP BY variant`,
    { pack, experiment },
  );
  const observed = variants.map((entry) =>
    Number(counts.find((count) => count.variant === entry.variant)?.n ?? 0),
  );
  if (observed.reduce((sum, count) => sum + count, 0) === 0 || variants.length < 2)
    return { pValue: 1, flag: false };
  const { pValue } = chiSquareGoodnessOfFit(
    observed,
    variants.map((entry) => entry.share),
  );
  return { pValue, flag: pValue < SRM_ALPHA };
}

/** Per experiment and variant: n and, per metric, Σy, Σy², Σx, Σx², Σxy (x = before exposure). */
async function variantSums(
  warehouse: Warehouse,
  pack: string,
  experiments: string[],
  windowDays: number,
  end: string,
): Promise<VariantSums[]> {
  const after = `f.ts >= e.first_exposed_at AND f.ts < e.first_exposed_at + toIntervalDay(${windowDays})`;
  const before = `f.ts >= e.first_exposed_at - toIntervalDay(${windowDays}) AND f.ts < e.first_exposed_at`;
  const perUser = {
    completed_lesson_7d: (window: string) => `toFloat64(maxIf(f.is_completion, ${window}))`,
    active_days_7d: (window: string) => `toFloat64(uniqExactIf(f.day, ${window}))`,
    events_7d: (window: string) => `toFloat64(countIf(${window}))`,
  };
  const userColumns = AB_METRICS.flatMap(({ name }) => [
    `${perUser[name](after)} AS ${name}_y`,
    `${perUser[name](before)} AS ${name}_x`,
  ]).join(', ');
  const sums = AB_METRICS.flatMap(({ name }) => [
    `sum(${name}_y) AS ${name}_sy`,
    `sum(${name}_y * ${name}_y) AS ${name}_syy`,
    `sum(${name}_x) AS ${name}_sx`,
    `sum(${name}_x * ${name}_x) AS ${name}_sxx`,
    `sum(${name}_x * ${name}_y) AS ${name}_sxy`,
  ]).join(', ');
  const rows = await warehouse.query<Record<string, string | number>>(
    `SELECT experiment, variant, count() AS n, ${sums}
     FROM (
       SELECT e.experiment AS experiment, e.variant AS variant, e.user_id, ${userColumns}
       -- The exposures are the join's hash table (its right side); the facts stream past it.
       FROM (SELECT user_id, ts, day, is_completion FROM fact_activity WHERE pack = {pack:String}) AS f
       RIGHT JOIN (SELECT * FROM fact_exposures WHERE pack = {pack:String} AND experiment IN {experiments:Array(String)}
             AND first_exposed_at + toIntervalDay(${windowDays}) <= toDateTime64({end:String}, 3, 'UTC')) AS e
         ON f.user_id = e.user_id
       GROUP BY e.experiment, e.variant, e.user_id
     )
     GROUP BY experiment, variant ORDER BY experiment, variant`,
    { pack, experiments, end },
  );
  return rows.map((row) => {
    const result: VariantSums = {
      experiment: String(row.experiment),
      variant: String(row.variant),
      n: Number(row.n),
    };
    for (const [key, value] of Object.entries(row))
      if (key !== 'variant' && key !== 'experiment') result[key] = Number(value);
    return result;
  });
}

function summary(sums: VariantSums, metric: string): CovariateSummary {
  const n = sums.n;
  const get = (suffix: string) => Number(sums[`${metric}_${suffix}`] ?? 0);
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
