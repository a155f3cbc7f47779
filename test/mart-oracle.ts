// The generic marts written a second time as plain Postgres SQL over a view `oracle_facts` (DESIGN
// §4's fact_activity as a pack defines it, over copies of its sources), parameterized by what a
// pack's mapping declares — view and start event types, its ratings, its signups, its A/B metrics
// — and the comparison oracle tests make: keys exact, counts exact, rates and means to 1e-9.
// Every pack's oracle test uses it.
import type { AbMetric } from '../packs/index.ts';

export { expectSameRows, type Row } from './same-rows.ts';

const list = (items: readonly string[]) => `(${items.map((item) => `'${item}'`).join(', ')})`;

export function dailyUserMetricsOracle(views: readonly string[]): string {
  return `SELECT ts::date::text AS day, user_id, count(*) AS events,
      count(DISTINCT session_id) FILTER (WHERE session_id <> '') AS sessions, sum(duration_s) AS active_seconds,
      count(DISTINCT content_id) FILTER (WHERE content_id <> '' AND event_type IN ${list(views)}) AS content_views,
      sum(is_completion) AS completions, coalesce(sum(score), 0) AS score_sum, count(score) AS score_count,
      sum(value) AS value
    FROM oracle_facts GROUP BY 1, 2`;
}

/**
 * DAU, WAU, MAU and stickiness on every day from the first to the last day with facts; with
 * `segment` (a SELECT of user_id), counting only those users.
 */
export function dauOracle(segment?: string): string {
  const users = (days: string) => `(SELECT count(DISTINCT user_id) FROM facts f WHERE f.day ${days})`;
  return `WITH facts AS MATERIALIZED (
      SELECT ts::date AS day, user_id FROM oracle_facts${segment ? ` WHERE user_id IN (${segment})` : ''}),
    days AS (
      SELECT generate_series(min(ts::date), max(ts::date), interval '1 day')::date AS day FROM oracle_facts)
  SELECT d.day::text AS day, ${users('= d.day')} AS dau, ${users('BETWEEN d.day - 6 AND d.day')} AS wau,
    ${users('BETWEEN d.day - 27 AND d.day')} AS mau,
    ${users('= d.day')}::float8 / nullif(${users('BETWEEN d.day - 27 AND d.day')}, 0) AS stickiness
  FROM days d`;
}

export const DAU_ORACLE = dauOracle();

/** `ratings`: a SELECT of (day, content_id, content_type, rating_count, rating_sum). */
export function contentPerformanceOracle(views: readonly string[], start: string, ratings: string): string {
  return `WITH per_user AS (
      SELECT ts::date AS day, content_id, content_type, user_id, count(*) AS events,
        count(*) FILTER (WHERE event_type IN ${list(views)}) AS views,
        count(*) FILTER (WHERE event_type = '${start}') AS starts, sum(is_completion) AS completions,
        sum(duration_s) AS seconds, coalesce(sum(score), 0) AS score_sum, count(score) AS scored,
        count(*) FILTER (WHERE score IS NOT NULL AND max_score > 0 AND score * 10 >= max_score * 7) AS passed
      FROM oracle_facts WHERE content_id <> '' GROUP BY 1, 2, 3, 4),
    activity AS (
      SELECT day, content_id, content_type, count(*) AS unique_users, sum(views) AS views,
        sum(completions) AS completions, count(*) FILTER (WHERE completions > 0) AS completers,
        count(*) FILTER (WHERE starts > 0 OR completions > 0) AS starters, sum(seconds) AS seconds,
        sum(score_sum) AS score_sum, sum(scored) AS scored, count(*) FILTER (WHERE scored > 0) AS scorers,
        count(*) FILTER (WHERE passed > 0) AS passers, count(*) FILTER (WHERE events = 1) AS bounced
      FROM per_user GROUP BY 1, 2, 3),
    ratings AS (${ratings})
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
    FROM activity a FULL JOIN ratings r USING (day, content_id, content_type)`;
}

