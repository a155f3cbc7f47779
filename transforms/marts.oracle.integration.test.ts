// The oracle test: every mart computed a second time, independently — plain SQL written here, run
// by Postgres on the source tables, with the MongoDB documents read by the driver and loaded next
// to them — and compared with what the transforms built in ClickHouse: counts exactly, rates and
// means to 1e-9. MongoDB is the stand-in unless TRIBUTARY_MONGO_URL names a real server.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadDocumentsIntoPostgres } from '../test/learning-oracle.ts';
import { learningWarehouse, SOURCE, type LearningWarehouse } from '../test/learning-warehouse.ts';
import { MONGO_SERVER } from '../test/mongo.ts';
import { expectSameRows, type Row } from '../test/same-rows.ts';
import { learningPack } from '../packs/learning/index.ts';
import { runTransforms } from './run.ts';

const PACK = 'learning';
const VIEWS = `('lesson_start', 'paragraph_read', 'word_click', 'audio_play')`;
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
      await oracle(`SELECT ts::date::text AS day, user_id, count(*) AS events,
          count(DISTINCT session_id) FILTER (WHERE session_id <> '') AS sessions, sum(duration_s) AS active_seconds,
          count(DISTINCT content_id) FILTER (WHERE content_id <> '' AND event_type IN ${VIEWS}) AS content_views,
          sum(is_completion) AS completions, coalesce(sum(score), 0) AS score_sum, count(score) AS score_count,
          sum(value) AS value
        FROM oracle_facts GROUP BY 1, 2`),
      ['day', 'user_id'],
    );
  });

  it('mart_dau', async () => {
    expectSameRows(
      await mart(
        `SELECT toString(day) AS day, dau, wau, mau, stickiness FROM mart_dau WHERE pack = {pack:String}`,
      ),
      await oracle(`WITH days AS (
          SELECT generate_series(min(ts::date), max(ts::date), interval '1 day')::date AS day FROM oracle_facts)
        SELECT d.day::text AS day,
          (SELECT count(DISTINCT user_id) FROM oracle_facts f WHERE f.ts::date = d.day) AS dau,
          (SELECT count(DISTINCT user_id) FROM oracle_facts f WHERE f.ts::date BETWEEN d.day - 6 AND d.day) AS wau,
          (SELECT count(DISTINCT user_id) FROM oracle_facts f WHERE f.ts::date BETWEEN d.day - 27 AND d.day) AS mau,
          (SELECT count(DISTINCT user_id) FROM oracle_facts f WHERE f.ts::date = d.day)::float8 /
            nullif((SELECT count(DISTINCT user_id) FROM oracle_facts f WHERE f.ts::date BETWEEN d.day - 27 AND d.day), 0)
            AS stickiness
        FROM days d`),
      ['day'],
    );
  });

  it('mart_content_performance', async () => {
    expectSameRows(
      await mart(`SELECT toString(day) AS day, content_id, content_type, unique_users, views, completions, completion_rate,
          avg_time_spent_s, avg_score, pass_rate, bounce_rate, rating_avg, rating_count,
          starters, completers, scorers, passers
        FROM mart_content_performance WHERE pack = {pack:String}`),
      await oracle(`WITH per_user AS (
          SELECT ts::date AS day, content_id, content_type, user_id, count(*) AS events,
            count(*) FILTER (WHERE event_type IN ${VIEWS}) AS views,
            count(*) FILTER (WHERE event_type = 'lesson_start') AS starts, sum(is_completion) AS completions,
            sum(duration_s) AS seconds, coalesce(sum(score), 0) AS score_sum, count(score) AS scored,
            count(*) FILTER (WHERE score IS NOT NULL AND max_score > 0 AND score * 10 >= max_score * 7) AS passed
          FROM oracle_facts WHERE content_id <> '' GROUP BY 1, 2, 3, 4),
        activity AS (
          SELECT day, content_id, content_type, count(*) AS unique_users, sum(views) AS views,
            sum(completions) AS completions, count(*) FILTER (WHERE completions > 0) AS completers,
            -- A completion whose start was on an earlier day counts as a start on the completion day.
            count(*) FILTER (WHERE starts > 0 OR completions > 0) AS starters, sum(seconds) AS seconds,
            sum(score_sum) AS score_sum, sum(scored) AS scored, count(*) FILTER (WHERE scored > 0) AS scorers,
            count(*) FILTER (WHERE passed > 0) AS passers,
            count(*) FILTER (WHERE events = 1) AS bounced
          FROM per_user GROUP BY 1, 2, 3),
        ratings AS (
          SELECT created_at::date AS day, lesson_id::text AS content_id, 'lesson' AS content_type,
            count(*) AS rating_count, sum(rating) AS rating_sum
          FROM lesson_reviews WHERE rating IS NOT NULL AND lesson_id IS NOT NULL GROUP BY 1, 2, 3)
        SELECT coalesce(a.day, r.day)::text AS day, coalesce(a.content_id, r.content_id) AS content_id,
          coalesce(a.content_type, r.content_type) AS content_type, coalesce(a.unique_users, 0) AS unique_users,
          coalesce(a.views, 0) AS views, coalesce(a.completions, 0) AS completions,
          a.completers::float8 / nullif(a.starters, 0) AS completion_rate,
          a.seconds::float8 / nullif(a.unique_users, 0) AS avg_time_spent_s,
          a.score_sum::float8 / nullif(a.scored, 0) AS avg_score, a.passers::float8 / nullif(a.scorers, 0) AS pass_rate,
          a.bounced::float8 / nullif(a.unique_users, 0) AS bounce_rate,
          r.rating_sum::float8 / nullif(r.rating_count, 0) AS rating_avg, coalesce(r.rating_count, 0) AS rating_count,
          coalesce(a.starters, 0) AS starters, coalesce(a.completers, 0) AS completers,
          coalesce(a.scorers, 0) AS scorers, coalesce(a.passers, 0) AS passers
        FROM activity a FULL JOIN ratings r USING (day, content_id, content_type)`),
      ['day', 'content_id', 'content_type'],
    );
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
    const end = `(SELECT max(ts::date) FROM oracle_facts)`;
    const cohortSql = (kind: string, members: string, activity: string) => `
      WITH members AS (${members}), activity AS (${activity}),
      grains AS (SELECT 'day' AS grain, 1 AS length, 90 AS periods UNION ALL SELECT 'week', 7, 12),
      per_member AS (
        SELECT g.grain, g.length, g.periods, m.user_id,
          CASE WHEN g.grain = 'day' THEN m.cohort_day ELSE date_trunc('week', m.cohort_day)::date END AS cohort_start,
          array_agg(DISTINCT ((CASE WHEN g.grain = 'day' THEN a.day ELSE date_trunc('week', a.day)::date END) -
            (CASE WHEN g.grain = 'day' THEN m.cohort_day ELSE date_trunc('week', m.cohort_day)::date END)) / g.length) AS active
        FROM grains g CROSS JOIN members m JOIN activity a ON a.user_id = m.user_id AND a.day >= m.cohort_day
        GROUP BY 1, 2, 3, 4, 5)
      SELECT '${kind}' AS cohort_kind, grain, cohort_start::text AS cohort_start, period,
        count(*) AS cohort_size, count(*) FILTER (WHERE period = ANY(active)) AS retained,
        count(*) FILTER (WHERE period = ANY(active))::float8 / count(*) AS retention_rate,
        count(*) FILTER (WHERE (SELECT max(x) FROM unnest(active) x) >= period) AS unbounded_retained,
        count(*) FILTER (WHERE (SELECT max(x) FROM unnest(active) x) >= period)::float8 / count(*) AS unbounded_rate
      FROM per_member p CROSS JOIN LATERAL generate_series(0, least(p.periods, floor(((${end} - p.cohort_start) - (p.length - 1))::float8 / p.length)::int)) AS period
      GROUP BY 1, 2, 3, 4`;
    const facts = `SELECT DISTINCT user_id, ts::date AS day FROM oracle_facts`;
    expectSameRows(
      await mart(`SELECT cohort_kind, grain, toString(cohort_start) AS cohort_start, period, cohort_size, retained,
          retention_rate, unbounded_retained, unbounded_rate FROM mart_retention WHERE pack = {pack:String}`),
      [
        ...(await oracle(
          cohortSql(
            'first_activity',
            `SELECT user_id, min(day) AS cohort_day FROM (${facts}) f GROUP BY 1`,
            facts,
          ),
        )),
        ...(await oracle(
          cohortSql(
            'signup',
            `SELECT id::text AS user_id, created_at::date AS cohort_day FROM users`,
            `${facts} UNION SELECT id::text, created_at::date FROM users`,
          ),
        )),
      ],
      ['cohort_kind', 'grain', 'cohort_start', 'period'],
    );
  });

  it('mart_ab_results: n, mean and variance per experiment, variant and metric; exposures against the split', async () => {
    const windowed = (window: string) => `
      max(CASE WHEN ${window} THEN f.is_completion ELSE 0 END) AS completed_lesson_7d,
      count(DISTINCT CASE WHEN ${window} THEN f.ts::date END) AS active_days_7d,
      count(*) FILTER (WHERE ${window}) AS events_7d`;
    const expected = await oracle(`
      WITH first_exposure AS (
        SELECT DISTINCT ON (experiment, user_id) experiment, user_id, variant, started_at
        FROM oracle_exposures ORDER BY experiment, user_id, started_at),
      per_user AS (
        SELECT e.experiment, e.variant, e.user_id,
          ${windowed(`f.ts >= e.started_at AND f.ts < e.started_at + interval '7 days'`)}
        FROM first_exposure e LEFT JOIN oracle_facts f ON f.user_id = e.user_id
        WHERE e.started_at + interval '7 days' <= (SELECT max(ts) FROM oracle_facts)
        GROUP BY 1, 2, 3)
      SELECT experiment, variant, metric, count(*) AS n, avg(value) AS mean, var_samp(value) AS variance
      FROM per_user CROSS JOIN LATERAL (VALUES ('completed_lesson_7d', completed_lesson_7d::float8),
        ('active_days_7d', active_days_7d::float8), ('events_7d', events_7d::float8)) AS m(metric, value)
      GROUP BY 1, 2, 3`);
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
});
