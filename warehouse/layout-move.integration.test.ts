// Migration 180: a warehouse in the layout before it (mirrors, their views and history, facts,
// dimensions, marts and aggregates all in `default`) moves to `raw` and `analytics` keeping every
// row of every table, also when the move stops half-way; views work under their new names, and the
// old names stay readable through views in `default`.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureMirrorHistory } from '../features/index.ts';
import { learningPack } from '../packs/learning/index.ts';
import { learningWarehouse, SOURCE, type LearningWarehouse } from '../test/learning-warehouse.ts';
import { runTransforms } from '../transforms/index.ts';
import { LAYOUT_MOVES, LEGACY_DATABASE, moveToLayout } from './layout-move.ts';
import { ANALYTICS_DATABASE, historyTable, mirrorTable, RAW_DATABASE } from './layout.ts';
import { migrate } from './migrate.ts';
import { quoteIdentifier as q } from './sql.ts';
import type { Warehouse } from './warehouse.ts';

let data: LearningWarehouse;
let warehouse: Warehouse;
/** A mirror with a feature history (a materialized view feeding a table) to move along. */
const USERS = mirrorTable(SOURCE, 'users');

beforeAll(async () => {
  data = await learningWarehouse({ users: 30, days: 6, seed: 18 });
  warehouse = data.warehouse;
  await runTransforms({ warehouse, pack: 'learning', mapping: learningPack.mapping(SOURCE) });
  expect(await ensureMirrorHistory(warehouse, USERS)).toBe('created');
  await toLegacyLayout();
}, 600_000);
afterAll(async () => {
  await data?.close();
});

/** The name a table of `raw` or `analytics` had when everything was in `default`. */
function legacyName(database: string, name: string): string {
  if (database === RAW_DATABASE && !/^(current|hist)_/.test(name)) return `raw_${name}`;
  return name;
}

/** A saved CREATE with every name of `raw` and `analytics` spelled as it was in `default`. */
const legacyDefinition = (definition: string) =>
  definition.replace(
    /\b(raw|analytics)\.`?([A-Za-z0-9_]+)`?/g,
    (_, database: string, name: string) => `${LEGACY_DATABASE}.${q(legacyName(database, name))}`,
  );

/**
 * Puts the warehouse back as releases before 180 left it: every table and view of `raw` and
 * `analytics` in `default` under its old name, and 180 unrecorded. The rows are the ones a capture
 * and a transform made, copied whole (chDB's `default` takes no RENAME from another database).
 */
async function toLegacyLayout(): Promise<void> {
  const objects = await warehouse.query<{
    database: string;
    name: string;
    engine: string;
    definition: string;
  }>(
    `SELECT database, name, engine, create_table_query AS definition FROM system.tables
     WHERE database IN ({raw:String}, {analytics:String}) ORDER BY database, name`,
    { raw: RAW_DATABASE, analytics: ANALYTICS_DATABASE },
  );
  const isView = (engine: string) => engine.endsWith('View');
  for (const view of objects.filter((object) => isView(object.engine)))
    await warehouse.command(`DROP VIEW ${q(view.database)}.${q(view.name)}`);
  for (const table of objects.filter((object) => !isView(object.engine))) {
    const legacy = `${LEGACY_DATABASE}.${q(legacyName(table.database, table.name))}`;
    await warehouse.command(legacyDefinition(table.definition));
    await warehouse.command(
      `INSERT INTO ${legacy} SELECT * FROM ${q(table.database)}.${q(table.name)}`,
      {},
      { insert_deduplicate: 0 },
    );
    await warehouse.command(`DROP TABLE ${q(table.database)}.${q(table.name)} SYNC`);
  }
  for (const view of objects.filter((object) => isView(object.engine)))
    await warehouse.command(legacyDefinition(view.definition));
  await warehouse.command(
    'ALTER TABLE tributary.migrations DELETE WHERE version = 180',
    {},
    { mutations_sync: '2' },
  );
  await warehouse.command(`DROP TABLE IF EXISTS ${LAYOUT_MOVES}`);
}

interface Fingerprint {
  rows: string;
  digest: string;
}

/** Rows and an order-free digest of every row (aggregate states by their value). */
async function fingerprint(database: string, name: string): Promise<Fingerprint> {
  const columns = await warehouse.query<{ name: string; type: string }>(
    'SELECT name, type FROM system.columns WHERE database = {database:String} AND table = {name:String} ORDER BY position',
    { database, name },
  );
  const values = columns.map((column) =>
    column.type.startsWith('AggregateFunction')
      ? `toString(finalizeAggregation(${q(column.name)}))`
      : q(column.name),
  );
  const [row] = await warehouse.query<Fingerprint>(
    `SELECT toString(count()) AS rows, toString(sum(cityHash64(${values.join(', ')}))) AS digest
     FROM ${q(database)}.${q(name)}`,
  );
  return row!;
}

async function objectsIn(database: string): Promise<{ name: string; engine: string }[]> {
  return warehouse.query(
    'SELECT name, engine FROM system.tables WHERE database = {database:String} ORDER BY name',
    { database },
  );
}

