// Processes of a split deployment (`tributary run --role …`) start together against one warehouse,
// each migrating it first: migrations started at once apply each migration once, in order, and
// leave no lock behind.
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { scratchDir } from '../test/scratch.ts';
import { MIGRATIONS_TABLE } from './bookkeeping.ts';
import { loadMigrations, migrate } from './migrate.ts';
import { openWarehouse } from './warehouse.ts';

it('three migrations started at once apply every migration exactly once', async () => {
  const warehouse = await openWarehouse({
    kind: 'chdb',
    path: join(await scratchDir('migrate-lock'), 'warehouse'),
  });
  try {
    const applied = await Promise.all([migrate(warehouse), migrate(warehouse), migrate(warehouse)]);
    const versions = (await loadMigrations()).map((migration) => migration.version);
    expect(applied.flat().sort((a, b) => a - b)).toEqual(versions);
    const recorded = await warehouse.query<{ version: number }>(
      `SELECT version FROM ${MIGRATIONS_TABLE} ORDER BY version`,
    );
    expect(recorded.map((row) => Number(row.version))).toEqual(versions);
    const [lock] = await warehouse.query<{ n: string }>(
      "SELECT count() AS n FROM system.tables WHERE database = 'tributary' AND name = 'migration_lock'",
    );
    expect(Number(lock?.n)).toBe(0);
    expect(await migrate(warehouse)).toEqual([]);
  } finally {
    await warehouse.close();
  }
});
