// Rewriting some of a pack's partitions of a mart: the new rows go to the table's staging twin
// (`tributary.stage_<table>`, same structure and partitioning), then each selected partition is
// swapped in whole, or dropped when no row belongs to it any more. A reader sees a partition's old
// rows or its new ones, never a mix, and rewriting one day costs nothing on the partitions it is not
// in (a DELETE would mutate every part the day shares with them). Where a partition holds more than
// the rewrite selects (a month of days), its other rows are carried into the stage with it.
import { quoteTable as q, stagingTable, type QueryParams, type Warehouse } from '../../warehouse/index.ts';
import { recordDayRewrite } from './day-rewrites.ts';
import { InvariantError } from '../../errors/index.ts';

export type DaySelection = 'all' | string[];

/** A SQL condition on `column` for the selected days (`{days:Array(Date)}` bound by the caller). */
export function daysCondition(days: DaySelection, column = 'day'): string {
  return days === 'all' ? '1' : `${column} IN {days:Array(Date)}`;
}

export interface PartitionTarget {
  table: string;
  pack: string;
  /** Condition on the table's partition columns naming the partitions to rewrite ('1': all of the pack's). */
  where: string;
  params?: QueryParams;
}

/** Writes the new rows into the given staging table; `{pack:String}` and the target's params are bound. */
export type StageFill = (stage: string, params: QueryParams) => Promise<void>;

export async function replacePartitions(
  warehouse: Warehouse,
  target: PartitionTarget,
  fill: StageFill,
): Promise<void> {
  const { table, pack } = target;
  await clearStage(warehouse, table, pack);
  await fill(stagingTable(table), { pack, ...target.params });
  await swapStaged(warehouse, target);
}

/**
 * Drops the pack's rows from a table's staging twin. A run that died between staging and swapping
 * left them there; swapped in with the new rows, they would double the partitions they fall in.
 */
export async function clearStage(warehouse: Warehouse, table: string, pack: string): Promise<void> {
  const stage = stagingTable(table);
  const rows = await warehouse.query<{ id: string }>(partitionsOf(stage, 'pack = {pack:String}'), {
    pack,
  });
  await dropPartitions(
    warehouse,
    stage,
    rows.map((row) => checkedPartitionId(stage, row.id)),
  );
}

/** The second half of replacePartitions: the staged partitions swapped in, the stage emptied. */
export async function swapStaged(warehouse: Warehouse, target: PartitionTarget): Promise<void> {
  const { table, where } = target;
  const stage = stagingTable(table);
  const params = { pack: target.pack, ...target.params };
  const listed = await warehouse.query<{ side: 'staged' | 'current'; id: string }>(
    `SELECT 'staged' AS side, id FROM (${partitionsOf(stage, 'pack = {pack:String}')})
     UNION ALL
     SELECT 'current', id FROM (${partitionsOf(table, `pack = {pack:String} AND (${where})`)})`,
    params,
  );
  const ids = (side: 'staged' | 'current') =>
    listed.filter((row) => row.side === side).map((row) => checkedPartitionId(table, row.id));
  const touched = [...new Set([...ids('staged'), ...ids('current')])];
  const staged = [...new Set([...ids('staged'), ...(await carryUnselected(warehouse, target, touched))])];
  const commands = [
    ...staged.map((id) => `REPLACE PARTITION ID '${id}' FROM ${q(stage)}`),
    ...touched.filter((id) => !staged.includes(id)).map((id) => `DROP PARTITION ID '${id}'`),
  ];
  if (commands.length > 0) await warehouse.command(`ALTER TABLE ${q(table)} ${commands.join(', ')}`);
  await dropPartitions(warehouse, stage, staged);
}

/**
 * Copies into the stage the rows of the `touched` partitions (staged, or holding selected rows) that
 * the target does not select, since a staged partition replaces the current one whole; returns the
 * partitions that had such rows. Nothing to carry where partitions are no coarser than the
 * selection (a day-partitioned mart rewritten by days), which one grouped count over the touched
 * partitions finds.
 */
