// fact_activity_by_user is fact_activity row for row (migration 240): a view copies each insert with
// `SELECT *`, which ClickHouse expands when the view is made, so a column a later migration adds to
// fact_activity alone would silently be missing from the copy the feature export reads. Real chDB.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { scratchDir } from '../test/scratch.ts';
import { migrate } from './migrate.ts';
import { openWarehouse } from './warehouse.ts';

describe('fact_activity_by_user', () => {
  it('has fact_activity’s columns, in order and type, and receives its inserts', async () => {
    const warehouse = await openWarehouse({
      kind: 'chdb',
      path: join(await scratchDir('fact-copies'), 'wh'),
    });
    try {
      await migrate(warehouse);
      const columnsOf = (table: string) =>
        warehouse.query<{ name: string; type: string }>(
          `SELECT name, type FROM system.columns WHERE database = 'analytics' AND table = {table:String} ORDER BY position`,
          { table },
        );
      const facts = await columnsOf('fact_activity');
      expect(facts.length).toBeGreaterThan(10);
      expect(await columnsOf('fact_activity_by_user')).toEqual(facts);
      await warehouse.command(
        `INSERT INTO fact_activity (pack, user_id, ts, day, event_type, source_key)
         VALUES ('p', 'u1', '2026-01-02 03:04:05', '2026-01-02', 'lesson', 'k1')`,
      );
      expect(
        await warehouse.query(`SELECT pack, user_id, event_type, source_key FROM fact_activity_by_user`),
      ).toEqual([{ pack: 'p', user_id: 'u1', event_type: 'lesson', source_key: 'k1' }]);
    } finally {
      await warehouse.close();
    }
  });
});
