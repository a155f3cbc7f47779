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
//
// agg_content_segments: the same counts per segment cell (country, platform, signup month), grouped
// from the facts once: the mart adds up an item's cells, a dashboard a segment's.
import type { PackMapping } from '../../packs/index.ts';
import type { Warehouse } from '../../warehouse/index.ts';
import { replaceDays, type DaySelection } from './partitions.ts';
import { IN_SEGMENT_CELL, segmentOfUser } from './segments.ts';

/** Every day with content facts, for a run over all days. */
const CONTENT_DAYS = `SELECT day FROM fact_activity WHERE pack = {pack:String}
  UNION ALL SELECT day FROM fact_ratings WHERE pack = {pack:String}`;

/**
 * Per (day, content, segment cell: country, platform, signup month of dim_users) the counts behind
 * the mart's figures, from the facts of `{days}`, with `{pack}`, `{views}` and `{start}` bound. Every
 * count is a sum over users (each user counted once per day), so cells add up to the mart's.
 */
function contentCellCountsSelect(): string {
  // A user missing from dim_users joins with empty strings: in the totals, in no segment.
  const segmentOf = (key: 'user_key' | 'user_id') =>
    `LEFT JOIN (${segmentOfUser(key)}) AS segment USING ${key}`;
  const cell = 'country, platform, signup_month';
  // One group per (day, content, cell): a day's events on one item come from a handful of users, so
  // the users are a sorted array, not a second level of groups (a group per user and item was
  // half the cost). In the sorted array, distinct users are runs of equal keys, and users with
  // exactly one event (bounces) are runs of length one.
  return `SELECT day, content_id, content_type, ${cell},
        length(arrayCompact(users)) AS unique_users,
        arrayCount((user, at) -> (at = 1 OR users[at - 1] != user) AND (at = length(users) OR users[at + 1] != user),
                   users, arrayEnumerate(users)) AS bounces,
        views, completions, seconds, score_sum, scored, starters, completers, scorers, passers,
        rating_count, rating_sum
     FROM (
       SELECT day, content_id, content_type, ${cell},
           arraySort(groupArrayIf(user_key, is_event)) AS users,
           countIf(is_event AND event_type IN {views:Array(String)}) AS views,
           uniqExactIf(user_key, is_event AND (event_type = {start:String} OR is_completion = 1)) AS starters,
           uniqExactIf(user_key, is_event AND is_completion = 1) AS completers,
           sum(is_completion) AS completions, sum(duration_s) AS seconds,
           sumIf(score, score IS NOT NULL) AS score_sum, countIf(score IS NOT NULL) AS scored,
           uniqExactIf(user_key, is_event AND score IS NOT NULL) AS scorers,
           uniqExactIf(user_key, is_event AND score IS NOT NULL AND max_score > 0 AND score * 10 >= max_score * 7) AS passers,
           countIf(NOT is_event) AS rating_count, sumIf(rating, NOT is_event) AS rating_sum
       FROM (
         SELECT day, content_id, content_type, ${cell}, user_key, true AS is_event, event_type,
             is_completion, duration_s, score, max_score, 0 AS rating
         FROM fact_activity ${segmentOf('user_key')}
         WHERE pack = {pack:String} AND content_id != '' AND day IN {days:Array(Date)}
         UNION ALL
         SELECT day, content_id, content_type, ${cell}, 0, false, '', 0, 0, NULL, NULL, rating
         FROM fact_ratings ${segmentOf('user_id')}
         WHERE pack = {pack:String} AND day IN {days:Array(Date)}
       )
       GROUP BY day, content_id, content_type, ${cell}
     )`;
}

/**
 * The mart's rows (every column, `{pack}` first) from per (day, content) counts with
 * contentCellCountsSelect's columns (its cells added up): the one rule for its rates.
 */
function contentRatesFrom(counts: string): string {
  return `SELECT {pack:String} AS pack, day, content_id, content_type, unique_users, views, completions,
        if(starters = 0, NULL, completers / starters) AS completion_rate,
        if(unique_users = 0, NULL, seconds / unique_users) AS avg_time_spent_s,
        if(scored = 0, NULL, score_sum / scored) AS avg_score,
        if(scorers = 0, NULL, passers / scorers) AS pass_rate,
        if(unique_users = 0, NULL, bounces / unique_users) AS bounce_rate,
        if(rating_count = 0, NULL, rating_sum / rating_count) AS rating_avg,
        rating_count, starters, completers, scorers, passers
     FROM (${counts})`;
}

/** The additive counts of a content day, as agg_content_weekly and agg_content_segments hold them. */
const DAY_COUNTS =
  'unique_users, views, starters, completers, scorers, passers, bounces, rating_sum, rating_count';

/**
 * mart_content_performance's rows as counts (`pack`, `day`, `content_id`, `content_type` and
 * DAY_COUNTS): the day's bouncing users and rating sum back from their rates, so that days, weeks and
 * segment cells add up.
 */
export const CONTENT_DAY_COUNTS = `SELECT pack, day, content_id, content_type, unique_users, views, starters,
    completers, scorers, passers, toUInt64(round(ifNull(bounce_rate, 0) * unique_users)) AS bounces,
    ifNull(rating_avg, 0) * rating_count AS rating_sum, rating_count
  FROM mart_content_performance`;

/**
 * CONTENT_DAY_COUNTS for a segment (`{country}`, `{platform}`, `{cohort}` bound): its cells of
 * agg_content_segments, one row per cell, which a reader adds up like the mart's days.
 */
export const SEGMENT_CONTENT_DAY_COUNTS = `SELECT pack, day, content_id, content_type, ${DAY_COUNTS}
  FROM agg_content_segments WHERE ${IN_SEGMENT_CELL}`;

/**
 * mart_content_performance on `days`, from agg_content_segments' cells added up per item: the
 * facts are grouped once, for the cells, which recomputeContentSegments wrote first.
 */
export async function recomputeContentPerformance(
  warehouse: Warehouse,
  pack: string,
  days: DaySelection,
): Promise<void> {
  await replaceDays(warehouse, 'mart_content_performance', pack, days, {
    select: contentRatesFrom(
      `SELECT day, content_id, content_type, sum(unique_users) AS unique_users, sum(bounces) AS bounces,
         sum(views) AS views, sum(completions) AS completions, sum(seconds) AS seconds,
         sum(score_sum) AS score_sum, sum(scored) AS scored, sum(starters) AS starters,
         sum(completers) AS completers, sum(scorers) AS scorers, sum(passers) AS passers,
         sum(rating_count) AS rating_count, sum(rating_sum) AS rating_sum
       FROM agg_content_segments WHERE pack = {pack:String} AND day IN {days:Array(Date)}
       GROUP BY day, content_id, content_type`,
    ),
    allDays: CONTENT_DAYS,
    daysPerWrite: 7,
  });
}

/**
 * agg_content_segments on `days`: the content counts per segment cell, which the mart adds up per
 * item and a dashboard's segment adds up over its cells, neither reading the facts again.
 */
export async function recomputeContentSegments(
  warehouse: Warehouse,
  pack: string,
  mapping: PackMapping,
  days: DaySelection,
): Promise<void> {
  await replaceDays(warehouse, 'agg_content_segments', pack, days, {
    select: `SELECT {pack:String}, * FROM (${contentCellCountsSelect()})`,
    allDays: CONTENT_DAYS,
    params: { views: mapping.viewEventTypes, start: mapping.startEventType },
    daysPerWrite: 7,
  });
}
