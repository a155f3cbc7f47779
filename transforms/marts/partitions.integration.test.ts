// Rewriting days of a table partitioned by month: the month is swapped in whole, so the days not
// rewritten must come through unchanged, days rewritten to nothing must go, and nothing of another
// pack or month may move.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scratchDir } from '../../test/scratch.ts';
import { migrate, openWarehouse, stagingTable, type Warehouse } from '../../warehouse/index.ts';
import { dayRewritesSince } from './day-rewrites.ts';
import { replaceDays } from './partitions.ts';

let warehouse: Warehouse;

beforeAll(async () => {
  warehouse = await openWarehouse({ kind: 'chdb', path: join(await scratchDir('months'), 'warehouse') });
  await migrate(warehouse);
  // Two packs, 2026-08-20 … 2026-10-28, dau = the day of the year.
  await warehouse.command(
    `INSERT INTO mart_dau SETTINGS max_partitions_per_insert_block = 0
     SELECT arrayJoin(['a', 'b']), toDate('2026-08-20') + number AS day, toDayOfYear(day), 0, 0, 0
     FROM numbers(70)`,
  );
});
afterAll(async () => {
  await warehouse?.close();
});

/** Rewrites `days` of pack a's mart_dau with dau = 1000 + day of month, except the `emptied` days. */
const rewrite = (days: string[], emptied: string[] = []) =>
  replaceDays(warehouse, 'mart_dau', 'a', days, {
    select: `SELECT {pack:String}, day, 1000 + toDayOfMonth(day), 0, 0, 0
      FROM (SELECT arrayJoin({days:Array(Date)}) AS day) WHERE day NOT IN {emptied:Array(Date)}`,
    params: { emptied },
  });

const rows = async (pack: string) =>
  new Map(
    (
      await warehouse.query<{ day: string; dau: number }>(
        'SELECT toString(day) AS day, dau FROM mart_dau WHERE pack = {pack:String} ORDER BY day',
        { pack },
        { output_format_json_quote_64bit_integers: 0 },
      )
    ).map((row) => [row.day, Number(row.dau)]),
  );

describe('replaceDays on a table partitioned by month', () => {
  it('rewrites the chosen days and keeps the rest of their months, other months and packs as they were', async () => {
    const before = await rows('a');
    const others = await rows('b');
    await rewrite(['2026-09-15', '2026-10-01', '2026-10-02', '2026-11-03'], ['2026-10-02']);
    const after = await rows('a');
    const expected = new Map(before);
    expected.set('2026-09-15', 1015);
    expected.set('2026-10-01', 1001);
    expected.delete('2026-10-02');
    expected.set('2026-11-03', 1003);
    expect([...after]).toEqual([...expected].sort(([a], [b]) => a.localeCompare(b)));
    expect(await rows('b')).toEqual(others);
    // Each month one partition, the stage left empty.
    const [parts] = await warehouse.query<{ partitions: string; staged: string }>(
      `SELECT (SELECT uniqExact(_partition_id) FROM mart_dau WHERE pack = 'a') AS partitions,
         (SELECT count() FROM ${stagingTable('mart_dau')}) AS staged`,
    );
    expect(parts).toEqual({ partitions: '4', staged: '0' });
    // The log names the days rewritten, not the days carried along.
    expect((await dayRewritesSince(warehouse, 'mart_dau', 'a', 0)).days).toEqual([
      '2026-09-15',
      '2026-10-01',
      '2026-10-02',
      '2026-11-03',
    ]);
  });

  it('drops a month whose every day is rewritten to nothing', async () => {
    const august = Array.from({ length: 12 }, (_, index) => `2026-08-${String(20 + index)}`);
    await rewrite(august, august);
    const after = await rows('a');
    expect([...after.keys()].filter((day) => day.startsWith('2026-08'))).toEqual([]);
    expect(after.get('2026-09-01')).toBe(244);
    expect((await rows('b')).get('2026-08-20')).toBe(232);
  });
});