/** Retention by first activity and by signup (`signups`: a SELECT of user_id, cohort_day). */
export function retentionOracle(signups: string): string[] {
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
  return [
    cohortSql('first_activity', `SELECT user_id, min(day) AS cohort_day FROM (${facts}) f GROUP BY 1`, facts),
    cohortSql('signup', signups, `${facts} UNION SELECT user_id, cohort_day FROM (${signups}) s`),
  ];
}

/**
 * n, mean and variance per experiment, variant and metric over the users whose window is over;
 * `exposures` is a SELECT of (experiment, variant, user_id, started_at).
 */
export function abResultsOracle(exposures: string, metrics: readonly AbMetric[], windowDays: number): string {
  const window = `f.ts >= e.started_at AND f.ts < e.started_at + interval '${windowDays} days'`;
  const measures = {
    converted: `max(CASE WHEN ${window} THEN f.is_completion ELSE 0 END)::float8`,
    active_days: `count(DISTINCT CASE WHEN ${window} THEN f.ts::date END)::float8`,
    events: `(count(*) FILTER (WHERE ${window}))::float8`,
    value: `coalesce(sum(f.value) FILTER (WHERE ${window}), 0)::float8`,
  };
  return `
    WITH first_exposure AS (
      SELECT DISTINCT ON (experiment, user_id) experiment, user_id, variant, started_at
      FROM (${exposures}) x ORDER BY experiment, user_id, started_at),
    per_user AS (
      SELECT e.experiment, e.variant, e.user_id, ${metrics.map((metric) => `${measures[metric.measure]} AS "${metric.name}"`).join(', ')}
      FROM first_exposure e LEFT JOIN oracle_facts f ON f.user_id = e.user_id
      WHERE e.started_at + interval '${windowDays} days' <= (SELECT max(ts) FROM oracle_facts)
      GROUP BY 1, 2, 3)
    SELECT experiment, variant, metric, count(*) AS n, avg(value) AS mean, var_samp(value) AS variance
    FROM per_user CROSS JOIN LATERAL (VALUES ${metrics.map((metric) => `('${metric.name}', "${metric.name}")`).join(', ')}) AS m(metric, value)
    GROUP BY 1, 2, 3`;
}

/** agg_content_weekly: `daily` (contentPerformanceOracle's rows) added up per Monday-based week. */
export function contentWeeklyOracle(daily: string): string {
  return `SELECT date_trunc('week', day::date)::date::text AS week, content_id, content_type,
      sum(unique_users) AS user_days, sum(views) AS views, sum(starters) AS starters,
      sum(completers) AS completers, sum(scorers) AS scorers, sum(passers) AS passers,
      sum(round(coalesce(bounce_rate, 0) * unique_users)) AS bounces,
      sum(coalesce(rating_avg, 0) * rating_count) AS rating_sum, sum(rating_count) AS rating_count
    FROM (${daily}) d GROUP BY 1, 2, 3`;
}

/**
 * agg_daily_segments: per day, country, signup month and platform, active users, events and
 * signups; `users` is a SELECT of (user_id, country, platform, signup_day). Users absent from it
 * count in no segment.
 */
export function dailySegmentsOracle(users: string): string {
  return `WITH u AS (${users}),
    activity AS (SELECT ts::date AS day, user_id, count(*) AS events FROM oracle_facts GROUP BY 1, 2),
    counted AS (
      SELECT a.day, coalesce(u.country, '') AS country, coalesce(to_char(u.signup_day, 'YYYY-MM'), '') AS signup_month,
        coalesce(u.platform, '') AS platform, 1 AS active, a.events, 0 AS signups
      FROM activity a LEFT JOIN u ON u.user_id = a.user_id
      UNION ALL
      SELECT signup_day, country, to_char(signup_day, 'YYYY-MM'), platform, 0, 0, 1 FROM u)
    SELECT day::text AS day, country, signup_month, platform, sum(active) AS active_users, sum(events) AS events,
      sum(signups) AS new_users
    FROM counted GROUP BY 1, 2, 3, 4`;
}

/**
 * One row per user, day and item among the content facts `where` keeps: the user's events, views,
 * starts, completions, scored attempts and passing ones on it that day.
 */
