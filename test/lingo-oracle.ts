// The lingo pack's sources as an oracle sees them: `oracle_facts` (DESIGN §4's fact_activity as the
// pack defines it) and `oracle_xp_events` (XP-bearing actions with the device's time zone then and
// the local day there), plain Postgres views over the source tables, independent of the warehouse.
import type pg from 'pg';
import { LINGO_AB_METRICS } from '../packs/lingo/mapping.ts';

/** Instants as UTC wall-clock `timestamp`s, to the millisecond as the facts keep them. */
const utc = (column: string) => `date_trunc('milliseconds', ${column} AT TIME ZONE 'UTC')`;

export async function createLingoOracleViews(postgres: pg.ClientBase): Promise<void> {
  await postgres.query(`CREATE OR REPLACE VIEW oracle_facts AS
    SELECT user_id::text AS user_id, ${utc('interaction_at')} AS ts, 'exercise_answer'::text AS event_type,
      lesson_id::text AS content_id, 'lesson'::text AS content_type, ''::text AS session_id,
      coalesce(time_spent_seconds, 0)::bigint AS duration_s, is_correct::int::bigint AS score, 1::bigint AS max_score,
      0 AS is_completion, coalesce(xp_earned, 0)::bigint AS value
    FROM user_exercise_interactions WHERE interaction_at IS NOT NULL
    UNION ALL
    SELECT user_id::text, ${utc('created_at')}, activity_type, coalesce(activity_data->>'lesson_id', ''),
      CASE WHEN coalesce(activity_data->>'lesson_id', '') = '' THEN '' ELSE 'lesson' END,
      coalesce(activity_data->>'session_id', ''), 0,
      CASE WHEN activity_type = 'lesson_complete' THEN (activity_data->>'score')::bigint END,
      CASE WHEN activity_type = 'lesson_complete' THEN 100 END,
      (activity_type = 'lesson_complete')::int,
      CASE WHEN activity_type = 'lesson_complete' THEN (activity_data->>'xp_earned')::bigint ELSE 0 END
    FROM user_activity_log
    WHERE created_at IS NOT NULL AND activity_type IN ('login', 'lesson_start', 'lesson_complete', 'lesson_quit')`);
  // The latest app open before each action, found by index (the source has none on both columns).
  await postgres.query(`CREATE INDEX IF NOT EXISTS oracle_logins ON user_activity_log (user_id, created_at)
    WHERE activity_type = 'login'`);
  // pg_timezone_names reads the zone files on every call: read once.
  await postgres.query('CREATE TABLE IF NOT EXISTS oracle_zones AS SELECT name FROM pg_timezone_names');
  await postgres.query(`CREATE OR REPLACE VIEW oracle_xp_events AS
    SELECT x.*, ((x.ts AT TIME ZONE 'UTC') AT TIME ZONE x.zone)::date AS local_day
    FROM (
      SELECT f.*, coalesce(
          (SELECT o.zone FROM (
             SELECT l.activity_data->>'timezone' AS zone FROM user_activity_log l
             WHERE l.user_id = f.user_id::uuid AND l.activity_type = 'login' AND ${utc('l.created_at')} <= f.ts
             ORDER BY l.created_at DESC LIMIT 1) o WHERE o.zone IN (SELECT name FROM oracle_zones)),
          (SELECT u.timezone FROM users u WHERE u.id = f.user_id::uuid AND u.timezone IN (SELECT name FROM oracle_zones)),
          'UTC') AS zone
      FROM oracle_facts f WHERE f.event_type IN ('exercise_answer', 'lesson_complete')) AS x`);
}

/** What the generic oracles (test/mart-oracle.ts) need to know of the pack. */
export const LINGO_ORACLE = {
  views: ['lesson_start'],
  startEvent: 'lesson_start',
  signupsSql: `SELECT id::text AS user_id, (created_at AT TIME ZONE 'UTC')::date AS cohort_day FROM users`,
  exposuresSql: `SELECT experiment, variant, user_id::text AS user_id, ${utc('exposed_at')} AS started_at FROM experiment_exposures`,
  abMetrics: LINGO_AB_METRICS,
  windowDays: 7,
  // The seed has no ratings.
  ratingsSql: `SELECT NULL::date AS day, NULL::text AS content_id, NULL::text AS content_type,
    0::bigint AS rating_count, 0::bigint AS rating_sum WHERE false`,
};

