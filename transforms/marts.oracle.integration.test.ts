// The oracle test: every mart computed a second time, independently — plain SQL written here, run
// by Postgres on the source tables, with the MongoDB documents read by the driver and loaded next
// to them — and compared with what the transforms built in ClickHouse: counts exactly, rates and
// means to 1e-9. MongoDB is the stand-in unless TRIBUTARY_MONGO_URL names a real server.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadDocumentsIntoPostgres } from '../test/learning-oracle.ts';
import { learningWarehouse, SOURCE, type LearningWarehouse } from '../test/learning-warehouse.ts';
import { MONGO_SERVER } from '../test/mongo.ts';
import {
  abResultsOracle,
  contentPerformanceOracle,
  contentWeeklyOracle,
  dailySegmentsOracle,
  dailyUserMetricsOracle,
  DAU_ORACLE,
  expectSameRows,
  retentionOracle,
  type Row,
} from '../test/mart-oracle.ts';
import { learningPack } from '../packs/learning/index.ts';
import { LEARNING_AB_METRICS } from '../packs/learning/mapping.ts';
import { segmentAbResults } from './marts/ab-results.ts';
import { runTransforms } from './run.ts';

const PACK = 'learning';
const VIEWS = learningPack.mapping(SOURCE).viewEventTypes;
const CONTENT_ORACLE = contentPerformanceOracle(
  VIEWS,
  'lesson_start',
  `SELECT created_at::date AS day, lesson_id::text AS content_id, 'lesson' AS content_type,
     count(*) AS rating_count, sum(rating) AS rating_sum
   FROM lesson_reviews WHERE rating IS NOT NULL AND lesson_id IS NOT NULL GROUP BY 1, 2, 3`,
);
let data: LearningWarehouse;

beforeAll(async () => {
  data = await learningWarehouse({ users: 120, days: 21, seed: 3 });
  await runTransforms({
    warehouse: data.warehouse,
    pack: PACK,
    mapping: learningPack.mapping(SOURCE),
    full: true,
  });
  await loadDocumentsIntoPostgres(data);
}, 600_000);
afterAll(async () => {
  await data?.close();
});

async function oracle(sql: string): Promise<Row[]> {
  return (await data.postgres.query(sql)).rows as Row[];
}

async function mart(sql: string): Promise<Row[]> {
  return data.warehouse.query<Row>(sql, { pack: PACK });
}

