// The oracle test: every mart computed a second time, independently — plain SQL written here, run
// by Postgres on the source tables, with the MongoDB documents read by the driver and loaded next
// to them — and compared with what the transforms built in ClickHouse: counts exactly, rates and
// means to 1e-9. MongoDB is the stand-in unless TRIBUTARY_MONGO_URL names a real server.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LEARNING_USERS_ORACLE, loadDocumentsIntoPostgres } from '../test/learning-oracle.ts';
import { learningWarehouse, SOURCE, type LearningWarehouse } from '../test/learning-warehouse.ts';
import { MONGO_SERVER } from '../test/mongo.ts';
import {
  abResultsOracle,
  contentPerformanceOracle,
  contentSegmentsOracle,
  contentWeeklyOracle,
  dailySegmentsOracle,
  dailyUserMetricsOracle,
  DAU_ORACLE,
  dauOracle,
  expectSameRows,
  retentionOracle,
  segmentLeaderboardOracle,
  type Row,
} from '../test/mart-oracle.ts';
import { panelById } from '../dashboards/panels.ts';
import { filtersSchema } from '../dashboards/filters.ts';
import { learningPack } from '../packs/learning/index.ts';
import { LEARNING_AB_METRICS } from '../packs/learning/mapping.ts';
import { segmentAbResults } from './marts/ab-results.ts';
import { runTransforms } from './run.ts';

const PACK = 'learning';
const VIEWS = learningPack.mapping(SOURCE).viewEventTypes;
/** The pack's ratings, one row per review (user_id, day, content_id, content_type, rating). */
const RATINGS_ORACLE = `SELECT user_id::text AS user_id, created_at::date AS day, lesson_id::text AS content_id,
    'lesson' AS content_type, rating FROM lesson_reviews WHERE rating IS NOT NULL AND lesson_id IS NOT NULL`;