/** The pack marts by plain SQL, keyed as the marts are. */
export const LINGO_MART_ORACLES = {
  mart_lingo_daily_xp: {
    key: ['user_id', 'day'],
    sql: `SELECT x.user_id, x.local_day::text AS day, sum(x.value) AS xp, sum(x.is_completion) AS lessons_completed,
        count(*) FILTER (WHERE x.event_type = 'exercise_answer') AS exercises,
        coalesce(sum(x.score) FILTER (WHERE x.event_type = 'exercise_answer'), 0) AS correct,
        sum(x.duration_s) AS time_spent_seconds, u.daily_xp_goal AS daily_goal,
        (sum(x.value) >= u.daily_xp_goal)::int AS goal_met
      FROM oracle_xp_events x JOIN users u ON u.id::text = x.user_id
      GROUP BY x.user_id, x.local_day, u.daily_xp_goal`,
  },
  mart_lingo_lesson_funnel: {
    key: ['unit_id', 'course_id'],
    sql: `SELECT un.id::text AS unit_id, s.course_id::text AS course_id, s.sort_order AS section_order,
        un.sort_order AS unit_order,
        count(*) FILTER (WHERE f.event_type = 'lesson_start') AS starts,
        count(*) FILTER (WHERE f.event_type = 'lesson_complete') AS completions,
        count(*) FILTER (WHERE f.event_type = 'lesson_quit') AS quits,
        count(DISTINCT f.user_id) FILTER (WHERE f.event_type = 'lesson_start') AS starters,
        count(DISTINCT f.user_id) FILTER (WHERE f.event_type = 'lesson_complete') AS completers,
        (count(*) FILTER (WHERE f.event_type = 'lesson_complete'))::float8
          / nullif(count(*) FILTER (WHERE f.event_type = 'lesson_start'), 0) AS completion_rate,
        (count(DISTINCT f.user_id) FILTER (WHERE f.event_type = 'lesson_complete'))::float8
          / nullif(count(DISTINCT f.user_id) FILTER (WHERE f.event_type = 'lesson_start'), 0) AS user_completion_rate
      FROM oracle_facts f JOIN lessons l ON l.id::text = f.content_id JOIN units un ON un.id = l.unit_id
        JOIN sections s ON s.id = un.section_id
      WHERE f.event_type IN ('lesson_start', 'lesson_complete', 'lesson_quit')
      GROUP BY un.id, s.course_id, s.sort_order, un.sort_order`,
  },
  mart_lingo_exercise_difficulty: {
    key: ['exercise_type', 'difficulty_level'],
    sql: `SELECT t.name AS exercise_type, e.difficulty_level, count(*) AS answers,
        count(*) FILTER (WHERE i.is_correct) AS correct, avg(i.is_correct::int::float8) AS accuracy,
        count(*) FILTER (WHERE i.attempt_number = 1) AS first_answers,
        count(*) FILTER (WHERE i.attempt_number = 1 AND i.is_correct) AS first_correct,
        avg(i.is_correct::int::float8) FILTER (WHERE i.attempt_number = 1) AS first_accuracy,
        count(DISTINCT i.user_id) AS users, avg(coalesce(i.time_spent_seconds, 0)::float8) AS avg_time_spent_s,
        sum(coalesce(i.hearts_lost, 0)) AS hearts_lost
      FROM user_exercise_interactions i JOIN exercises e ON e.id = i.exercise_id
        JOIN exercise_types t ON t.id = e.exercise_type_id
      GROUP BY t.name, e.difficulty_level`,
  },
  mart_lingo_hearts_daily: {
    key: ['day'],
    sql: `SELECT (created_at AT TIME ZONE 'UTC')::date::text AS day,
        coalesce(sum(hearts_before - hearts_after) FILTER (WHERE action = 'lost'), 0) AS hearts_lost,
        coalesce(sum(hearts_after - hearts_before) FILTER (WHERE action = 'regenerated'), 0) AS hearts_regenerated,
        coalesce(sum(hearts_after - hearts_before) FILTER (WHERE action = 'gained'), 0) AS hearts_gained,
        count(*) FILTER (WHERE action = 'lost') AS loss_events,
        count(DISTINCT user_id) FILTER (WHERE action = 'lost') AS users_losing,
        count(DISTINCT user_id) FILTER (WHERE hearts_after = 0) AS users_at_zero
      FROM user_hearts_log GROUP BY 1`,
  },
  mart_lingo_hearts_mismatch: {
    key: ['user_id', 'course_id'],
    sql: `SELECT c.user_id::text AS user_id, c.course_id::text AS course_id, c.hearts AS stored_hearts,
        5 + coalesce(l.delta, 0) AS recomputed_hearts, coalesce(l.entries, 0) AS log_entries
      FROM user_courses c
      LEFT JOIN (SELECT user_id, sum(hearts_after - hearts_before) AS delta, count(*) AS entries
                 FROM user_hearts_log GROUP BY user_id) l ON l.user_id = c.user_id
      WHERE c.hearts <> 5 + coalesce(l.delta, 0)`,
  },
} as const;

