// Migration 200: a warehouse whose small per-day tables are partitioned by day (as before it) ends
// with them and their staging twins partitioned by month, every row (the twins' too) and comment
// kept, also when the migration is run again after stopping half-way.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scratchDir } from '../test/scratch.ts';
import { stagingTable } from './bookkeeping.ts';
import { migrate } from './migrate.ts';
import { MONTH_PARTITION_KEY, MONTH_PARTITIONED_TABLES, partitionByMonth } from './month-partitions.ts';
import { openWarehouse, type Warehouse } from './warehouse.ts';

let warehouse: Warehouse;

beforeAll(async () => {
  warehouse = await openWarehouse({ kind: 'chdb', path: join(await scratchDir('months'), 'warehouse') });
  await migrate(warehouse);
});
afterAll(async () => {
  await warehouse?.close();
});

/** The table as migrations before 200 left it: partitioned by (pack, day), its twin likewise. */
async function partitionByDay(table: string): Promise<void> {
  const [keys] = await warehouse.query<{ sorting_key: string }>(
    "SELECT sorting_key FROM system.tables WHERE database = 'analytics' AND name = {table:String}",
    { table },
  );
  await warehouse.command(
    `CREATE TABLE analytics.${table}_by_day AS analytics.${table}
     ENGINE = MergeTree PARTITION BY (pack, day) ORDER BY (${keys?.sorting_key ?? ''})`,
  );
  await warehouse.command(`EXCHANGE TABLES analytics.${table} AND analytics.${table}_by_day`);
  await warehouse.command(`DROP TABLE analytics.${table}_by_day`);
  await warehouse.command(`DROP TABLE ${stagingTable(table)}`);
  await warehouse.command(`CREATE TABLE ${stagingTable(table)} AS analytics.${table}`);
}

/** 70 days from 2026-08-20 (three months) of two packs. */
async function fill(): Promise<void> {
  const days = "arrayJoin(['a', 'b']) AS pack, toDate('2026-08-20') + number AS day";
  const settings = 'SETTINGS max_partitions_per_insert_block = 0';
  await warehouse.command(
    `INSERT INTO mart_dau ${settings} SELECT ${days}, number + 1, number * 7, number * 28, 0.25 FROM numbers(70)`,
  );
  await warehouse.command(
    `INSERT INTO agg_daily_active_users ${settings}
     SELECT ${days}, groupBitmapState(toUInt32(number + user)) FROM numbers(70)
     ARRAY JOIN range(10) AS user GROUP BY pack, day`,
  );
  await warehouse.command(
    `INSERT INTO agg_daily_segments ${settings}
     SELECT ${days}, arrayJoin(['VN', 'US']), '2026-07', 'ios', number, number * 3, 1, [number, 2] FROM numbers(70)`,
  );
}

const contents = (table: string) =>
  warehouse
    .queryBytes(
      `SELECT ${table.endsWith('agg_daily_active_users') ? 'pack, day, bitmapToArray(users)' : '*'}
       FROM ${table} ORDER BY ALL`,
      'TabSeparated',
    )
    .then((bytes) => bytes.toString('utf8'));

/** The table's and its twin's partition key, and the table's comment and columns with theirs. */
async function layout(table: string) {
  const tables = await warehouse.query<{ partition_key: string; comment: string }>(
    `SELECT partition_key, comment FROM system.tables
     WHERE (database, name) IN (('analytics', {table:String}), ('tributary', {stage:String}))
     ORDER BY database`,
    { table, stage: `stage_${table}` },
  );
  const columns = await warehouse.query(
    `SELECT name, type, comment FROM system.columns
     WHERE database = 'analytics' AND table = {table:String} ORDER BY position`,
    { table },
  );
  return { keys: tables.map((row) => row.partition_key), comment: tables[0]?.comment, columns };
}

describe('migration 200, the small per-day tables partitioned by month', () => {
  it('keeps every row, column and comment, and partitions each table and its twin by month', async () => {
    for (const table of MONTH_PARTITIONED_TABLES) await partitionByDay(table);
    await fill();
    // A run that died between staging and swapping left rows in the twins: kept like the tables'.
    for (const table of MONTH_PARTITIONED_TABLES)
      await warehouse.command(
        `INSERT INTO ${stagingTable(table)} SETTINGS max_partitions_per_insert_block = 0
         SELECT * FROM analytics.${table} WHERE pack = 'b' AND day < '2026-09-03'`,
      );
    const before = new Map<string, string>();
    const tables = MONTH_PARTITIONED_TABLES.flatMap((table) => [table, stagingTable(table)]);
    for (const table of tables) before.set(table, await contents(table));
    const layoutBefore = await layout('agg_daily_segments');
    await partitionByMonth(warehouse);
    for (const table of tables)
      expect({ table, rows: await contents(table) }).toEqual({ table, rows: before.get(table) });
    for (const table of MONTH_PARTITIONED_TABLES) {
      expect({ table, keys: (await layout(table)).keys }).toEqual({
        table,
        keys: [MONTH_PARTITION_KEY, MONTH_PARTITION_KEY],
      });
    }
    // Two packs, three months: six partitions where there were 140.
    const [parts] = await warehouse.query<{ partitions: string }>(
      'SELECT uniqExact(_partition_id) AS partitions FROM mart_dau',
    );
    expect(parts?.partitions).toBe('6');
    const layoutAfter = await layout('agg_daily_segments');
    expect({ ...layoutAfter, keys: [] }).toEqual({ ...layoutBefore, keys: [] });
    expect(layoutAfter.comment).toMatch(/^Per pack, UTC day/);
    expect(layoutAfter.columns).toContainEqual({
      name: 'platform',
      type: 'String',
      comment: expect.stringMatching(/^The users' platform/),
    });
  });

  it('finishes when run again after stopping before the exchange, copying nothing twice', async () => {
    await partitionByDay('mart_dau');
    const before = await contents('mart_dau');
    // Stopped after filling the copy: the copy is there, the table still by day.
    await warehouse.command(
      `CREATE TABLE analytics.mart_dau_by_month AS analytics.mart_dau
       ENGINE = MergeTree PARTITION BY ${MONTH_PARTITION_KEY} ORDER BY (pack, day)`,
    );
    await warehouse.command('INSERT INTO analytics.mart_dau_by_month SELECT * FROM analytics.mart_dau');
    await partitionByMonth(warehouse);
    await partitionByMonth(warehouse);
    expect(await contents('mart_dau')).toBe(before);
    const leftovers = await warehouse.query(
      "SELECT name FROM system.tables WHERE database = 'analytics' AND name LIKE '%_by_month'",
    );
    expect(leftovers).toEqual([]);
    expect((await layout('mart_dau')).keys).toEqual([MONTH_PARTITION_KEY, MONTH_PARTITION_KEY]);
  });
});
