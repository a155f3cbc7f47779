// The truths the learning simulator plants, found again in the marts of the default demo (`tributary
// demo` with no options: 1000 users, 30 days, seed 42, documents on the mongo-java-server stand-in):
// the onboarding experiment's +15% on completing a lesson within 7 days, the SRM experiment's
// 55/45 split, a false-positive rate near 5% over 200 A/A re-randomisations, CUPED's narrower
// interval, and retention curves that behave.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ONBOARDING_TREATMENT_LIFT } from '../packs/learning/experiments.ts';
import { openWarehouse, type Warehouse } from '../warehouse/index.ts';
import { twoProportionZTest } from './stats/tests.ts';
import { scratchDir } from '../test/scratch.ts';

const CLI = new URL('../bin/tributary.js', import.meta.url).pathname;
let warehouse: Warehouse;
let demo: { status: number | null; stdout: string; stderr: string };

beforeAll(async () => {
  const dataDir = await scratchDir('planted');
  demo = spawnSync(process.execPath, [CLI, 'demo', '--data-dir', dataDir], {
    encoding: 'utf8',
    env: { ...process.env, TRIBUTARY_PII_KEY: 'planted-test-key-0123456789' },
    maxBuffer: 64 * 1024 * 1024,
  });
  warehouse = await openWarehouse({ kind: 'chdb', path: join(dataDir, 'warehouse') });
}, 900_000);
afterAll(async () => {
  await warehouse?.close();
});

interface AbRow {
  experiment: string;
  metric: string;
  rel_lift: number;
  ci_low: number;
  ci_high: number;
  p_value: number;
  cuped_ci_low: number;
  cuped_ci_high: number;
  srm_flag: number;
  decision: string;
}

async function treated(experiment: string, metric: string): Promise<AbRow> {
  const [row] = await warehouse.query<AbRow>(
    `SELECT experiment, metric, rel_lift, ci_low, ci_high, p_value, cuped_ci_low, cuped_ci_high, srm_flag, decision
     FROM mart_ab_results WHERE pack = 'learning' AND experiment = {experiment:String} AND metric = {metric:String}
       AND variant = 'treatment'`,
    { experiment, metric },
  );
  if (!row) throw new Error(`no treatment row for ${experiment} / ${metric}`);
  return row;
}

