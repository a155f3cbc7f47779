// Recomputing a mart for some of a pack's days: delete those days' rows, insert them again from
// the facts. `days` = 'all' recomputes the pack's whole mart.
import { quoteIdentifier as q, type Warehouse } from '../../warehouse/index.ts';

export type DaySelection = 'all' | string[];

/** A SQL condition on `column` for the selected days (`{days:Array(Date)}` bound by the caller). */
export function daysCondition(days: DaySelection, column = 'day'): string {
  return days === 'all' ? '1' : `${column} IN {days:Array(Date)}`;
}

export async function replaceDays(
  warehouse: Warehouse,
  table: string,
  pack: string,
  days: DaySelection,
  insertSelect: string,
  params: Record<string, unknown> = {},
): Promise<void> {
  if (days !== 'all' && days.length === 0) return;
  const bound = { pack, days: days === 'all' ? [] : days, ...params };
  await warehouse.command(
    `DELETE FROM ${q(table)} WHERE pack = {pack:String} AND ${daysCondition(days)}`,
    bound,
  );
  await warehouse.command(`INSERT INTO ${q(table)} ${insertSelect}`, bound);
}
