// The lingo pack's own marts, each recomputed whole on every transform run (they are small: one
// row per learner and local day at most) and swapped in atomically, partition by pack:
// - mart_lingo_daily_xp: XP per learner and local day (the day in the time zone the learner's
//   device reported at the app open before each action), with the daily goal; user_daily_xp's source;
// - mart_lingo_lesson_funnel: lessons started → completed (and quit), by section and unit;
// - mart_lingo_exercise_difficulty: accuracy by exercise type and difficulty level;
// - mart_lingo_hearts_daily: hearts lost, regenerated and gained per (UTC) day;
// - mart_lingo_hearts_mismatch (AC-11): enrollments whose stored hearts disagree with the hearts
//   the log accounts for (5, the starting hearts, plus every logged change).
import { mirrorTable, quoteTable } from '../../warehouse/index.ts';
import { wholeMart, type MartColumn } from '../common/pack-mart.ts';
import type { PackMart } from '../pack.ts';

/** The hearts every learner starts with (the seed's DEFAULT 5). */
export const START_HEARTS = 5;

const mirror = (source: string, table: string) => quoteTable(mirrorTable(source, table));

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

/** A lingo mart recomputed whole from the given mirrors; `select` yields the columns after `pack`. */
function lingoMart(
  name: string,
  comment: string,
  reads: readonly string[],
  columns: readonly MartColumn[],
  orderBy: string,
  select: (source: string) => string,
): PackMart {
  return wholeMart({
    name,
    comment,
    columns,
    orderBy,
    reads: (source) => reads.map((table) => mirrorTable(source, table)),
    select: (source) => `SELECT {pack:String} AS pack, * FROM (${select(source)})`,
  });
}

