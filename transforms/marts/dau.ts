// mart_dau: per (pack, day) from the first to the last day with activity — distinct active users
// on the day (DAU), in the 7 days (WAU) and the 28 days (MAU) ending on it, and DAU/MAU. Unions of
// the days' active-user bitmaps (agg_daily_active_users) over sliding windows of the calendar.
import type { Warehouse } from '../../warehouse/index.ts';
import { activeUsersCalendar } from './active-users.ts';
import { replaceDays, type DaySelection } from './partitions.ts';

/** A day's activity reaches the WAU and MAU of the 27 days after it. */
export const MAU_WINDOW_DAYS = 28;

export async function recomputeDau(
  warehouse: Warehouse,
  pack: string,
  changedDays: DaySelection,
): Promise<void> {
  // Every row of agg_daily_active_users holds at least one user: a day without facts has no row.
  const [range] = await warehouse.query<{ first: string; last: string }>(
    `SELECT toString(min(day)) AS first, toString(max(day)) AS last FROM agg_daily_active_users
     WHERE pack = {pack:String}`,
    { pack },
  );
  const empty = !range || range.first === '1970-01-01';
  const targets = empty ? [] : daysInWindowsOf(range.first, range.last, changedDays);
  // Days outside the activity range (its first or last days' activity deleted) must not linger.
  const [stale] = await warehouse.query<{ days: string[] }>(
    `SELECT groupArray(toString(day)) AS days FROM mart_dau WHERE pack = {pack:String}
     AND ${empty ? '1' : '(day < {first:Date} OR day > {last:Date})'}`,
    { pack, first: range?.first ?? '1970-01-01', last: range?.last ?? '1970-01-01' },
  );
  const days = [...targets, ...(stale?.days ?? [])];
  if (days.length === 0) return;
  await replaceDays(warehouse, 'mart_dau', pack, days, {
    select: `SELECT {pack:String} AS pack, day, dau, wau, mau, if(mau = 0, 0, dau / mau) AS stickiness
     FROM (
       SELECT day, bitmapCardinality(users) AS dau,
           groupBitmapOr(users) OVER (ORDER BY day ROWS BETWEEN 6 PRECEDING AND CURRENT ROW) AS wau,
           groupBitmapOr(users) OVER (ORDER BY day ROWS BETWEEN ${MAU_WINDOW_DAYS - 1} PRECEDING AND CURRENT ROW) AS mau
       FROM (${activeUsersCalendar()})
     )
     WHERE day IN {days:Array(Date)} AND day >= {first:Date}`,
    params: {
      from: shiftDay(targets[0] ?? range?.first ?? '1970-01-01', -(MAU_WINDOW_DAYS - 1)),
      to: range?.last ?? '1970-01-01',
      first: range?.first ?? '1970-01-01',
    },
  });
}

/**
 * The days whose 28-day window holds a changed day: every day of the range first…last, or the
 * changed days and the 27 after each, within the range.
 */
export function daysInWindowsOf(first: string, last: string, changed: DaySelection): string[] {
  const wanted = new Set<string>();
  if (changed !== 'all')
    for (const day of changed)
      for (let offset = 0; offset < MAU_WINDOW_DAYS; offset++) wanted.add(shiftDay(day, offset));
  const days: string[] = [];
  for (let day = first; day <= last; day = shiftDay(day, 1))
    if (changed === 'all' || wanted.has(day)) days.push(day);
  return days;
}

function shiftDay(day: string, offset: number): string {
  return new Date(Date.parse(`${day}T00:00:00Z`) + offset * 86_400_000).toISOString().slice(0, 10);
}
