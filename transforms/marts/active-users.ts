// agg_daily_active_users: per (pack, day), the day's active users as a bitmap of user keys. The
// partial aggregate mart_dau and mart_retention are computed from: unions and intersections of a
// few hundred small bitmaps instead of scans of the facts.
import type { Warehouse } from '../../warehouse/index.ts';
import { replaceDays, type DaySelection } from './partitions.ts';

export async function recomputeDailyActiveUsers(
  warehouse: Warehouse,
  pack: string,
  days: DaySelection,
): Promise<void> {
  await replaceDays(warehouse, 'agg_daily_active_users', pack, days, {
    select: `SELECT {pack:String}, day, groupBitmapState(user_key) AS users
        FROM fact_activity WHERE pack = {pack:String} AND day IN {days:Array(Date)}
        GROUP BY day`,
    allDays: 'SELECT day FROM fact_activity WHERE pack = {pack:String}',
  });
}

/**
 * A SELECT of (day, users) for every day from `{from:Date}` to `{to:Date}`: the day's bitmap, empty on
 * days without activity, so that window frames counted in rows are frames in days.
 */
export function activeUsersCalendar(): string {
  return `SELECT calendar.day AS day, active.users AS users
    FROM (SELECT toDate({from:Date}) + number AS day FROM numbers(toUInt64(dateDiff('day', {from:Date}, {to:Date}) + 1))) AS calendar
    -- A missing day joins as the type's default: an empty bitmap.
    LEFT JOIN (SELECT day, users FROM agg_daily_active_users WHERE pack = {pack:String} AND day BETWEEN {from:Date} AND {to:Date}) AS active
      ON active.day = calendar.day`;
}
