// The lingo pack's own marts, each recomputed whole on every transform run (they are small: one
// row per learner and local day at most) and swapped in atomically, partition by pack:
// - mart_lingo_daily_xp: XP per learner and local day (the day in the time zone the learner's
//   device reported at the app open before each action), with the daily goal; user_daily_xp's source;
// - mart_lingo_lesson_funnel: lessons started → completed (and quit), by section and unit;
// - mart_lingo_exercise_difficulty: accuracy by exercise type and difficulty level;
// - mart_lingo_hearts_daily: hearts lost, regenerated and gained per (UTC) day;
// - mart_lingo_hearts_mismatch (AC-11): enrollments whose stored hearts disagree with the hearts
//   the log accounts for (5, the starting hearts, plus every logged change).
import { replacePartitions, stageOf } from '../../transforms/marts/partitions.ts';
import { quoteIdentifier as q, quoteTable, type Warehouse } from '../../warehouse/index.ts';
import type { PackMart } from '../pack.ts';

/** The hearts every learner starts with (the seed's DEFAULT 5). */
export const START_HEARTS = 5;

const mirror = (source: string, table: string) => q(`raw_${source}_${table}`);

/**
 * XP-bearing facts (exercises answered, lessons completed) with the device's time zone at the time
 * — the zone of the latest app open at or before the action, else the profile's, else UTC — and
 * the local day there. Unknown zone names count as UTC, as in streaks.ts.
 */
export function zonedXpEvents(source: string): string {
  const log = mirror(source, 'user_activity_log');
  const users = mirror(source, 'users');
  return `SELECT e.user_id AS user_id, e.ts AS ts, e.event_type AS event_type, e.content_id AS content_id,
      e.value AS value, e.duration_s AS duration_s, e.score AS score, e.is_completion AS is_completion, zone,
      toDate(formatDateTime(e.ts, '%F', zone)) AS local_day
    FROM (
      SELECT e.*, multiIf(o.zone IN (SELECT time_zone FROM system.time_zones), o.zone,
          p.timezone IN (SELECT time_zone FROM system.time_zones), p.timezone, 'UTC') AS zone
      FROM (SELECT user_id, ts, event_type, content_id, value, duration_s, score, is_completion
            FROM fact_activity WHERE pack = {pack:String} AND event_type IN ('exercise_answer', 'lesson_complete')) AS e
      ASOF LEFT JOIN (
        SELECT toString(user_id) AS user_id, toDateTime64(created_at, 3, 'UTC') AS opened_at,
          JSONExtractString(ifNull(activity_data, ''), 'timezone') AS zone
        FROM ${log} FINAL WHERE _is_deleted = 0 AND activity_type = 'login') AS o
        ON e.user_id = o.user_id AND e.ts >= o.opened_at
      LEFT JOIN (SELECT toString(id) AS user_id, ifNull(timezone, '') AS timezone FROM ${users} FINAL WHERE _is_deleted = 0) AS p
        ON p.user_id = e.user_id
    ) AS e`;
}

/** A pack mart recomputed whole: its table and staging twin partitioned by pack. */
function wholeMart(
  name: string,
  reads: readonly string[],
  columns: string,
  orderBy: string,
  select: (source: string) => string,
): PackMart {
  return {
    name,
    mirrors: (source) => reads.map((table) => `raw_${source}_${table}`),
    ddl: [
      `CREATE TABLE IF NOT EXISTS ${name} (pack LowCardinality(String), ${columns})
       ENGINE = MergeTree PARTITION BY pack ORDER BY (pack, ${orderBy})`,
      `CREATE TABLE IF NOT EXISTS ${stageOf(name)} AS ${name}`,
    ],
    async recompute(warehouse: Warehouse, { pack, source }) {
      await replacePartitions(warehouse, { table: name, pack, where: '1' }, async (stage, params) => {
        await warehouse.command(
          `INSERT INTO ${quoteTable(stage)} SELECT {pack:String} AS pack, * FROM (${select(source)})`,
          params,
        );
      });
    },
  };
}

