// mart_dau: per (pack, day) from the first to the last day with activity — distinct active users
// on the day (DAU), in the 7 days (WAU) and the 28 days (MAU) ending on it, and DAU/MAU. Each day's
// users are a bitmap of dense 32-bit keys, so a window merges at most 28 small bitmaps (64-bit
// hashes made roaring bitmaps 60 times slower to merge).
import type { Warehouse } from '../../warehouse/index.ts';
import { replaceDays, type DaySelection } from './partitions.ts';

/** A day's activity reaches the WAU and MAU of the 27 days after it. */
export const MAU_WINDOW_DAYS = 28;

export async function recomputeDau(
  warehouse: Warehouse,
  pack: string,
  changedDays: DaySelection,
): Promise<void> {
  const range = await warehouse.query<{ first: string; last: string }>(
    `SELECT toString(min(day)) AS first, toString(max(day)) AS last FROM fact_activity WHERE pack = {pack:String}`,
    { pack },
  );
  const first = range[0]?.first;
  const last = range[0]?.last;
  const empty = !first || !last || first === '1970-01-01';
  const targets = empty ? [] : targetDays(first, last, changedDays);
  if (empty) {
    await warehouse.command(`DELETE FROM mart_dau WHERE pack = {pack:String}`, { pack });
    return;
  }
  // Days outside the activity range (its first or last days' activity deleted) must not linger.
  await warehouse.command(
    `DELETE FROM mart_dau WHERE pack = {pack:String} AND (day < {first:Date} OR day > {last:Date})`,
    { pack, first, last },
  );
  await replaceDays(
    warehouse,
    'mart_dau',
    pack,
    targets,
    `SELECT {pack:String} AS pack, target AS day,
        groupBitmapMergeIf(users, active_day = target) AS dau,
        groupBitmapMergeIf(users, active_day > target - 7) AS wau,
        groupBitmapMerge(users) AS mau,
        if(mau = 0, 0, dau / mau) AS stickiness
     FROM (SELECT arrayJoin({days:Array(Date)}) AS target) AS targets
     CROSS JOIN (
       SELECT day AS active_day, groupBitmapState(user_key) AS users
       FROM (
         SELECT DISTINCT day, user_id FROM fact_activity
         WHERE pack = {pack:String} AND day >= toDate({first:String}) - ${MAU_WINDOW_DAYS} AND day <= {last:Date}
       ) AS active
       INNER JOIN (
         -- A dense 32-bit key per user of the window: small bitmaps, exact counts.
         SELECT user_id, toUInt32(rowNumberInAllBlocks()) AS user_key
         FROM (SELECT DISTINCT user_id FROM fact_activity
               WHERE pack = {pack:String} AND day >= toDate({first:String}) - ${MAU_WINDOW_DAYS} AND day <= {last:Date})
       ) AS keys USING (user_id)
       GROUP BY day
     ) AS daily
     WHERE active_day <= target AND active_day > target - ${MAU_WINDOW_DAYS}
     GROUP BY target`,
    { first: targets[0] ?? first, last },
  );
}

/** Every day of the range, or the changed days and the 27 after each, within the range. */
function targetDays(first: string, last: string, changed: DaySelection): string[] {
  const days: string[] = [];
  const end = Date.parse(`${last}T00:00:00Z`);
  const start = Date.parse(`${first}T00:00:00Z`);
  const wanted = new Set<string>();
  if (changed !== 'all')
    for (const day of changed) {
      const at = Date.parse(`${day}T00:00:00Z`);
      for (let offset = 0; offset < MAU_WINDOW_DAYS; offset++) wanted.add(isoDay(at + offset * 86_400_000));
    }
  for (let at = start; at <= end; at += 86_400_000) {
    const day = isoDay(at);
    if (changed === 'all' || wanted.has(day)) days.push(day);
  }
  return days;
}

function isoDay(at: number): string {
  return new Date(at).toISOString().slice(0, 10);
}