export const lingoMarts: readonly PackMart[] = [
  lingoMart(
    'mart_lingo_daily_xp',
    'XP per learner and local day: the day of each action in the time zone the device reported at the app open before it (else the profile’s zone, else UTC). The source of user_daily_xp.',
    ['user_activity_log', 'users'],
    [
      ['user_id', 'String', 'The learner (users.id).'],
      ['day', 'Date', 'The learner’s local calendar day of the actions (see timezone).'],
      ['timezone', 'String', 'The IANA zone of the day’s last action (an unknown zone name counts as UTC).'],
      ['xp', 'Int64', 'XP earned that local day: exercises answered and lessons completed.'],
      ['lessons_completed', 'UInt64', 'Lessons completed that local day.'],
      ['exercises', 'UInt64', 'Exercise answers given that local day (every attempt).'],
      ['correct', 'UInt64', 'Of those, the right answers.'],
      ['time_spent_seconds', 'Int64', 'Seconds spent on those answers and lessons.'],
      ['daily_goal', 'Int64', 'The learner’s daily XP goal now (users.daily_xp_goal, 20 when unset).'],
      ['goal_met', 'UInt8', '1 when xp >= daily_goal.'],
    ],
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
  lingoMart(
    'mart_lingo_lesson_funnel',
    'Lessons started → completed (or quit) per course, section and unit, over the whole history.',
    ['lessons', 'units', 'sections'],
    [
      ['course_id', 'String', 'The course (sections.course_id).'],
      ['section_id', 'String', 'The section (sections.id).'],
      ['section_order', 'Int64', 'The section’s place in its course (sections.sort_order).'],
      ['section_name', 'String', 'The section’s name.'],
      ['unit_id', 'String', 'The unit (units.id).'],
      ['unit_order', 'Int64', 'The unit’s place in its section (units.sort_order).'],
      ['unit_name', 'String', 'The unit’s name.'],
      ['starts', 'UInt64', 'Lesson starts in the unit, all time.'],
      ['completions', 'UInt64', 'Lesson completions in the unit.'],
      ['quits', 'UInt64', 'Lessons quit before the end.'],
      ['starters', 'UInt64', 'Distinct learners who started a lesson of the unit.'],
      ['completers', 'UInt64', 'Distinct learners who completed one.'],
      ['completion_rate', 'Nullable(Float64)', 'completions / starts (NULL without starts).'],
      ['user_completion_rate', 'Nullable(Float64)', 'completers / starters (NULL without starters).'],
    ],
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
  lingoMart(
    'mart_lingo_exercise_difficulty',
    'Accuracy per exercise type and difficulty level, from every answer (user_exercise_interactions) over the whole history.',
    ['user_exercise_interactions', 'exercises', 'exercise_types'],
    [
      ['exercise_type', 'String', 'The exercise type’s name (exercise_types.name).'],
      ['difficulty_level', 'Int64', 'The exercise’s difficulty level (exercises.difficulty_level).'],
      ['answers', 'UInt64', 'Answers given, every attempt.'],
      ['correct', 'UInt64', 'Right answers.'],
      ['accuracy', 'Float64', 'correct / answers.'],
      ['first_answers', 'UInt64', 'First attempts (attempt_number = 1).'],
      ['first_correct', 'UInt64', 'First attempts answered right.'],
      ['first_accuracy', 'Nullable(Float64)', 'first_correct / first_answers (NULL without first attempts).'],
      ['users', 'UInt64', 'Distinct learners who answered.'],
      ['avg_time_spent_s', 'Float64', 'Mean seconds per answer (0 when not recorded).'],
      ['hearts_lost', 'Int64', 'Hearts lost on these answers.'],
    ],
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
  lingoMart(
    'mart_lingo_hearts_daily',
    'Hearts lost, regenerated and gained per UTC day, from user_hearts_log.',
    ['user_hearts_log'],
    [
      ['day', 'Date', 'The UTC day of the log entries (created_at).'],
      ['hearts_lost', 'Int64', 'Hearts lost that day (hearts_before − hearts_after of the lost entries).'],
      ['hearts_regenerated', 'Int64', 'Hearts regenerated over time that day.'],
      [
        'hearts_gained',
        'Int64',
        'Hearts gained that day by the log’s "gained" action (the seed’s other refills, e.g. practice or purchases).',
      ],
      ['loss_events', 'UInt64', 'Log entries losing hearts.'],
      ['users_losing', 'UInt64', 'Distinct learners who lost a heart that day.'],
      ['users_at_zero', 'UInt64', 'Distinct learners left with no heart by an entry that day.'],
    ],
    'day',
    (source) => `SELECT toDate(created_at, 'UTC') AS day,
        toInt64(sumIf(hearts_before - hearts_after, action = 'lost')) AS hearts_lost,
        toInt64(sumIf(hearts_after - hearts_before, action = 'regenerated')) AS hearts_regenerated,
        toInt64(sumIf(hearts_after - hearts_before, action = 'gained')) AS hearts_gained,
        countIf(action = 'lost') AS loss_events, uniqExactIf(user_id, action = 'lost') AS users_losing,
        uniqExactIf(user_id, hearts_after = 0) AS users_at_zero
      FROM ${mirror(source, 'user_hearts_log')} FINAL WHERE _is_deleted = 0 GROUP BY day`,
  ),
  lingoMart(
    'mart_lingo_hearts_mismatch',
    'AC-11: the enrolments whose stored hearts disagree with 5 plus every change user_hearts_log records for the learner; empty when all agree.',
    ['user_courses', 'user_hearts_log'],
    [
      ['user_id', 'String', 'The learner (user_courses.user_id).'],
      ['course_id', 'String', 'The course of the enrolment.'],
      ['stored_hearts', 'Int64', 'user_courses.hearts as stored (5 when NULL).'],
      ['recomputed_hearts', 'Int64', '5 + the sum of hearts_after − hearts_before over the learner’s log.'],
      ['log_entries', 'UInt64', 'The learner’s entries in user_hearts_log.'],
    ],
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
