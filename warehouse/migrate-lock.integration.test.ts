// The embedded engine's migrations: callers of one process take turns (each migration applied once),
// and a migration lock left by a run killed mid-migration does not hold up the restart (the engine
// admits one process). Processes migrating one shared warehouse at once: http-warehouse test.
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { scratchDir } from '../test/scratch.ts';
import { bookkeepingTable, MIGRATIONS_TABLE } from './bookkeeping.ts';
import { loadMigrations, migrate } from './migrate.ts';
import { openWarehouse } from './warehouse.ts';

it('three migrations started at once in one process apply every migration exactly once', async () => {
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

it("a lock left by a killed migration does not hold up the embedded engine's restart", async () => {
  const path = join(await scratchDir('migrate-stale-lock'), 'warehouse');
  const killed = await openWarehouse({ kind: 'chdb', path });
  await killed.command('CREATE DATABASE IF NOT EXISTS tributary');
  await killed.command(`CREATE TABLE ${bookkeepingTable('migration_lock')} (taken UInt8) ENGINE = Memory`);
  await killed.close();
  const restarted = await openWarehouse({ kind: 'chdb', path });
  try {
    const started = Date.now();
    expect(await migrate(restarted)).toEqual((await loadMigrations()).map((migration) => migration.version));
    expect(Date.now() - started).toBeLessThan(120_000);
  } finally {
    await restarted.close();
  }
});
