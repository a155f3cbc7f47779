// Postgres `user_streaks`: the application owns the streak while a user is active (it extends the
// streak, spends a freeze on a one-day gap, tracks the longest); it writes nothing when a user
// stops coming, so a lapsed streak would stand forever. Tributary owns that lapse alone: as of the
// run's time, a user whose last activity (in their own time zone, from dim_users) is more than one
// local day back (two when they hold a freeze) gets current_streak = 0. Nothing else is written:
// longest_streak, last_activity_date and the freezes stay the application's.
import type pg from 'pg';
import { mirrorTableName } from '../../ingest/index.ts';
import { quoteIdentifier } from '../../warehouse/index.ts';
import { dayIn } from '../schedule.ts';
import type { TargetRow, WritebackTarget, WriteResult } from './engine.ts';

/** Whole days from `from` to `to` (`YYYY-MM-DD`). */
export function daysBetween(from: string, to: string): number {
  return Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86_400_000);
}

/** The user's last active day and how many local days ago it was, as of `asOf`. */
export function localGap(
  lastActiveMs: number,
  timezone: string,
  asOf: Date,
): { lastDay: string; gap: number } {
  const zone = validZone(timezone);
  const lastDay = dayIn(new Date(lastActiveMs), zone);
  return { lastDay, gap: daysBetween(lastDay, dayIn(asOf, zone)) };
}

const zones = new Map<string, string>();
function validZone(timezone: string): string {
  let zone = zones.get(timezone);
  if (zone === undefined) {
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: timezone || 'UTC' });
      zone = timezone || 'UTC';
    } catch {
      zone = 'UTC';
    }
    zones.set(timezone, zone);
  }
  return zone;
}

export function streaksTarget(options: {
  client: pg.ClientBase;
  pack: string;
  source: string;
  asOf: Date;
}): WritebackTarget {
  const mirror = quoteIdentifier(mirrorTableName(options.source, 'public', 'user_streaks'));
  return {
    name: 'postgres:user_streaks',
    // Candidates: streaks the application still shows as running (its mirror), with the user's
    // last activity and time zone.
    sql: `SELECT toString(s.user_id) AS natural_key, ifNull(u.timezone, '') AS timezone,
        toString(toUnixTimestamp64Milli(a.last_ts)) AS last_ms
      FROM (SELECT user_id FROM ${mirror} FINAL WHERE _is_deleted = 0 AND current_streak != 0) AS s
      INNER JOIN (SELECT user_id, max(ts) AS last_ts FROM fact_activity WHERE pack = {pack:String} GROUP BY user_id) AS a
        ON a.user_id = toString(s.user_id)
      LEFT JOIN (SELECT user_id, timezone FROM dim_users WHERE pack = {pack:String}) AS u ON u.user_id = a.user_id`,
    valueColumns: ['timezone', 'last_ms'],
    hashed: false,
    async write(rows: TargetRow[]): Promise<WriteResult> {
      const lapsed = lapsedOf(rows, options.asOf);
      if (lapsed.ids.length === 0) return { inserted: 0, updated: 0 };
      // The live row decides too: a freeze it holds allows one more day, and an activity the
      // application recorded after the one we know of means the streak is alive.
      const result = await options.client.query(
        `UPDATE user_streaks AS s SET current_streak = 0, updated_at = now()
         FROM unnest($1::uuid[], $2::int[], $3::date[]) AS v(user_id, gap, last_day)
         WHERE s.user_id = v.user_id AND s.current_streak <> 0
           AND v.gap > CASE WHEN s.streak_freeze_count > 0 THEN 2 ELSE 1 END
           AND (s.last_activity_date IS NULL OR s.last_activity_date <= v.last_day + 1)`,
        [lapsed.ids, lapsed.gaps, lapsed.days],
      );
      return { inserted: 0, updated: result.rowCount ?? 0 };
    },
    async diff(rows: TargetRow[]): Promise<string[]> {
      const lapsed = lapsedOf(rows, options.asOf);
      const result = await options.client.query<{
        user_id: string;
        current_streak: number;
        streak_freeze_count: number;
      }>(
        'SELECT user_id, current_streak, streak_freeze_count FROM user_streaks WHERE user_id = ANY($1::uuid[]) LIMIT 3',
        [lapsed.ids.slice(0, 3)],
      );
      return result.rows.map(
        (row) =>
          `update user_id=${row.user_id}: current_streak: ${row.current_streak} → 0 (freezes ${row.streak_freeze_count})`,
      );
    },
  };
}

function lapsedOf(rows: TargetRow[], asOf: Date): { ids: string[]; gaps: number[]; days: string[] } {
  const ids: string[] = [];
  const gaps: number[] = [];
  const days: string[] = [];
  for (const row of rows) {
    const { lastDay, gap } = localGap(Number(row.last_ms), String(row.timezone), asOf);
    if (gap <= 1) continue;
    ids.push(row.natural_key);
    gaps.push(gap);
    days.push(lastDay);
  }
  return { ids, gaps, days };
}