/**
 * Streaks per enrollment as of `$1` (a UTC timestamp), by window functions: each XP-earning action
 * in the course, the local-day step from the one before read in both zones (the smaller wins), runs
 * broken by steps of two or more, the current run alive when the last action is at most one local
 * day back in its zone.
 */
export const STREAK_ORACLE = `
  WITH actions AS (
    SELECT x.user_id, s.course_id::text AS course_id, x.ts, x.zone FROM oracle_xp_events x
    JOIN lessons l ON l.id::text = x.content_id JOIN units un ON un.id = l.unit_id JOIN sections s ON s.id = un.section_id
    WHERE x.value > 0 AND x.ts <= $1::timestamp),
  stepped AS (
    SELECT *, lag(ts) OVER w AS prev_ts, lag(zone) OVER w AS prev_zone FROM actions
    WINDOW w AS (PARTITION BY user_id, course_id ORDER BY ts)),
  steps AS (
    SELECT *, CASE WHEN prev_ts IS NULL THEN 2 ELSE least(
        ((ts AT TIME ZONE 'UTC') AT TIME ZONE prev_zone)::date - ((prev_ts AT TIME ZONE 'UTC') AT TIME ZONE prev_zone)::date,
        ((ts AT TIME ZONE 'UTC') AT TIME ZONE zone)::date - ((prev_ts AT TIME ZONE 'UTC') AT TIME ZONE zone)::date) END AS step
    FROM stepped),
  runs AS (
    SELECT *, count(*) FILTER (WHERE step >= 2) OVER (PARTITION BY user_id, course_id ORDER BY ts) AS run FROM steps),
  run_lengths AS (
    SELECT user_id, course_id, run, 1 + count(*) FILTER (WHERE step = 1) AS length, max(ts) AS last_ts
    FROM runs GROUP BY 1, 2, 3),
  last_action AS (
    SELECT DISTINCT ON (user_id, course_id) user_id, course_id, ts, zone FROM actions ORDER BY user_id, course_id, ts DESC)
  SELECT c.user_id::text AS user_id, c.course_id::text AS course_id,
    coalesce((SELECT CASE WHEN (($1::timestamp AT TIME ZONE 'UTC') AT TIME ZONE a.zone)::date
                             - ((a.ts AT TIME ZONE 'UTC') AT TIME ZONE a.zone)::date <= 1
                       THEN (SELECT r.length FROM run_lengths r WHERE r.user_id = a.user_id AND r.course_id = a.course_id
                             ORDER BY r.run DESC LIMIT 1) ELSE 0 END
              FROM last_action a WHERE a.user_id = c.user_id::text AND a.course_id = c.course_id::text), 0) AS current_streak,
    coalesce((SELECT max(r.length) FROM run_lengths r WHERE r.user_id = c.user_id::text AND r.course_id = c.course_id::text), 0)
      AS longest_streak
  FROM user_courses c`;