async function carryUnselected(
  warehouse: Warehouse,
  target: PartitionTarget,
  touched: string[],
): Promise<string[]> {
  if (target.where === '1' || touched.length === 0) return [];
  const { table } = target;
  const params = { pack: target.pack, ...target.params, touched };
  const unselected = `pack = {pack:String} AND _partition_id IN {touched:Array(String)} AND NOT (${target.where})`;
  const carried = (await warehouse.query<{ id: string }>(partitionsOf(table, unselected), params)).map(
    (row) => checkedPartitionId(table, row.id),
  );
  if (carried.length > 0)
    await insertInto(warehouse, stagingTable(table), `SELECT * FROM ${q(table)} WHERE ${unselected}`, params);
  return carried;
}

/**
 * The partitions holding rows that match `condition`. Grouped with a count, the engine answers it
 * from each part's metadata (its implicit minmax/count projection) where the condition is on
 * partition columns, as it is for a day-partitioned mart; `SELECT DISTINCT _partition_id` read the
 * column row by row, 0.3–1.1 s on a 10M-row mart. On the month-partitioned tables a day condition
 * reads the day column, of a few rows a day.
 */
function partitionsOf(table: string, condition: string): string {
  return `SELECT _partition_id AS id, count() AS rows FROM ${q(table)} WHERE ${condition} GROUP BY _partition_id`;
}

/**
 * replacePartitions for a mart partitioned by day or by month, filled by INSERT … SELECT, logged in
 * mart_day_rewrites (day-rewrites.ts). The SELECT names its days
 * as `{days:Array(Date)}`; all days (`'all'`) are the days `allDays` (a SELECT of `day`) yields.
 * With `daysPerWrite`, the days are written that many at a time: for a mart with a group per user
 * or content item and day, a week's groups are a hash table that stays in cache, where all the
 * days' at once took twice as long.
 */
export async function replaceDays(
  warehouse: Warehouse,
  table: string,
  pack: string,
  days: DaySelection,
  /** `allDays` is required where `days` may be 'all'. */
  fill: { select: string; allDays?: string; params?: QueryParams; daysPerWrite?: number },
): Promise<void> {
  if (days !== 'all' && days.length === 0) return;
  const target = { table, pack, where: daysCondition(days), params: { days: days === 'all' ? [] : days } };
  await replacePartitions(warehouse, target, async (stage, bound) => {
    if (days === 'all' && !fill.allDays)
      throw new InvariantError(`replaceDays(${table}, 'all') needs allDays`);
    const selected =
      days === 'all'
        ? (
            await warehouse.query<{ day: string }>(
              `SELECT DISTINCT toString(day) AS day FROM (${fill.allDays ?? ''}) ORDER BY day`,
              bound,
            )
          ).map((row) => row.day)
        : days;
    const step = fill.daysPerWrite ?? selected.length;
    for (let at = 0; at < selected.length; at += step)
      await insertInto(warehouse, stage, fill.select, {
        ...bound,
        ...fill.params,
        days: selected.slice(at, at + step),
      });
  });
  await recordDayRewrite(warehouse, table, pack, days);
}

/** INSERT … SELECT into a partitioned table, whatever the number of partitions the rows span. */
export async function insertInto(
  warehouse: Warehouse,
  table: string,
  select: string,
  params: QueryParams,
): Promise<void> {
  await warehouse.command(
    `INSERT INTO ${q(table)} SETTINGS max_partitions_per_insert_block = 0 ${select}`,
    params,
  );
}

/** Partition ids are hex digests; checked because they are spliced into ALTER statements. */
function checkedPartitionId(table: string, id: string): string {
  if (!/^[0-9a-z_-]+$/i.test(id)) throw new InvariantError(`unexpected partition id ${id} in ${table}`);
  return id;
}

async function dropPartitions(warehouse: Warehouse, table: string, ids: string[]): Promise<void> {
  if (ids.length === 0) return;
  await warehouse.command(
    `ALTER TABLE ${q(table)} ${ids.map((id) => `DROP PARTITION ID '${id}'`).join(', ')}`,
  );
}
