// agg_content_segments: per (pack, day, segment cell, content) — how many of the cell's users used,
// viewed, started, completed, scored on, passed and bounced on the item that day, by
// mart_content_performance's rules (CONTENT_RULES). A segment's leaderboard adds up its cells' rows
// (bench:dashboards, 10M facts: a third of the CPU of grouping the segment's facts by user, day and
// item on request). A user's cell comes from dim_users, so besides the days whose activity changed,
// a run recomputes the days of the users whose segment changed (segmentChanges).
import type { PackMapping } from '../../packs/index.ts';
import type { Warehouse } from '../../warehouse/index.ts';
import { CONTENT_RULES } from './content-performance.ts';
import { replaceDays, type DaySelection } from './partitions.ts';

export async function recomputeContentSegments(
  warehouse: Warehouse,
  pack: string,
  mapping: PackMapping,
  days: DaySelection,
): Promise<void> {
  // A user missing from dim_users joins with empty strings: in no segment, like agg_daily_segments.
  // Joining only the days' active users was no cheaper (bench:dashboards' warehouse, 1 and 7 days).
  const users = `SELECT user_key, country, platform, formatDateTime(signup_at, '%Y-%m') AS signup_month
    FROM dim_users WHERE pack = {pack:String}`;
  await replaceDays(warehouse, 'agg_content_segments', pack, days, {
    select: `SELECT {pack:String}, day, country, platform, signup_month,
        cityHash64(content_id, content_type) AS content_key, content_id, content_type,
        count() AS user_days, sum(viewed), sum(started), sum(completed), sum(scored), sum(passed),
        countIf(events = 1)
      FROM (
        SELECT day, content_id, content_type, user_key, count() AS events,
          countIf(${CONTENT_RULES.viewed}) AS viewed, max(${CONTENT_RULES.started}) AS started,
          max(is_completion = 1) AS completed, max(score IS NOT NULL) AS scored,
          max(${CONTENT_RULES.passed}) AS passed
        FROM fact_activity
        WHERE pack = {pack:String} AND content_id != '' AND day IN {days:Array(Date)}
        GROUP BY day, content_id, content_type, user_key) AS used
      LEFT JOIN (${users}) AS u ON u.user_key = used.user_key
      GROUP BY day, country, platform, signup_month, content_id, content_type`,
    allDays: `SELECT day FROM fact_activity WHERE pack = {pack:String}`,
    params: { views: mapping.viewEventTypes, start: mapping.startEventType },
    daysPerWrite: 7,
  });
}