function contentUserDays(views: readonly string[], start: string, where: string): string {
  return `SELECT ts::date AS day, content_id, content_type, user_id, count(*) AS events,
      count(*) FILTER (WHERE event_type IN ${list(views)}) AS views,
      count(*) FILTER (WHERE event_type = '${start}') AS starts, sum(is_completion) AS completions,
      count(score) AS scored,
      count(*) FILTER (WHERE score IS NOT NULL AND max_score > 0 AND score * 10 >= max_score * 7) AS passed
    FROM oracle_facts WHERE content_id <> '' AND ${where} GROUP BY 1, 2, 3, 4`;
}

/**
 * agg_content_segments: per day, segment cell (country, platform, signup month) and item, how many
 * of the cell's users used, viewed, started, completed, scored on, passed and bounced on the item;
 * `users` is a SELECT of (user_id, country, platform, signup_day). Users absent from it count in
 * no segment.
 */
export function contentSegmentsOracle(views: readonly string[], start: string, users: string): string {
  return `WITH u AS (${users}),
    per_user AS (${contentUserDays(views, start, 'true')})
    SELECT p.day::text AS day, coalesce(u.country, '') AS country, coalesce(u.platform, '') AS platform,
      coalesce(to_char(u.signup_day, 'YYYY-MM'), '') AS signup_month, p.content_id, p.content_type,
      count(*) AS user_days, sum(p.views) AS views,
      count(*) FILTER (WHERE p.starts > 0 OR p.completions > 0) AS starters,
      count(*) FILTER (WHERE p.completions > 0) AS completers, count(*) FILTER (WHERE p.scored > 0) AS scorers,
      count(*) FILTER (WHERE p.passed > 0) AS passers, count(*) FILTER (WHERE p.events = 1) AS bounces
    FROM per_user p LEFT JOIN u ON u.user_id = p.user_id
    GROUP BY 1, 2, 3, 4, 5, 6`;
}

/**
 * The Content leaderboard (the top 25 items by user-days) over the days from…to, counting only the
 * users `segment` (a SELECT of user_id) yields: per item, user-days, views, completion, pass and
 * bounce rates over the days' distinct users, and the ratings those users gave
 * (`ratings`: a SELECT of user_id, day, content_id, content_type, rating).
 */
export function segmentLeaderboardOracle(
  views: readonly string[],
  start: string,
  ratings: string,
  segment: string,
  from: string,
  to: string,
): string {
  return `WITH segment AS (${segment}),
    per_user AS (${contentUserDays(
      views,
      start,
      `ts::date BETWEEN '${from}' AND '${to}' AND user_id IN (SELECT user_id FROM segment)`,
    )}),
    activity AS (
      SELECT content_id, content_type, count(*) AS user_days, sum(views) AS views,
        count(*) FILTER (WHERE starts > 0 OR completions > 0) AS starters,
        count(*) FILTER (WHERE completions > 0) AS completers, count(*) FILTER (WHERE scored > 0) AS scorers,
        count(*) FILTER (WHERE passed > 0) AS passers, count(*) FILTER (WHERE events = 1) AS bounced
      FROM per_user GROUP BY 1, 2),
    rated AS (
      SELECT content_id, content_type, count(*) AS rating_count, sum(rating) AS rating_sum FROM (${ratings}) r
      WHERE day BETWEEN '${from}' AND '${to}' AND user_id IN (SELECT user_id FROM segment) GROUP BY 1, 2)
    SELECT coalesce(a.content_id, r.content_id) AS content_id, coalesce(a.content_type, r.content_type) AS content_type,
      coalesce(a.user_days, 0) AS user_days, coalesce(a.views, 0) AS views,
      a.completers::float8 / nullif(a.starters, 0) AS completion_rate,
      a.passers::float8 / nullif(a.scorers, 0) AS pass_rate, a.bounced::float8 / nullif(a.user_days, 0) AS bounce_rate,
      r.rating_sum::float8 / nullif(r.rating_count, 0) AS rating_avg, coalesce(r.rating_count, 0) AS rating_count
    FROM activity a FULL JOIN rated r USING (content_id, content_type)
    ORDER BY 3 DESC, content_id COLLATE "C" LIMIT 25`;
}
