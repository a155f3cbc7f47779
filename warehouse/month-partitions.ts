// Migration 200: the small per-day tables partitioned by (pack, month) instead of (pack, day), their
// rows kept. A read over a range of days opened a part per day, and for tables of one row or a few
// dozen a day the parts, not the rows, were the cost (bench/README, dashboards). The transforms
// rewrite a day of them by staging its month (partitions.ts carries the other days along).
import { stagingTable } from './bookkeeping.ts';
import { splitTable } from './layout.ts';
import { quoteIdentifier as q } from './sql.ts';
import type { Warehouse } from './warehouse.ts';

export const MONTH_PARTITIONED_TABLES = ['mart_dau', 'agg_daily_active_users', 'agg_daily_segments'] as const;

/** As the engine prints the partition key (system.tables.partition_key). */
export const MONTH_PARTITION_KEY = '(pack, toYYYYMM(day))';

/**
 * Each table, and its staging twin, still partitioned by day: a copy partitioned by month filled with
 * its rows, then the two exchanged (atomic: readers see the old table or the new one) and the old one
 * dropped. Safe to rerun at any point: a table already by month is not copied again, a copy left by
 * an interrupted run is dropped.
 */
export async function partitionByMonth(warehouse: Warehouse): Promise<void> {
  for (const table of MONTH_PARTITIONED_TABLES)
    for (const name of [table, stagingTable(table)]) await repartition(warehouse, name);
}

async function repartition(warehouse: Warehouse, table: string): Promise<void> {
  const { database, name } = splitTable(table);
  const current = `${q(database)}.${q(name)}`;
  const copy = `${q(database)}.${q(`${name}_by_month`)}`;
  const [keys] = await warehouse.query<{ partition_key: string; sorting_key: string }>(
    'SELECT partition_key, sorting_key FROM system.tables WHERE database = {database:String} AND name = {name:String}',
    { database, name },
  );
  if (keys !== undefined && keys.partition_key !== MONTH_PARTITION_KEY) {
    await warehouse.command(`DROP TABLE IF EXISTS ${copy}`);
    // AS keeps the columns with their comments and codecs, and the table's comment.
    await warehouse.command(
      `CREATE TABLE ${copy} AS ${current}
       ENGINE = MergeTree PARTITION BY ${MONTH_PARTITION_KEY} ORDER BY (${keys.sorting_key})`,
    );
    await warehouse.command(
      `INSERT INTO ${copy} SETTINGS max_partitions_per_insert_block = 0 SELECT * FROM ${current}`,
    );
    await warehouse.command(`EXCHANGE TABLES ${current} AND ${copy}`);
  }
  await warehouse.command(`DROP TABLE IF EXISTS ${copy}`);
}
