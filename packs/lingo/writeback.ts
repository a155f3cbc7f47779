// What Tributary writes back into the lingo database (DESIGN §6), both owned by Tributary alone
// (the application never writes them):
// - user_daily_xp: XP, goal met, lessons completed and time spent per learner and local day, from
//   mart_lingo_daily_xp (upserts by (user_id, date); a day whose XP all went away is written as
//   zero, never deleted);
// - user_courses.current_streak / longest_streak: per enrollment, the streak of local days with XP
//   earned in that course (FR-13: any XP-earning activity), by streakOf — each action in the time
//   zone the device reported then, across journeys and DST (AC-12).
// Capture of `all` leaves user_daily_xp out (the pack declares it in PackWriteback.tables; the
// capture has no column exclusion); user_courses is captured (its hearts feed AC-11) but no
// mapping or mart reads its streak columns or updated_at, so a write-back changes no mart.
import type pg from 'pg';
import {
  WRITEBACK_STATE,
  type TargetRow,
  type WritebackTarget,
  type WriteResult,
} from '../../jobs/writeback/engine.ts';
import { streakOf, type ZonedActivity } from '../../jobs/writeback/streaks.ts';
import { mirrorTable, quoteTable } from '../../warehouse/index.ts';
import { zonedXpEvents } from './marts.ts';

/** Postgres tables Tributary writes: the capture must leave them out. */
export const LINGO_WRITTEN_TABLES = ['user_daily_xp'] as const;

export const DAILY_XP_TARGET = 'postgres:user_daily_xp';
export const STREAKS_TARGET = 'postgres:user_courses.streaks';

export function lingoTargets(options: {
  source: string;
  asOf: Date;
  postgres: pg.ClientBase;
}): WritebackTarget[] {
  return [dailyXpTarget(options.postgres), streaksTarget(options)];
}

function dailyXpTarget(postgres: pg.ClientBase): WritebackTarget {
  const key = "concat(user_id, '|', toString(day))";
  return {
    name: DAILY_XP_TARGET,
    sql: `SELECT ${key} AS natural_key, user_id, toString(day) AS day, xp AS xp_earned, goal_met,
        lessons_completed AS activities_completed, time_spent_seconds
      FROM mart_lingo_daily_xp WHERE pack = {pack:String}
      UNION ALL
      SELECT natural_key, splitByChar('|', natural_key)[1], splitByChar('|', natural_key)[2], 0, 0, 0, 0
      FROM (SELECT DISTINCT natural_key FROM ${WRITEBACK_STATE} WHERE target = '${DAILY_XP_TARGET}')
      WHERE natural_key NOT IN (SELECT ${key} FROM mart_lingo_daily_xp WHERE pack = {pack:String})`,
    orderBy: 't.day',
    valueColumns: ['xp_earned', 'goal_met', 'activities_completed', 'time_spent_seconds'],
    hashed: true,
    async write(rows: TargetRow[]): Promise<WriteResult> {
      // Learners deleted since the marts ran are skipped (their rows went with them).
      const result = await postgres.query<{ inserted: boolean }>(
        `INSERT INTO user_daily_xp (user_id, date, xp_earned, goal_met, activities_completed, time_spent_seconds)
         SELECT v.user_id, v.day, v.xp, v.goal_met, v.lessons, v.seconds
         FROM unnest($1::uuid[], $2::date[], $3::int[], $4::boolean[], $5::int[], $6::int[])
           AS v(user_id, day, xp, goal_met, lessons, seconds)
         WHERE EXISTS (SELECT 1 FROM users u WHERE u.id = v.user_id)
         ON CONFLICT (user_id, date) DO UPDATE SET xp_earned = EXCLUDED.xp_earned, goal_met = EXCLUDED.goal_met,
           activities_completed = EXCLUDED.activities_completed, time_spent_seconds = EXCLUDED.time_spent_seconds
         WHERE (user_daily_xp.xp_earned, user_daily_xp.goal_met, user_daily_xp.activities_completed,
                user_daily_xp.time_spent_seconds) IS DISTINCT FROM
               (EXCLUDED.xp_earned, EXCLUDED.goal_met, EXCLUDED.activities_completed, EXCLUDED.time_spent_seconds)
         RETURNING (xmax = 0) AS inserted`,
        [
          rows.map((row) => row.user_id),
          rows.map((row) => row.day),
          rows.map((row) => Number(row.xp_earned)),
          rows.map((row) => Number(row.goal_met) === 1),
          rows.map((row) => Number(row.activities_completed)),
          rows.map((row) => Number(row.time_spent_seconds)),
        ],
      );
      const inserted = result.rows.filter((row) => row.inserted).length;
      return { inserted, updated: result.rows.length - inserted };
    },
    async diff(rows: TargetRow[]): Promise<string[]> {
      const result = await postgres.query<{ user_id: string; date: string; xp_earned: number }>(
        `SELECT user_id, date::text AS date, xp_earned FROM user_daily_xp
         WHERE (user_id, date) IN (SELECT * FROM unnest($1::uuid[], $2::date[]))`,
        [rows.map((row) => row.user_id), rows.map((row) => row.day)],
      );
      return rows.map((row) => {
        const now = result.rows.find((held) => held.user_id === row.user_id && held.date === row.day);
        return `${now ? 'update' : 'insert'} ${String(row.user_id)} ${String(row.day)}: xp_earned ${now?.xp_earned ?? '—'} → ${String(row.xp_earned)}`;
      });
    },
  };
}

