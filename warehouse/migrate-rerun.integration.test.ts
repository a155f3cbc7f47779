// A process killed during a migration, after some of its statements and before it was recorded,
// leaves the next process to apply the whole migration again: every migration must survive being
// applied twice and leave the same warehouse as applying it once. Real chDB.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { scratchDir } from '../test/scratch.ts';
import { ensureMigrationsTable, MIGRATIONS_TABLE } from './bookkeeping.ts';
import { applyMigrationWork, inApplyingOrder, loadMigrations, migrate } from './migrate.ts';
import { openWarehouse, type Warehouse } from './warehouse.ts';

/** Every column of every table and view the migrations made, and their row counts. */
async function shape(warehouse: Warehouse): Promise<string[]> {
  const columns = await warehouse.query<{ line: string }>(
    `SELECT concat(database, '.', table, ' ', name, ' ', type) AS line FROM system.columns
     WHERE database NOT IN ('system', 'INFORMATION_SCHEMA', 'information_schema') ORDER BY line`,
  );
  const tables = await warehouse.query<{ line: string }>(
    `SELECT concat(database, '.', name, ' ', engine, ' ', partition_key, ' ', sorting_key) AS line FROM system.tables
     WHERE database NOT IN ('system', 'INFORMATION_SCHEMA', 'information_schema') ORDER BY line`,
  );
  return [...tables, ...columns].map((row) => row.line);
}

describe('migrations applied again after a kill before their record', () => {
  it('each applied twice in a row leaves the warehouse that applying each once leaves', async () => {
    const dir = await scratchDir('migrate-rerun');
    const all = await loadMigrations();
    const twice = await openWarehouse({ kind: 'chdb', path: join(dir, 'twice') });
    let twiceShape: string[];
    try {
      await ensureMigrationsTable(twice);
      for (const migration of inApplyingOrder(all, all)) {
        await applyMigrationWork(twice, migration);
        await applyMigrationWork(twice, migration).catch((error: unknown) => {
          throw new Error(`migration ${migration.version} ${migration.name} fails when applied again`, {
            cause: error,
          });
        });
        await twice.insert(MIGRATIONS_TABLE, [{ version: migration.version, name: migration.name }]);
      }
      expect(await migrate(twice)).toEqual([]);
      twiceShape = await shape(twice);
    } finally {
      await twice.close();
    }
    const once = await openWarehouse({ kind: 'chdb', path: join(dir, 'once') });
    try {
      expect((await migrate(once)).length).toBe(all.length);
      expect(twiceShape).toEqual(await shape(once));
    } finally {
      await once.close();
    }
  });
});
