// mart_content_performance: per (pack, day, content) — unique users, views, completions (events),
// completion rate, average time spent per user, average score, pass rate, bounce rate (users with
// exactly one event on the content that day), and the ratings given that day. Seed 000's
// content_performance.
//
// Both rates are over distinct users, so they stay in [0, 1]:
// - completion rate = users who completed the item that day / users who started it that day or
//   completed it that day (a completion whose start was on an earlier day counts as that user's
//   start on the completion day, so every completer is also a starter);
// - pass rate = users with a scored attempt at 70% of the maximum or more / users with a scored
//   attempt that day.
import type { PackMapping } from '../../packs/index.ts';
import type { Warehouse } from '../../warehouse/index.ts';
import { replaceDays, type DaySelection } from './partitions.ts';

/**
 * The mart's rules for one fact on one item, as conditions over fact_activity's columns (with the
 * pack's `{views}` and `{start}` bound): agg_content_segments applies the very same ones.
 */
export const CONTENT_RULES = {
  viewed: 'event_type IN {views:Array(String)}',
  started: '(event_type = {start:String} OR is_completion = 1)',
  /** A pass is a score of at least 70% of the maximum. */
  passed: '(score IS NOT NULL AND max_score > 0 AND score * 10 >= max_score * 7)',
} as const;

/**
 * The mart's rows (every column, `{pack}` first) from the facts `activity` and `ratings` choose:
 * conditions on fact_activity and fact_ratings, with `{pack}`, `{views}` and `{start}` bound. The
 * mart takes whole days; a dashboard takes a segment's users, so its rates follow the same rule.
 */
export function contentDaysSelect(activity: string, ratings: string): string {
  // One group per (day, content): a day's events on one item come from a handful of users, so
  // the users are a sorted array, not a second level of groups (a group per user and item was
  // half the cost). In the sorted array, distinct users are runs of equal keys, and users with
  // exactly one event (bounces) are runs of length one.
  return `SELECT {pack:String} AS pack, day, content_id, content_type,
        length(arrayCompact(users)) AS unique_users, views, completions,
        if(starters = 0, NULL, completers / starters) AS completion_rate,
        if(unique_users = 0, NULL, seconds / unique_users) AS avg_time_spent_s,
        if(scored = 0, NULL, score_sum / scored) AS avg_score,
        if(scorers = 0, NULL, passers / scorers) AS pass_rate,
        if(unique_users = 0, NULL,
           arrayCount((user, at) -> (at = 1 OR users[at - 1] != user) AND (at = length(users) OR users[at + 1] != user),
                      users, arrayEnumerate(users)) / unique_users) AS bounce_rate,
        if(ratings = 0, NULL, rating_sum / ratings) AS rating_avg,
        ratings AS rating_count, starters, completers, scorers, passers
     FROM (
       SELECT day, content_id, content_type,
           arraySort(groupArrayIf(user_key, is_event)) AS users,
           countIf(is_event AND ${CONTENT_RULES.viewed}) AS views,
           uniqExactIf(user_key, is_event AND ${CONTENT_RULES.started}) AS starters,
           uniqExactIf(user_key, is_event AND is_completion = 1) AS completers,
           sum(is_completion) AS completions, sum(duration_s) AS seconds,
           sumIf(score, score IS NOT NULL) AS score_sum, countIf(score IS NOT NULL) AS scored,
           uniqExactIf(user_key, is_event AND score IS NOT NULL) AS scorers,
           uniqExactIf(user_key, is_event AND ${CONTENT_RULES.passed}) AS passers,
           countIf(NOT is_event) AS ratings, sumIf(rating, NOT is_event) AS rating_sum
       FROM (
         SELECT day, content_id, content_type, user_key, true AS is_event, event_type, is_completion,
             duration_s, score, max_score, 0 AS rating
         FROM fact_activity WHERE pack = {pack:String} AND content_id != '' AND ${activity}
         UNION ALL
         SELECT day, content_id, content_type, 0, false, '', 0, 0, NULL, NULL, rating
         FROM fact_ratings WHERE pack = {pack:String} AND ${ratings}
       )
       GROUP BY day, content_id, content_type
     )`;
}

/** What the mapping counts as viewing and starting content, for the dashboards' segment rows. */
async function recordContentEvents(warehouse: Warehouse, pack: string, mapping: PackMapping): Promise<void> {
  await warehouse.command('DELETE FROM dim_content_events WHERE pack = {pack:String}', { pack });
  await warehouse.insert('dim_content_events', [
    { pack, view_event_types: mapping.viewEventTypes, start_event_type: mapping.startEventType },
  ]);
}

export async function recomputeContentPerformance(
  warehouse: Warehouse,
  pack: string,
  mapping: PackMapping,
  days: DaySelection,
): Promise<void> {
  await recordContentEvents(warehouse, pack, mapping);
  await replaceDays(warehouse, 'mart_content_performance', pack, days, {
    select: contentDaysSelect('day IN {days:Array(Date)}', 'day IN {days:Array(Date)}'),
    allDays: `SELECT day FROM fact_activity WHERE pack = {pack:String}
        UNION ALL SELECT day FROM fact_ratings WHERE pack = {pack:String}`,
    params: { views: mapping.viewEventTypes, start: mapping.startEventType },
    daysPerWrite: 7,
  });
}
