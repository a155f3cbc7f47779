// Migration 070: a warehouse built in the old layout (every bookkeeping table in `default`, rows in
// each) moves them into the `tributary` database keeping every row, also after a crash half-way;
// a fresh warehouse never has bookkeeping in `default`.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { scratchDir } from '../test/scratch.ts';
import { movedName } from './bookkeeping.ts';
import { readCheckpoint, writeCheckpoint } from './checkpoints.ts';
import { loadMigrations, migrate } from './migrate.ts';
import { quoteIdentifier as q, quoteString } from './sql.ts';
import { openWarehouse, type Warehouse } from './warehouse.ts';

let warehouse: Warehouse;

beforeAll(async () => {
  warehouse = await openWarehouse({ kind: 'chdb', path: join(await scratchDir('bookkeeping'), 'warehouse') });
});
afterAll(async () => {
  await warehouse?.close();
});

/** Empties the warehouse (chDB admits one directory per process, so each case starts from this). */
async function reset(): Promise<void> {
  await warehouse.command('USE default');
  for (const database of ['tributary', 'raw', 'analytics'])
    await warehouse.command(`DROP DATABASE IF EXISTS ${database} SYNC`);
  for (const database of ['analytics', 'raw']) await warehouse.command(`CREATE DATABASE ${database}`);
  await warehouse.command('USE analytics');
  const tables = await warehouse.query<{ name: string }>(
    "SELECT name FROM system.tables WHERE database = 'default' ORDER BY engine = 'View' DESC",
  );
  for (const { name } of tables) await warehouse.command(`DROP TABLE IF EXISTS default.${q(name)} SYNC`);
}

/** The warehouse as the releases before 070 left it: migrations 001–060 applied in `default`. */
async function buildOldLayout(): Promise<void> {
  // Those releases' connections were in `default`, where the migrations' unqualified names went.
  await warehouse.command('USE default');
  await warehouse.command(
    `CREATE TABLE _tributary_migrations (version UInt32, name String, applied_at DateTime64(3, 'UTC') DEFAULT now64(3))
     ENGINE = ReplacingMergeTree(applied_at) ORDER BY version`,
  );
  for (const migration of await loadMigrations()) {
    if (migration.version >= 70) continue;
    for (const statement of migration.statements) await warehouse.command(statement);
    await warehouse.insert('_tributary_migrations', [{ version: migration.version, name: migration.name }]);
  }
  // What packs and feature exports made outside migrations: a pack mart's staging twin, a scratch table.
  await warehouse.command('CREATE TABLE _tributary_stage_mart_dau_copy AS mart_dau');
  await warehouse.command(
    'CREATE TABLE _tributary_spine_0abc (row_no UInt64) ENGINE = MergeTree ORDER BY row_no',
  );
  await warehouse.command('USE analytics');
}

/**
 * Old-layout bookkeeping tables of `default`: the columns random rows fill, as `name Type` and as
 * a column list. Columns with a default keep it (a random past `recorded_at` would meet the key
 * changes' TTL); an aggregate state has no random form.
 */
async function oldTables(): Promise<Map<string, { structure: string; columns: string }>> {
  const rows = await warehouse.query<{ table: string; name: string; type: string }>(
    `SELECT table, name, type FROM system.columns WHERE database = 'default'
       AND default_kind = '' AND type NOT LIKE 'AggregateFunction%'
     ORDER BY table, position`,
  );
  const tables = new Map<string, { structure: string[]; columns: string[] }>();
  for (const row of rows) {
    if (movedName(row.table) === undefined) continue;
    const table = tables.get(row.table) ?? { structure: [], columns: [] };
    table.structure.push(`${q(row.name)} ${row.type}`);
    table.columns.push(q(row.name));
    tables.set(row.table, table);
  }
  return new Map(
    [...tables].map(([name, table]) => [
      name,
      { structure: table.structure.join(', '), columns: table.columns.join(', ') },
    ]),
  );
}

/** Rows and an order-free digest of every row of a table. */
async function fingerprint(table: string, columns: string): Promise<{ rows: string; digest: string }> {
  const [row] = await warehouse.query<{ rows: string; digest: string }>(
    `SELECT toString(count()) AS rows, toString(sum(cityHash64(${columns}))) AS digest FROM ${table}`,
  );
  return row!;
}