export const lingoMarts: readonly PackMart[] = [
  wholeMart(
    'mart_lingo_daily_xp',
    ['user_activity_log', 'users'],
    `user_id String, day Date, timezone String, xp Int64, lessons_completed UInt64, exercises UInt64,
     correct UInt64, time_spent_seconds Int64, daily_goal Int64, goal_met UInt8`,
    'user_id, day',
    (source) => `SELECT x.user_id AS user_id, x.day AS day, x.timezone AS timezone, x.xp AS xp,
        x.lessons_completed AS lessons_completed, x.exercises AS exercises, x.correct AS correct,
        x.time_spent_seconds AS time_spent_seconds, toInt64(ifNull(g.goal, 20)) AS daily_goal,
        toUInt8(x.xp >= daily_goal) AS goal_met
      FROM (
        SELECT user_id, local_day AS day, argMax(zone, ts) AS timezone, sum(value) AS xp,
          toUInt64(sum(is_completion)) AS lessons_completed, countIf(event_type = 'exercise_answer') AS exercises,
          toUInt64(sumIf(score, event_type = 'exercise_answer')) AS correct, sum(duration_s) AS time_spent_seconds
        FROM (${zonedXpEvents(source)}) GROUP BY user_id, day) AS x
      LEFT JOIN (SELECT toString(id) AS user_id, daily_xp_goal AS goal FROM ${mirror(source, 'users')} FINAL
                 WHERE _is_deleted = 0) AS g ON g.user_id = x.user_id
`,
  ),
  wholeMart(
    'mart_lingo_lesson_funnel',
    ['lessons', 'units', 'sections'],
    `course_id String, section_id String, section_order Int64, section_name String, unit_id String,
     unit_order Int64, unit_name String, starts UInt64, completions UInt64, quits UInt64, starters UInt64,
     completers UInt64, completion_rate Nullable(Float64), user_completion_rate Nullable(Float64)`,
    'course_id, section_order, unit_order',
    (source) => `SELECT toString(s.course_id) AS course_id, toString(s.id) AS section_id,
        toInt64(s.sort_order) AS section_order, s.name AS section_name, toString(u.id) AS unit_id,
        toInt64(u.sort_order) AS unit_order, u.name AS unit_name,
        countIf(f.event_type = 'lesson_start') AS starts, countIf(f.event_type = 'lesson_complete') AS completions,
        countIf(f.event_type = 'lesson_quit') AS quits,
        uniqExactIf(f.user_id, f.event_type = 'lesson_start') AS starters,
        uniqExactIf(f.user_id, f.event_type = 'lesson_complete') AS completers,
        if(starts = 0, NULL, completions / starts) AS completion_rate,
        if(starters = 0, NULL, completers / starters) AS user_completion_rate
      FROM (SELECT user_id, event_type, content_id FROM fact_activity
            WHERE pack = {pack:String} AND event_type IN ('lesson_start', 'lesson_complete', 'lesson_quit')) AS f
      INNER JOIN (SELECT toString(id) AS id, unit_id FROM ${mirror(source, 'lessons')} FINAL WHERE _is_deleted = 0) AS l
        ON l.id = f.content_id
      INNER JOIN (SELECT * FROM ${mirror(source, 'units')} FINAL WHERE _is_deleted = 0) AS u ON u.id = l.unit_id
      INNER JOIN (SELECT * FROM ${mirror(source, 'sections')} FINAL WHERE _is_deleted = 0) AS s ON s.id = u.section_id
      GROUP BY course_id, section_id, section_order, section_name, unit_id, unit_order, unit_name`,
  ),
  wholeMart(
    'mart_lingo_exercise_difficulty',
    ['user_exercise_interactions', 'exercises', 'exercise_types'],
    `exercise_type String, difficulty_level Int64, answers UInt64, correct UInt64, accuracy Float64,
     first_answers UInt64, first_correct UInt64, first_accuracy Nullable(Float64), users UInt64,
     avg_time_spent_s Float64, hearts_lost Int64`,
    'exercise_type, difficulty_level',
    (
      source,
    ) => `SELECT t.name AS exercise_type, toInt64(e.difficulty_level) AS difficulty_level, count() AS answers,
        countIf(i.is_correct) AS correct, correct / answers AS accuracy,
        countIf(i.attempt_number = 1) AS first_answers, countIf(i.attempt_number = 1 AND i.is_correct) AS first_correct,
        if(first_answers = 0, NULL, first_correct / first_answers) AS first_accuracy,
        uniqExact(i.user_id) AS users, avg(ifNull(i.time_spent_seconds, 0)) AS avg_time_spent_s,
        toInt64(sum(ifNull(i.hearts_lost, 0))) AS hearts_lost
      FROM (SELECT * FROM ${mirror(source, 'user_exercise_interactions')} FINAL WHERE _is_deleted = 0) AS i
      INNER JOIN (SELECT * FROM ${mirror(source, 'exercises')} FINAL WHERE _is_deleted = 0) AS e ON e.id = i.exercise_id
      INNER JOIN (SELECT * FROM ${mirror(source, 'exercise_types')} FINAL WHERE _is_deleted = 0) AS t
        ON t.id = e.exercise_type_id
      GROUP BY exercise_type, difficulty_level`,
  ),
  wholeMart(
    'mart_lingo_hearts_daily',
    ['user_hearts_log'],
    `day Date, hearts_lost Int64, hearts_regenerated Int64, hearts_gained Int64, loss_events UInt64,
     users_losing UInt64, users_at_zero UInt64`,
    'day',
    (source) => `SELECT toDate(created_at, 'UTC') AS day,
        toInt64(sumIf(hearts_before - hearts_after, action = 'lost')) AS hearts_lost,
        toInt64(sumIf(hearts_after - hearts_before, action = 'regenerated')) AS hearts_regenerated,
        toInt64(sumIf(hearts_after - hearts_before, action = 'gained')) AS hearts_gained,
        countIf(action = 'lost') AS loss_events, uniqExactIf(user_id, action = 'lost') AS users_losing,
        uniqExactIf(user_id, hearts_after = 0) AS users_at_zero
      FROM ${mirror(source, 'user_hearts_log')} FINAL WHERE _is_deleted = 0 GROUP BY day`,
  ),
  wholeMart(
    'mart_lingo_hearts_mismatch',
    ['user_courses', 'user_hearts_log'],
    'user_id String, course_id String, stored_hearts Int64, recomputed_hearts Int64, log_entries UInt64',
    'user_id, course_id',
    (source) => `SELECT toString(c.user_id) AS user_id, toString(c.course_id) AS course_id,
        toInt64(ifNull(c.hearts, ${START_HEARTS})) AS stored_hearts,
        toInt64(${START_HEARTS} + ifNull(l.delta, 0)) AS recomputed_hearts, ifNull(l.entries, 0) AS log_entries
      FROM (SELECT * FROM ${mirror(source, 'user_courses')} FINAL WHERE _is_deleted = 0) AS c
      LEFT JOIN (SELECT user_id, sum(hearts_after - hearts_before) AS delta, count() AS entries
                 FROM ${mirror(source, 'user_hearts_log')} FINAL WHERE _is_deleted = 0 GROUP BY user_id) AS l
        ON l.user_id = c.user_id
      WHERE stored_hearts != recomputed_hearts
`,
  ),
];

/** The demo's closing table: the last 7 local days of learning. */
export const lingoHeadline = {
  title: 'Lingo: the last 7 days (XP and lessons by learners’ local days, hearts by UTC day)',
  sql: `SELECT toString(x.day) AS day, x.learners, x.xp, x.lessons_completed, round(x.accuracy, 3) AS accuracy,
      round(x.goal_met_share, 3) AS goal_met_share, ifNull(h.hearts_lost, 0) AS hearts_lost
    FROM (SELECT day, uniqExact(user_id) AS learners, sum(xp) AS xp, sum(lessons_completed) AS lessons_completed,
            sum(correct) / nullIf(sum(exercises), 0) AS accuracy, avg(goal_met) AS goal_met_share
          FROM mart_lingo_daily_xp WHERE pack = {pack:String} GROUP BY day) AS x
    LEFT JOIN (SELECT day, hearts_lost FROM mart_lingo_hearts_daily WHERE pack = {pack:String}) AS h ON h.day = x.day
    WHERE x.day > (SELECT max(day) FROM mart_lingo_daily_xp WHERE pack = {pack:String}) - 7
    ORDER BY x.day`,
};
