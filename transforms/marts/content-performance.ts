// mart_content_performance: per (pack, day, content) — unique users, views, completions,
// completion rate (completions / unique starters), average time spent per user, average score,
// pass rate (scored attempts at 70% of the maximum or more), bounce rate (users with exactly one
// event on the content that day), and the ratings given that day. Seed 000's content_performance.
import type { PackMapping } from '../../packs/index.ts';
import type { Warehouse } from '../../warehouse/index.ts';
import { replaceDays, type DaySelection } from './partitions.ts';

export async function recomputeContentPerformance(
  warehouse: Warehouse,
  pack: string,
  mapping: PackMapping,
  days: DaySelection,
): Promise<void> {
  await replaceDays(warehouse, 'mart_content_performance', pack, days, {
    select: `SELECT {pack:String} AS pack, day, content_id, content_type,
        toUInt64(countIf(u_events > 0)) AS unique_users, toUInt64(sum(u_views)) AS views,
        toUInt64(sum(u_completions)) AS completions,
        if(countIf(u_starts > 0) = 0, NULL, sum(u_completions) / countIf(u_starts > 0)) AS completion_rate,
        if(countIf(u_events > 0) = 0, NULL, sum(u_seconds) / countIf(u_events > 0)) AS avg_time_spent_s,
        if(sum(u_scored) = 0, NULL, sum(u_score_sum) / sum(u_scored)) AS avg_score,
        if(sum(u_scored) = 0, NULL, sum(u_passed) / sum(u_scored)) AS pass_rate,
        if(countIf(u_events > 0) = 0, NULL, countIf(u_events = 1) / countIf(u_events > 0)) AS bounce_rate,
        if(sum(u_ratings) = 0, NULL, sum(u_rating_sum) / sum(u_ratings)) AS rating_avg,
        toUInt64(sum(u_ratings)) AS rating_count
     FROM (
       SELECT day, content_id, content_type, user_id, count() AS u_events,
           countIf(event_type IN {views:Array(String)}) AS u_views,
           countIf(event_type = {start:String}) AS u_starts, sum(is_completion) AS u_completions,
           sum(duration_s) AS u_seconds, sumIf(score, score IS NOT NULL) AS u_score_sum,
           countIf(score IS NOT NULL) AS u_scored,
           countIf(score IS NOT NULL AND max_score > 0 AND score * 10 >= max_score * 7) AS u_passed,
           0 AS u_ratings, 0 AS u_rating_sum
       FROM fact_activity WHERE pack = {pack:String} AND content_id != '' AND day IN {days:Array(Date)}
       GROUP BY day, content_id, content_type, user_id
       UNION ALL
       SELECT day, content_id, content_type, user_id, 0, 0, 0, 0, 0, 0, 0, 0, count(), sum(rating)
       FROM fact_ratings WHERE pack = {pack:String} AND day IN {days:Array(Date)}
       GROUP BY day, content_id, content_type, user_id
     )
     GROUP BY day, content_id, content_type`,
    allDays: `SELECT day FROM fact_activity WHERE pack = {pack:String}
        UNION ALL SELECT day FROM fact_ratings WHERE pack = {pack:String}`,
    params: { views: mapping.viewEventTypes, start: mapping.startEventType },
    daysPerWrite: 7,
  });
}
