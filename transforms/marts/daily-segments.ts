// agg_daily_segments: per (pack, day, country, signup month, platform) — active users, events and
// signups. The Overview's period summary adds these up instead of reading per-user rows. Which days
// a run recomputes, besides those whose activity changed, is segments.ts's concern.
import type { Warehouse } from '../../warehouse/index.ts';
import { replaceDays, type DaySelection } from './partitions.ts';
import { SIGNUP_MONTH } from './segments.ts';

export async function recomputeDailySegments(
  warehouse: Warehouse,
  pack: string,
  days: DaySelection,
): Promise<void> {
  // A user missing from dim_users joins with empty strings: counted in the totals, in no segment.
  const users = `SELECT user_id, country, toDate(signup_at) AS signup_day, ${SIGNUP_MONTH} AS signup_month, platform
    FROM dim_users WHERE pack = {pack:String}`;
  await replaceDays(warehouse, 'agg_daily_segments', pack, days, {
    select: `SELECT {pack:String}, day, country, signup_month, platform,
        sum(active) AS active_users, sum(events) AS events, sum(signups) AS new_users
      FROM (
        SELECT m.day AS day, u.country AS country, u.signup_month AS signup_month, u.platform AS platform,
          1 AS active, m.events AS events, 0 AS signups
        FROM mart_daily_user_metrics AS m LEFT JOIN (${users}) AS u ON u.user_id = m.user_id
        WHERE m.pack = {pack:String} AND m.day IN {days:Array(Date)}
        UNION ALL
        SELECT signup_day, country, signup_month, platform, 0, 0, 1
        FROM (${users}) WHERE signup_day IN {days:Array(Date)}
      )
      GROUP BY day, country, signup_month, platform`,
    allDays: `SELECT day FROM mart_daily_user_metrics WHERE pack = {pack:String}
      UNION ALL SELECT toDate(signup_at) AS day FROM dim_users WHERE pack = {pack:String}`,
  });
}