/** Per enrollment, its XP-earning actions as `ms@zone` in time order (none: an empty string). */
function streaksTarget(options: { source: string; asOf: Date; postgres: pg.ClientBase }): WritebackTarget {
  const { source, postgres } = options;
  const mirror = (table: string) => quoteTable(mirrorTable(source, table));
  return {
    name: STREAKS_TARGET,
    sql: `SELECT concat(c.user_id, '|', c.course_id) AS natural_key, c.user_id AS user_id, c.course_id AS course_id,
        arrayStringConcat(arrayMap(a -> concat(toString(a.1), '@', a.2), arraySort(a -> a.1, ifNull(x.actions, []))), ';') AS actions
      FROM (SELECT toString(user_id) AS user_id, toString(course_id) AS course_id FROM ${mirror('user_courses')} FINAL
            WHERE _is_deleted = 0) AS c
      LEFT JOIN (
        SELECT e.user_id AS user_id, toString(s.course_id) AS course_id,
          groupArray((toUnixTimestamp64Milli(e.ts), e.zone)) AS actions
        FROM (SELECT * FROM (${zonedXpEvents(source)}) WHERE value > 0) AS e
        INNER JOIN (SELECT toString(id) AS id, unit_id FROM ${mirror('lessons')} FINAL WHERE _is_deleted = 0) AS l
          ON l.id = e.content_id
        INNER JOIN (SELECT id, section_id FROM ${mirror('units')} FINAL WHERE _is_deleted = 0) AS u ON u.id = l.unit_id
        INNER JOIN (SELECT id, course_id FROM ${mirror('sections')} FINAL WHERE _is_deleted = 0) AS s ON s.id = u.section_id
        GROUP BY user_id, course_id) AS x
        ON x.user_id = c.user_id AND x.course_id = c.course_id`,
    valueColumns: ['actions'],
    // The streak depends on the run's time as well (it lapses), so Postgres says what is right.
    hashed: false,
    async write(rows: TargetRow[]): Promise<WriteResult> {
      const result = await postgres.query(
        `UPDATE user_courses AS c SET current_streak = v.current_streak, longest_streak = v.longest_streak
         FROM ${STALE_STREAKS}`,
        streakParams(rows, options.asOf),
      );
      return { inserted: 0, updated: result.rowCount ?? 0 };
    },
    async plan(rows: TargetRow[]): Promise<WriteResult> {
      const result = await postgres.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM user_courses AS c, ${STALE_STREAKS}`,
        streakParams(rows, options.asOf),
      );
      return { inserted: 0, updated: result.rows[0]?.n ?? 0 };
    },
    async diff(rows: TargetRow[]): Promise<string[]> {
      return rows.slice(0, 3).map((row) => {
        const streak = streakOf(parseActions(String(row.actions)), options.asOf);
        return `${String(row.natural_key)}: current_streak ${streak.current}, longest_streak ${streak.longest}`;
      });
    },
  };
}

/** The enrollments whose stored streaks differ from the computed ones ($1–$4): for the write and the dry run. */
const STALE_STREAKS = `unnest($1::uuid[], $2::uuid[], $3::int[], $4::int[]) AS v(user_id, course_id, current_streak, longest_streak)
  WHERE c.user_id = v.user_id AND c.course_id = v.course_id
    AND (c.current_streak, c.longest_streak) IS DISTINCT FROM (v.current_streak, v.longest_streak)`;

function streakParams(rows: TargetRow[], asOf: Date): unknown[][] {
  const streaks = rows.map((row) => streakOf(parseActions(String(row.actions)), asOf));
  return [
    rows.map((row) => row.user_id),
    rows.map((row) => row.course_id),
    streaks.map((streak) => streak.current),
    streaks.map((streak) => streak.longest),
  ];
}

function parseActions(text: string): ZonedActivity[] {
  if (text === '') return [];
  return text.split(';').map((entry) => {
    const at = entry.indexOf('@');
    return { ms: Number(entry.slice(0, at)), timezone: entry.slice(at + 1) };
  });
}