async function bookkeepingInDefault(): Promise<string[]> {
  const rows = await warehouse.query<{ name: string }>(
    "SELECT name FROM system.tables WHERE database = 'default' ORDER BY name",
  );
  return rows.map((row) => row.name).filter((name) => movedName(name) !== undefined);
}

describe('the tributary database', () => {
  it('takes an old warehouse’s bookkeeping tables with every row, even after a crash half-way', async () => {
    await reset();
    await buildOldLayout();
    const structures = await oldTables();
    // Every kind the brief names is there to move.
    for (const name of ['_tributary_checkpoints', '_tributary_key_changes', 'dead_letters', 'job_runs'])
      expect([...structures.keys()]).toContain(name);
    const before = new Map<string, { rows: string; digest: string }>();
    for (const [table, { structure, columns }] of structures) {
      if (table !== '_tributary_migrations')
        await warehouse.command(
          `INSERT INTO default.${q(table)} (${columns}) SELECT * FROM generateRandom(${quoteString(structure)}, 7, 12, 3) LIMIT 5`,
        );
      // Settled first, so background merges cannot change the counts between the two readings.
      await warehouse.command(`OPTIMIZE TABLE default.${q(table)} FINAL`);
      before.set(table, await fingerprint(`default.${q(table)}`, columns));
    }
    expect(before.get('_tributary_checkpoints')?.rows).toBe('5');
    expect(before.get('_tributary_migrations')?.rows).toBe(
      String((await loadMigrations()).filter((migration) => migration.version < 70).length),
    );

    // A crash after the first renames: the migrations table and the checkpoints moved, 070 unrecorded.
    await warehouse.command('CREATE DATABASE tributary');
    await warehouse.command('RENAME TABLE default._tributary_migrations TO tributary.migrations');
    await warehouse.command('RENAME TABLE default._tributary_checkpoints TO tributary.checkpoints');

    // 070 and every later migration (which already name the tributary database).
    const later = (await loadMigrations())
      .filter((migration) => migration.version >= 70)
      .map((migration) => migration.version);
    // The layout move first (migrate.ts, inApplyingOrder): the facts are in `analytics` before
    // later migrations alter them; it leaves the bookkeeping tables to 070.
    expect(await migrate(warehouse)).toEqual([180, ...later.filter((version) => version !== 180)]);
    expect(await bookkeepingInDefault()).toEqual([]);
    for (const [table, fingerprintBefore] of before) {
      const moved = `tributary.${q(movedName(table)!)}`;
      const after = await fingerprint(moved, structures.get(table)!.columns);
      if (table === '_tributary_migrations')
        expect(Number(after.rows), table).toBe(Number(fingerprintBefore.rows) + later.length);
      else expect(after, table).toEqual(fingerprintBefore);
    }
    expect(await migrate(warehouse)).toEqual([]);
  });

  it('merges a migrations table an older version made again after the move', async () => {
    await warehouse.command(
      `CREATE TABLE default._tributary_migrations (version UInt32, name String, applied_at DateTime64(3, 'UTC') DEFAULT now64(3))
       ENGINE = ReplacingMergeTree(applied_at) ORDER BY version`,
    );
    await warehouse.insert('default._tributary_migrations', [{ version: 1, name: 'bookkeeping' }]);
    expect(await migrate(warehouse)).toEqual([]);
    expect(await bookkeepingInDefault()).toEqual([]);
  });

  it('is where a fresh warehouse keeps its bookkeeping, none of it in default', async () => {
    await reset();
    const applied = await migrate(warehouse);
    expect(applied).toContain(70);
    expect(await bookkeepingInDefault()).toEqual([]);
    const moved = await warehouse.query<{ name: string }>(
      "SELECT name FROM system.tables WHERE database = 'tributary' AND name IN ('migrations', 'checkpoints', 'dead_letters', 'job_runs', 'writeback_state', 'stage_mart_dau', 'key_changes') ORDER BY name",
    );
    expect(moved.map((row) => row.name)).toEqual([
      'checkpoints',
      'dead_letters',
      'job_runs',
      'key_changes',
      'migrations',
      'stage_mart_dau',
      'writeback_state',
    ]);
    await writeCheckpoint(warehouse, 'p', 's', { at: 1 });
    expect(await readCheckpoint(warehouse, 'p', 's', z.object({ at: z.number() }))).toEqual({ at: 1 });
    expect(await migrate(warehouse)).toEqual([]);
  });
});
