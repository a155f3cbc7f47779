// The log of a day-partitioned mart's rewrites (mart_day_rewrites): after replaceDays swaps a
// pack's days in, it appends which days (or all), numbered per pack and mart. A reader that keeps
// the last number it took in (a write-back's checkpoint) asks which days were rewritten since.
// The entry is appended after the swap, so a reader that saw it also sees the new rows; a run that
// dies between the two leaves the transform's state `running`, and its next run, a full one, logs
// every day.
import { bookkeepingTable, type Warehouse } from '../../warehouse/index.ts';

/** In the pipeline's own database: analysts read the marts, not their rewrite log. */
export const DAY_REWRITES = bookkeepingTable('mart_day_rewrites');
import type { DaySelection } from './partitions.ts';

/** Appends a rewrite of `days` of the pack's `mart`. One transform per pack runs at a time, so
 * numbering by the pack's and mart's last entry is race-free. */
export async function recordDayRewrite(
  warehouse: Warehouse,
  mart: string,
  pack: string,
  days: DaySelection,
): Promise<void> {
  const last = await lastRewrite(warehouse, mart, pack);
  await warehouse.insert(DAY_REWRITES, [
    {
      pack,
      mart,
      seq: last + 1,
      all_days: days === 'all' ? 1 : 0,
      days: days === 'all' ? [] : days,
    },
  ]);
}

/** The number of the pack's and mart's last rewrite (0: none yet). */
export async function lastRewrite(warehouse: Warehouse, mart: string, pack: string): Promise<number> {
  const [row] = await warehouse.query<{ seq: number }>(
    `SELECT max(seq) AS seq FROM ${DAY_REWRITES} WHERE pack = {pack:String} AND mart = {mart:String}`,
    { pack, mart },
    { output_format_json_quote_64bit_integers: 0 },
  );
  return Number(row?.seq ?? 0);
}

export interface DayRewrites {
  /** The last rewrite taken in: a reader records it and asks from there next time. */
  through: number;
  /** The days rewritten after `since` ('all' when one of them was a full rebuild), sorted. */
  days: DaySelection;
}

/** The days of the pack's `mart` rewritten after rewrite number `since`. */
export async function dayRewritesSince(
  warehouse: Warehouse,
  mart: string,
  pack: string,
  since: number,
): Promise<DayRewrites> {
  const [row] = await warehouse.query<{ through: number; all_days: number; days: string[] }>(
    `SELECT max(seq) AS through, max(all_days) AS all_days,
        arraySort(arrayDistinct(arrayFlatten(groupArray(arrayMap(d -> toString(d), days))))) AS days
     FROM ${DAY_REWRITES} WHERE pack = {pack:String} AND mart = {mart:String} AND seq > {since:UInt64}`,
    { pack, mart, since },
    { output_format_json_quote_64bit_integers: 0 },
  );
  const through = Math.max(since, Number(row?.through ?? 0));
  return { through, days: Number(row?.all_days ?? 0) === 1 ? 'all' : (row?.days ?? []) };
}