describe('migration 180, the databases by purpose', () => {
  it('moves every table of an older warehouse with every row, also after stopping half-way', async () => {
    const legacy = await objectsIn(LEGACY_DATABASE);
    expect(legacy.map((object) => object.name)).toEqual(
      expect.arrayContaining([
        'raw_learning_users',
        'current_learning_users',
        'hist_learning_users',
        'hist_learning_users_mv',
        'fact_activity',
        'fact_exposures',
        'dim_users',
        'mart_dau',
        'agg_daily_active_users',
      ]),
    );
    expect(await objectsIn(RAW_DATABASE)).toEqual([]);
    // Settled first: a background merge of a replacing table must not change counts in between.
    const before = new Map<string, Fingerprint>();
    for (const { name, engine } of legacy) {
      if (engine === 'MaterializedView') continue;
      if (!engine.endsWith('View'))
        await warehouse.command(`OPTIMIZE TABLE ${LEGACY_DATABASE}.${q(name)} FINAL`);
      before.set(name, await fingerprint(LEGACY_DATABASE, name));
    }
    expect(Number(before.get('fact_activity')?.rows)).toBeGreaterThan(100);
    expect(Number(before.get('current_learning_users')?.rows)).toBeGreaterThan(0);

    // The move stops after the 7th table, as a crash would.
    const stop = new Error('stopped after 7 renames');
    await expect(
      moveToLayout(warehouse, {
        afterRename: (_move, done) => {
          if (done === 7) throw stop;
        },
      }),
    ).rejects.toBe(stop);
    const halfway = await objectsIn(LEGACY_DATABASE);
    expect(halfway.length).toBeLessThan(legacy.length);
    expect(halfway.some((object) => object.engine.endsWith('View'))).toBe(false);

    // Started again, the migration finishes the planned moves and is recorded.
    expect(await migrate(warehouse)).toEqual([180]);
    const planned = await warehouse.query<{ from_name: string; to_name: string; kind: string }>(
      `SELECT from_name, to_name, kind FROM ${LAYOUT_MOVES} FINAL ORDER BY position`,
    );
    expect(planned.map((move) => move.from_name).sort()).toEqual(legacy.map((object) => object.name).sort());
    for (const move of planned) {
      const expected = before.get(move.from_name);
      if (expected === undefined) continue; // the materialized view: checked by what it feeds below
      const [database, name] = move.to_name.split('.') as [string, string];
      expect(await fingerprint(database, name), move.to_name).toEqual(expected);
    }
    expect(planned.find((move) => move.from_name === 'raw_learning_users')?.to_name).toBe(USERS);
    expect(planned.find((move) => move.from_name === 'mart_dau')?.to_name).toBe('analytics.mart_dau');

    // Only views are left in `default`: the old names, readable for one release.
    const left = await objectsIn(LEGACY_DATABASE);
    expect(left.filter((object) => object.engine !== 'View')).toEqual([]);
    for (const name of ['raw_learning_users', 'current_learning_users', 'fact_activity', 'mart_dau'])
      expect(await fingerprint(LEGACY_DATABASE, name), name).toEqual(before.get(name));
    expect(left.map((object) => object.name)).not.toContain('hist_learning_users_mv');
  });

  it('leaves a warehouse that works under the new names', async () => {
    // The current-state view reads the moved mirror (the views' rows were compared above).
    const [views] = await warehouse.query<{ live: string; current: string }>(
      `SELECT toString((SELECT count() FROM raw.learning_users FINAL WHERE _is_deleted = 0)) AS live,
              toString((SELECT count() FROM raw.current_learning_users)) AS current`,
    );
    expect(views?.current).toBe(views?.live);
    // The history's materialized view follows the mirror to its new name.
    const probe = { id: '00000000-0000-4000-8000-000000000180', version: '99999999999' };
    await warehouse.insert(USERS, [{ id: probe.id, _version: probe.version, _is_deleted: 0 }]);
    const [fed] = await warehouse.query<{ n: string }>(
      `SELECT toString(count()) AS n FROM ${historyTable(USERS)} WHERE id = {id:UUID}`,
      { id: probe.id },
    );
    expect(fed?.n).toBe('1');
    // The probe deleted again (a newer version marks it), so the users are as before.
    await warehouse.insert(USERS, [{ id: probe.id, _version: `${probe.version}1`, _is_deleted: 1 }]);
    // The pipeline carries on: a transform run after the move gives the same marts.
    const dau = await fingerprint(ANALYTICS_DATABASE, 'mart_dau');
    await runTransforms({ warehouse, pack: 'learning', mapping: learningPack.mapping(SOURCE), full: true });
    await warehouse.command(`OPTIMIZE TABLE ${ANALYTICS_DATABASE}.mart_dau FINAL`);
    expect(await fingerprint(ANALYTICS_DATABASE, 'mart_dau')).toEqual(dau);
    expect(await migrate(warehouse)).toEqual([]);
  });
});