const CONTENT_ORACLE = contentPerformanceOracle(
  VIEWS,
  'lesson_start',
  `SELECT day, content_id, content_type, count(*) AS rating_count, sum(rating) AS rating_sum
   FROM (${RATINGS_ORACLE}) r GROUP BY 1, 2, 3`,
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

  it("the Overview's active users narrowed to a country, to a platform, to a signup month: the segment's users only", async () => {
    const [range] = await oracle(
      `SELECT min(ts::date)::text AS first, max(ts::date)::text AS last FROM oracle_facts`,
    );
    const active = panelById('overview.active');
    if (!active) throw new Error('no active-users panel');
    const segments = [
      ['country', 'country', 'country'],
      ['platform', 'platform', 'platform'],
      ['cohort', "to_char(signup_day, 'YYYY-MM')", 'signup month'],
    ] as const;
    for (const [filter, column, name] of segments) {
      // The segment value with the most active users: neither everyone nor empty.
      const [busiest] =
        await oracle(`SELECT ${column} AS value FROM oracle_facts f JOIN (${LEARNING_USERS_ORACLE}) u USING (user_id)
        WHERE ${column} <> '' GROUP BY 1 ORDER BY count(DISTINCT f.user_id) DESC, 1 LIMIT 1`);
      const value = String(busiest?.value);
      const shown = await active.query(data.warehouse, {
        ...filtersSchema.parse({ pack: PACK, [filter]: value }),
        from: String(range?.first),
        to: String(range?.last),
      });
      const expected = await oracle(
        dauOracle(`SELECT user_id FROM (${LEARNING_USERS_ORACLE}) u WHERE ${column} = '${value}'`),
      );
      expectSameRows(shown, expected, ['day']);
      // Not vacuous: the segment is a real part of everyone, on a day with users in it.
      const all = await oracle(DAU_ORACLE);
      const mau = (rows: Row[]) => Math.max(...rows.map((row) => Number(row.mau)));
      expect(mau(shown), `${name} ${value}`).toBeGreaterThan(0);
      expect(mau(shown), `${name} ${value}`).toBeLessThan(mau(all));
    }
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

  it("dim_users' segment columns: country, platform (the first session's) and signup day", async () => {
    const rows = await mart(`SELECT user_id, country, platform, toString(toDate(signup_at)) AS signup_day
      FROM dim_users WHERE pack = {pack:String}`);
    expectSameRows(
      rows,
      await oracle(
        `SELECT user_id, country, platform, signup_day::text AS signup_day FROM (${LEARNING_USERS_ORACLE}) u`,
      ),
      ['user_id'],
    );
    // Not vacuous: several platforms, and users who never opened a session have none.
    expect(
      new Set(rows.map((row) => row.platform).filter((platform) => platform !== '')).size,
    ).toBeGreaterThan(1);
  });

  it('agg_daily_segments', async () => {
    const rows =
      await mart(`SELECT toString(day) AS day, country, signup_month, platform, active_users, events, new_users
      FROM agg_daily_segments WHERE pack = {pack:String}`);
    expectSameRows(rows, await oracle(dailySegmentsOracle(LEARNING_USERS_ORACLE)), [
      'day',
      'country',
      'signup_month',
      'platform',
    ]);
    // Not vacuous: more than one country and more than one platform are counted.
    expect(new Set(rows.map((row) => row.country)).size).toBeGreaterThan(1);
    expect(new Set(rows.map((row) => row.platform)).size).toBeGreaterThan(1);
  });

  it('agg_content_segments', async () => {
    const rows =
      await mart(`SELECT toString(day) AS day, country, platform, signup_month, content_id, content_type,
        user_days, views, starters, completers, scorers, passers, bounces
      FROM agg_content_segments WHERE pack = {pack:String}`);
    expectSameRows(rows, await oracle(contentSegmentsOracle(VIEWS, 'lesson_start', LEARNING_USERS_ORACLE)), [
      'day',
      'country',
      'platform',
      'signup_month',
      'content_id',
      'content_type',
    ]);
    // Not vacuous: several countries and platforms, and every flag counted somewhere.
    expect(new Set(rows.map((row) => row.country)).size).toBeGreaterThan(1);
    expect(new Set(rows.map((row) => row.platform)).size).toBeGreaterThan(1);
    for (const flag of ['views', 'starters', 'completers', 'scorers', 'passers', 'bounces'])
      expect(
        rows.some((row) => Number(row[flag]) > 0),
        flag,
      ).toBe(true);
  });

  it("the Content leaderboard narrowed to a country, to a platform: the segment's users only, against the oracle", async () => {
    const [range] = await oracle(
      `SELECT min(ts::date)::text AS first, max(ts::date)::text AS last FROM oracle_facts`,
    );
    const from = String(range?.first);
    const to = String(range?.last);
    // The country and the platform with the most content facts: neither is everyone, neither is empty.
    const busiest = async (column: 'country' | 'platform') =>
      String(
        (
          await oracle(`SELECT u.${column} AS value FROM oracle_facts f JOIN (${LEARNING_USERS_ORACLE}) u USING (user_id)
            WHERE f.content_id <> '' AND u.${column} <> '' GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1`)
        )[0]?.value,
      );
    const leaderboard = panelById('content.leaderboard');
    if (!leaderboard) throw new Error('no content leaderboard panel');
    const whole = await leaderboard.query(data.warehouse, {
      ...filtersSchema.parse({ pack: PACK }),
      from,
      to,
    });
    const userDays = (rows: Row[]) => rows.reduce((sum, row) => sum + Number(row.user_days), 0);
    for (const column of ['country', 'platform'] as const) {
      const value = await busiest(column);
      const shown = await leaderboard.query(data.warehouse, {
        ...filtersSchema.parse({ pack: PACK, [column]: value }),
        from,
        to,
      });
      const expected = await oracle(
        segmentLeaderboardOracle(
          VIEWS,
          'lesson_start',
          RATINGS_ORACLE,
          `SELECT user_id FROM (${LEARNING_USERS_ORACLE}) u WHERE ${column} = '${value}'`,
          from,
          to,
        ),
      );
      expectSameRows(
        shown.map(({ title: _title, ...row }) => row),
        expected,
        ['content_id', 'content_type'],
      );
      // Not vacuous: the segment is a real part of the whole, and rated items are among those shown.
      expect(userDays(shown), `${column} ${value}`).toBeLessThan(userDays(whole));
      expect(shown.some((row) => Number(row.rating_count) > 0)).toBe(true);
    }
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

  it("A/B results for a segment (country, platform, signup month): the segment's users against the oracle; no segment is the mart itself", async () => {
    const users = `SELECT user_id, country, platform, to_char(signup_day, 'YYYY-MM') AS signup_month
      FROM (${LEARNING_USERS_ORACLE}) u`;
    // The segments most exposed users fall in: not vacuous.
    const [busiest] = await oracle(`SELECT country, platform, signup_month, count(*) AS n
      FROM (${users}) u JOIN oracle_exposures e ON e.user_id = u.user_id
      WHERE country <> '' AND platform <> '' GROUP BY 1, 2, 3 ORDER BY n DESC, 1, 2, 3 LIMIT 1`);
    const country = String(busiest?.country);
    const platform = String(busiest?.platform);
    const signupMonth = String(busiest?.signup_month);
    const cases = [
      { country, platform: '', signupMonth: '', where: `country = '${country}'` },
      { country: '', platform, signupMonth: '', where: `platform = '${platform}'` },
      { country: '', platform: '', signupMonth, where: `signup_month = '${signupMonth}'` },
      {
        country,
        platform,
        signupMonth,
        where: `country = '${country}' AND platform = '${platform}' AND signup_month = '${signupMonth}'`,
      },
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
      (
        (await segmentAbResults(data.warehouse, PACK, {
          country: '',
          platform: '',
          signupMonth: '',
        })) as Row[]
      ).map((row) =>
        Object.fromEntries(['experiment', 'variant', 'metric', ...columns].map((c) => [c, row[c] ?? null])),
      ),
      await mart(
        `SELECT experiment, variant, metric, ${columns.join(', ')} FROM mart_ab_results WHERE pack = {pack:String}`,
      ),
      ['experiment', 'variant', 'metric'],
    );
  });
});
