// agg_content_weekly: per (pack, week, content) — mart_content_performance's counts added up over
// the Monday-based week. A leaderboard over a range reads one row per item and full week, and the
// daily mart only for the partial weeks at the range's ends. Recomputed for the weeks of the days
// whose content rows were recomputed.
import type { Warehouse } from '../../warehouse/index.ts';
import { replacePartitions, type DaySelection } from './partitions.ts';

/** The Monday starting the UTC week of `day` (YYYY-MM-DD). */
export function mondayOf(day: string): string {
  const date = new Date(`${day}T00:00:00Z`);
  date.setUTCDate(date.getUTCDate() - ((date.getUTCDay() + 6) % 7));
  return date.toISOString().slice(0, 10);
}

export async function recomputeContentWeekly(
  warehouse: Warehouse,
  pack: string,
  days: DaySelection,
): Promise<void> {
  const weeks = days === 'all' ? 'all' : [...new Set(days.map(mondayOf))].sort();
  if (weeks !== 'all' && weeks.length === 0) return;
  const chosen = weeks === 'all' ? '1' : 'week IN {weeks:Array(Date)}';
  await replacePartitions(
    warehouse,
    { table: 'agg_content_weekly', pack, where: chosen, params: { weeks: weeks === 'all' ? [] : weeks } },
    async (stage, params) => {
      // bounce_rate × unique_users is the day's bouncing users (a count), rounded back from the ratio.
      await warehouse.command(
        `INSERT INTO ${stage} SETTINGS max_partitions_per_insert_block = 0
         SELECT {pack:String}, toMonday(day) AS week, content_id, content_type,
           sum(unique_users), sum(views), sum(starters), sum(completers), sum(scorers), sum(passers),
           sum(toUInt64(round(ifNull(bounce_rate, 0) * unique_users))),
           sum(ifNull(rating_avg, 0) * rating_count), sum(rating_count)
         FROM mart_content_performance
         WHERE pack = {pack:String} AND ${weeks === 'all' ? '1' : 'toMonday(day) IN {weeks:Array(Date)}'}
         GROUP BY week, content_id, content_type`,
        params,
      );
    },
  );
}