describe(`marts against an independent Postgres oracle (documents from the ${MONGO_SERVER})`, () => {
  it('mart_daily_user_metrics', async () => {
    expectSameRows(
      await mart(`SELECT toString(day) AS day, user_id, events, sessions, active_seconds, content_views, completions,
          score_sum, score_count, value FROM mart_daily_user_metrics WHERE pack = {pack:String}`),
      await oracle(dailyUserMetricsOracle(VIEWS)),
      ['day', 'user_id'],
    );
  });

  it('mart_dau', async () => {
    expectSameRows(
      await mart(
        `SELECT toString(day) AS day, dau, wau, mau, stickiness FROM mart_dau WHERE pack = {pack:String}`,
      ),
      await oracle(DAU_ORACLE),
      ['day'],
    );
  });

  it('mart_content_performance', async () => {
    expectSameRows(
      await mart(`SELECT toString(day) AS day, content_id, content_type, unique_users, views, completions, completion_rate,
          avg_time_spent_s, avg_score, pass_rate, bounce_rate, rating_avg, rating_count,
          starters, completers, scorers, passers
        FROM mart_content_performance WHERE pack = {pack:String}`),
      await oracle(CONTENT_ORACLE),
      ['day', 'content_id', 'content_type'],
    );
  });

  it('agg_content_weekly', async () => {
    expectSameRows(
      await mart(`SELECT toString(week) AS week, content_id, content_type, user_days, views, starters, completers,
          scorers, passers, bounces, rating_sum, rating_count FROM agg_content_weekly WHERE pack = {pack:String}`),
      await oracle(contentWeeklyOracle(CONTENT_ORACLE)),
      ['week', 'content_id', 'content_type'],
    );
  });

  it('agg_daily_segments', async () => {
    const rows =
      await mart(`SELECT toString(day) AS day, country, signup_month, active_users, events, new_users
      FROM agg_daily_segments WHERE pack = {pack:String}`);
    expectSameRows(
      rows,
      await oracle(
        dailySegmentsOracle(`SELECT u.id::text AS user_id, coalesce(p.country_code, '') AS country,
            u.created_at::date AS signup_day FROM users u LEFT JOIN user_profiles p ON p.user_id = u.id`),
      ),
      ['day', 'country', 'signup_month'],
    );
    // Not vacuous: more than one country is counted.
    expect(new Set(rows.map((row) => row.country)).size).toBeGreaterThan(1);
  });

  it('every rate of mart_content_performance is in [0, 1]', async () => {
    const outside =
      await mart(`SELECT toString(day) AS day, content_id, completion_rate, pass_rate, bounce_rate
      FROM mart_content_performance WHERE pack = {pack:String}
        AND (completion_rate NOT BETWEEN 0 AND 1 OR pass_rate NOT BETWEEN 0 AND 1 OR bounce_rate NOT BETWEEN 0 AND 1)`);
    expect(outside).toEqual([]);
    // Not vacuous: rates were computed at all.
    const [counted] =
      await mart(`SELECT countIf(completion_rate IS NOT NULL) AS completion, countIf(pass_rate IS NOT NULL) AS pass
      FROM mart_content_performance WHERE pack = {pack:String}`);
    expect(Number(counted?.completion)).toBeGreaterThan(0);
    expect(Number(counted?.pass)).toBeGreaterThan(0);
  });

  it('mart_retention, by first activity and by signup, daily and weekly', async () => {
    expectSameRows(
      await mart(`SELECT cohort_kind, grain, toString(cohort_start) AS cohort_start, period, cohort_size, retained,
          retention_rate, unbounded_retained, unbounded_rate FROM mart_retention WHERE pack = {pack:String}`),
      (
        await Promise.all(
          retentionOracle(`SELECT id::text AS user_id, created_at::date AS cohort_day FROM users`).map(
            oracle,
          ),
        )
      ).flat(),
      ['cohort_kind', 'grain', 'cohort_start', 'period'],
    );
  });

  it('mart_ab_results: n, mean and variance per experiment, variant and metric; exposures against the split', async () => {
    const expected = await oracle(
      abResultsOracle(
        'SELECT experiment, variant, user_id, started_at FROM oracle_exposures',
        LEARNING_AB_METRICS,
        7,
      ),
    );
    expectSameRows(
      await mart(
        `SELECT experiment, variant, metric, n, mean, variance FROM mart_ab_results WHERE pack = {pack:String}`,
      ),
      expected,
      ['experiment', 'variant', 'metric'],
    );
    // The SRM test's counts: every first exposure, whatever its window.
    const counts = await oracle(`SELECT experiment, variant, count(DISTINCT user_id) AS n FROM (
        SELECT DISTINCT ON (experiment, user_id) experiment, user_id, variant FROM oracle_exposures
        ORDER BY experiment, user_id, started_at) e GROUP BY 1, 2`);
    expectSameRows(
      await mart(
        `SELECT experiment, variant, count() AS n FROM fact_exposures WHERE pack = {pack:String} GROUP BY 1, 2`,
      ),
      counts,
      ['experiment', 'variant'],
    );
  });

  it("A/B results for a segment (country, signup month): the segment's users against the oracle; no segment is the mart itself", async () => {
    const users = `SELECT u.id::text AS user_id, coalesce(p.country_code, '') AS country,
        to_char(u.created_at::date, 'YYYY-MM') AS signup_month
      FROM users u LEFT JOIN user_profiles p ON p.user_id = u.id`;
    // The segments most exposed users fall in: not vacuous.
    const [busiest] = await oracle(`SELECT country, signup_month, count(*) AS n
      FROM (${users}) u JOIN oracle_exposures e ON e.user_id = u.user_id
      WHERE country <> '' GROUP BY 1, 2 ORDER BY n DESC, 1, 2 LIMIT 1`);
    const country = String(busiest?.country);
    const signupMonth = String(busiest?.signup_month);
    const cases = [
      { country, signupMonth: '', where: `country = '${country}'` },
      { country: '', signupMonth, where: `signup_month = '${signupMonth}'` },
      { country, signupMonth, where: `country = '${country}' AND signup_month = '${signupMonth}'` },
    ];
    for (const segment of cases) {
      const expected = await oracle(
        abResultsOracle(
          `SELECT experiment, variant, user_id, started_at FROM oracle_exposures
           WHERE user_id IN (SELECT user_id FROM (${users}) u WHERE ${segment.where})`,
          LEARNING_AB_METRICS,
          7,
        ),
      );
      const rows = (await segmentAbResults(data.warehouse, PACK, segment)) as Row[];
      expectSameRows(
        rows.map(({ experiment, variant, metric, n, mean, variance }) => ({
          experiment,
          variant,
          metric,
          n,
          mean,
          variance,
        })),
        expected,
        ['experiment', 'variant', 'metric'],
      );
      // Every row is a real subset of the whole: fewer users than the mart counts.
      const whole = await mart(`SELECT sum(n) AS n FROM mart_ab_results WHERE pack = {pack:String}`);
      expect(rows.reduce((sum, row) => sum + Number(row.n), 0)).toBeLessThan(Number(whole[0]?.n));
    }
    // No segment: every figure and decision equals the mart's, statistics and all.
    const columns = [
      'n',
      'mean',
      'variance',
      'rel_lift',
      'ci_low',
      'ci_high',
      'p_value',
      'cuped_ci_low',
      'msprt_p_value',
      'decision_p_value',
      'srm_p_value',
      'decision',
    ];
    expectSameRows(
      ((await segmentAbResults(data.warehouse, PACK, { country: '', signupMonth: '' })) as Row[]).map((row) =>
        Object.fromEntries(['experiment', 'variant', 'metric', ...columns].map((c) => [c, row[c] ?? null])),
      ),
      await mart(
        `SELECT experiment, variant, metric, ${columns.join(', ')} FROM mart_ab_results WHERE pack = {pack:String}`,
      ),
      ['experiment', 'variant', 'metric'],
    );
  });
});
