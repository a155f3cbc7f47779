// mart_daily_user_metrics: per (pack, day, user) — events, sessions (distinct session ids), active
// seconds, distinct content viewed, completions, score sum and count, and the pack's value.
import type { PackMapping } from '../../packs/index.ts';
import type { Warehouse } from '../../warehouse/index.ts';
import { replaceDays, type DaySelection } from './partitions.ts';

export async function recomputeDailyUserMetrics(
  warehouse: Warehouse,
  pack: string,
  mapping: PackMapping,
  days: DaySelection,
): Promise<void> {
  await replaceDays(warehouse, 'mart_daily_user_metrics', pack, days, {
    // Grouped by the integer user key (one per user id), which hashes far cheaper than the id. Most
    // (day, user) groups hold a handful of rows: small arrays count distinct values far cheaper
    // than a hash set per group. (The pack is not aliased `pack`: the alias would shadow the column
    // in WHERE, and keys of every pack would be grouped together.)
    select: `SELECT {pack:String}, day, any(user_id) AS user_id, count() AS events,
        length(arrayDistinct(groupArrayIf(session_id, session_id != ''))) AS sessions,
        sum(duration_s) AS active_seconds,
        length(arrayDistinct(groupArrayIf(content_id, content_id != '' AND event_type IN {views:Array(String)}))) AS content_views,
        sum(is_completion) AS completions, sumIf(score, score IS NOT NULL) AS score_sum,
        countIf(score IS NOT NULL) AS score_count, sum(value) AS value
     FROM fact_activity WHERE pack = {pack:String} AND day IN {days:Array(Date)}
     GROUP BY day, user_key`,
    allDays: 'SELECT day FROM fact_activity WHERE pack = {pack:String}',
    params: { views: mapping.viewEventTypes },
    daysPerWrite: 7,
  });
}