describe('planted truths in the default demo (documents on the mongo-java-server stand-in)', () => {
  it('the demo ends with the A/B table', () => {
    expect(demo.status, demo.stderr.slice(-2000)).toBe(0);
    expect(demo.stdout).toMatch(/exp_onboarding_v2\s+completed_lesson_7d/);
  });

  it("exp_onboarding_v2: a positive lift on completed_lesson_7d whose CI covers the planted +15%, its p-value the CI's own", async () => {
    const row = await treated('exp_onboarding_v2', 'completed_lesson_7d');
    // One test: p < 0.05 exactly when the relative interval excludes 0 (the demo's sample is small
    // enough for either outcome, so the agreement is what is checked).
    expect(row.p_value < 0.05).toBe(row.ci_low > 0 || row.ci_high < 0);
    expect(row.rel_lift).toBeGreaterThan(0);
    expect(row.ci_low).toBeLessThanOrEqual(ONBOARDING_TREATMENT_LIFT);
    expect(row.ci_high).toBeGreaterThanOrEqual(ONBOARDING_TREATMENT_LIFT);
    expect(row.srm_flag).toBe(0);
  });

  it('every decision follows from the numbers beside it', async () => {
    const rows = await warehouse.query<Record<string, number | string>>(
      `SELECT experiment, variant, metric, decision, decision_p_value, decision_basis, srm_flag, msprt_p_value,
         seq_ci_low, seq_ci_high, rel_lift
       FROM mart_ab_results WHERE pack = 'learning' AND control_mean IS NOT NULL`,
    );
    expect(rows.length).toBeGreaterThan(0);
    for (const row of rows) {
      const significant = Number(row.decision_p_value) < 0.05 && Number(row.srm_flag) === 0;
      expect(row.decision !== 'continue_testing', JSON.stringify(row)).toBe(significant);
      if (significant) expect(row.decision).toBe(Number(row.rel_lift) > 0 ? 'implement' : 'reject');
      // No planned sample in the demo: the sequential test decides, and its interval agrees with it.
      expect(row.decision_basis).toBe('sequential');
      expect(Number(row.decision_p_value)).toBeGreaterThanOrEqual(Number(row.msprt_p_value));
      expect(Number(row.msprt_p_value) < 0.05).toBe(
        Number(row.seq_ci_low) > 0 || Number(row.seq_ci_high) < 0,
      );
    }
  });

  it('exp_srm_broken is flagged for its sample-ratio mismatch, the others are not', async () => {
    expect((await treated('exp_srm_broken', 'completed_lesson_7d')).srm_flag).toBe(1);
    expect((await treated('exp_srm_broken', 'completed_lesson_7d')).decision).toBe('continue_testing');
    expect((await treated('exp_aa_null', 'completed_lesson_7d')).srm_flag).toBe(0);
  });

  it("CUPED's interval is narrower than the plain one on active_days_7d", async () => {
    const row = await treated('exp_aa_null', 'active_days_7d');
    expect(row.cuped_ci_high - row.cuped_ci_low).toBeLessThan(row.ci_high - row.ci_low);
  });

  it('200 A/A re-randomisations of exp_aa_null reject at α = 0.05 between 2% and 8% of the time', async () => {
    // Each simulation splits exp_aa_null's analysed users in two by a hash of (user, simulation);
    // ClickHouse returns per-simulation, per-arm sufficient statistics only.
    const sums = await warehouse.query<{ simulation: number; arm: number; n: string; completed: string }>(
      `WITH users AS (
         SELECT e.user_id,
           toUInt8(maxIf(f.is_completion, f.ts >= e.first_exposed_at AND f.ts < e.first_exposed_at + toIntervalDay(7))) AS completed
         FROM (SELECT * FROM fact_exposures WHERE pack = 'learning' AND experiment = 'exp_aa_null'
               AND first_exposed_at + toIntervalDay(7) <= (SELECT max(ts) FROM fact_activity WHERE pack = 'learning')) AS e
         LEFT JOIN (SELECT user_id, ts, is_completion FROM fact_activity WHERE pack = 'learning') AS f ON f.user_id = e.user_id
         GROUP BY e.user_id)
       SELECT simulation, cityHash64(user_id, simulation) % 2 AS arm, count() AS n, sum(completed) AS completed
       FROM users ARRAY JOIN range(200) AS simulation
       GROUP BY simulation, arm ORDER BY simulation, arm`,
    );
    let rejections = 0;
    for (let simulation = 0; simulation < 200; simulation++) {
      const [a, b] = sums.filter((row) => Number(row.simulation) === simulation);
      if (!a || !b) throw new Error(`simulation ${simulation} lacks an arm`);
      const test = twoProportionZTest(
        { successes: Number(a.completed), n: Number(a.n) },
        { successes: Number(b.completed), n: Number(b.n) },
      );
      if (test.pValue < 0.05) rejections++;
    }
    expect(rejections / 200).toBeGreaterThanOrEqual(0.02);
    expect(rejections / 200).toBeLessThanOrEqual(0.08);
  });

  it('retention: period 0 is 1 for every cohort, the unbounded curve never rises, young cohorts stop early', async () => {
    const notOne = await warehouse.query(
      `SELECT * FROM mart_retention WHERE pack = 'learning' AND period = 0 AND retention_rate != 1`,
    );
    expect(notOne).toEqual([]);
    const rising = await warehouse.query(
      `SELECT cohort_kind, grain, cohort_start,
         arrayMap(point -> point.2, arraySort(groupArray((period, unbounded_rate)))) AS curve
       FROM mart_retention WHERE pack = 'learning'
       GROUP BY cohort_kind, grain, cohort_start
       HAVING arrayExists((rate, index) -> index > 1 AND rate > curve[index - 1], curve, arrayEnumerate(curve))`,
    );
    expect(rising).toEqual([]);
    // A period is present only once the data covers all of it; absent, not zero, before.
    const tooYoung = await warehouse.query(
      `SELECT * FROM mart_retention WHERE pack = 'learning'
         AND cohort_start + (period + 1) * if(grain = 'week', 7, 1) - 1 >
           (SELECT max(day) FROM fact_activity WHERE pack = 'learning')`,
    );
    expect(tooYoung).toEqual([]);
    // Every daily cohort has exactly the periods the data covers: day 0 up to the last day (or 90).
    const incomplete = await warehouse.query(
      `SELECT cohort_kind, cohort_start, count() AS periods,
         least(91, dateDiff('day', cohort_start, (SELECT max(day) FROM fact_activity WHERE pack = 'learning')) + 1) AS covered
       FROM mart_retention WHERE pack = 'learning' AND grain = 'day'
       GROUP BY cohort_kind, cohort_start HAVING periods != covered`,
    );
    expect(incomplete).toEqual([]);
  });
});
