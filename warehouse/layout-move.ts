// Migration 180: moves a warehouse made before the databases by purpose (every table in `default`)
// to the layout of layout.ts, without copying a row: mirrors, their views and history to `raw`,
// everything else analysts read to `analytics`, and views with the old names left in `default` for
// one release so that saved queries keep working meanwhile.
import { bookkeepingTable, movedName } from './bookkeeping.ts';
import { WarehouseError } from './errors.ts';
import { isLegacyMirror, layoutName, splitTable } from './layout.ts';
import { quoteIdentifier, quoteString, quoteTable } from './sql.ts';
import type { Warehouse } from './warehouse.ts';

export const LEGACY_DATABASE = 'default';
/** The planned moves, written whole before the first one is made: what a resumed run finishes. */
export const LAYOUT_MOVES = bookkeepingTable('layout_moves');

type MoveKind = 'table' | 'view' | 'materialized view';

export interface LayoutMove {
  position: number;
  /** The name in `default`. */
  from_name: string;
  /** Where it goes, as layout.ts names it (`raw.x`, `analytics.x`). */
  to_name: string;
  kind: MoveKind;
  /** A view's CREATE statement as the engine kept it (views are made anew under their new name). */
  definition: string;
}

export interface LayoutMoveOptions {
  /** Called after each table's RENAME (tests stop the move there, as a crash would). */
  afterRename?: (move: LayoutMove, done: number) => Promise<void> | void;
}

/**
 * Moves every table and view of `default` where it belongs now. Safe to run again at any point:
 * the plan is read back rather than made again, a table already renamed is skipped, a view already
 * made is kept, and the compatibility views are made with CREATE OR REPLACE. Returns the old names.
 */
export async function moveToLayout(warehouse: Warehouse, options: LayoutMoveOptions = {}): Promise<string[]> {
  await warehouse.command(
    `CREATE TABLE IF NOT EXISTS ${LAYOUT_MOVES}
     (position UInt32, from_name String, to_name String, kind LowCardinality(String), definition String,
      planned_at DateTime64(3, 'UTC') DEFAULT now64(3))
     ENGINE = ReplacingMergeTree ORDER BY position
     COMMENT 'Migration 180: the tables and views of default moved to raw and analytics (see README, Schema)'`,
  );
  let plan = await readPlan(warehouse);
  if (plan.length === 0) {
    plan = await planMoves(warehouse);
    if (plan.length === 0) return [];
    // One insert: the plan is there whole or not at all.
    await warehouse.insert(LAYOUT_MOVES, plan);
  }
  const tables = plan.filter((move) => move.kind === 'table');
  const views = plan.filter((move) => move.kind !== 'table');
  // Views go first (their definitions are in the plan): a materialized view must not feed a
  // table that is moving, nor outlive the table it reads.
  for (const view of views)
    if ((await engineOf(warehouse, LEGACY_DATABASE, view.from_name)) === legacyEngine(view.kind))
      await warehouse.command(`DROP VIEW ${LEGACY_DATABASE}.${quoteIdentifier(view.from_name)}`);
  let done = 0;
  for (const move of tables) {
    await moveTable(warehouse, move);
    done += 1;
    await options.afterRename?.(move, done);
  }
  for (const view of views) {
    const { database, name } = splitTable(view.to_name);
    if ((await engineOf(warehouse, database, name)) === undefined)
      await warehouse.command(renamedDefinition(view.definition, plan));
  }
  await renameKeyChangeMirrors(warehouse, plan);
  for (const move of plan)
    if (move.kind !== 'materialized view')
      await warehouse.command(
        `CREATE OR REPLACE VIEW ${LEGACY_DATABASE}.${quoteIdentifier(move.from_name)} AS SELECT * FROM ${quoteTable(move.to_name)}
         COMMENT ${quoteString(`Moved to ${move.to_name}: this view keeps the old name readable for one release, read ${move.to_name} instead.`)}`,
      );
  return plan.map((move) => move.from_name);
}

async function readPlan(warehouse: Warehouse): Promise<LayoutMove[]> {
  const rows = await warehouse.query<LayoutMove>(
    `SELECT position, from_name, to_name, kind, definition FROM ${LAYOUT_MOVES} FINAL ORDER BY position`,
  );
  return rows.map((row) => ({ ...row, position: Number(row.position) }));
}

async function planMoves(warehouse: Warehouse): Promise<LayoutMove[]> {
  const rows = await warehouse.query<{ name: string; engine: string; definition: string }>(
    `SELECT name, engine, create_table_query AS definition FROM system.tables
     WHERE database = {legacy:String} AND NOT startsWith(name, '.inner') ORDER BY name`,
    { legacy: LEGACY_DATABASE },
  );
  return rows
    .flatMap((row) => {
      const to = layoutName(row.name, (name) => movedName(name) !== undefined);
      if (to === undefined) return [];
      const kind: MoveKind =
        row.engine === 'View' ? 'view' : row.engine === 'MaterializedView' ? 'materialized view' : 'table';
      // A materialized view with its own inner table would take its rows along when dropped: one
      // Tributary did not make (its feed views write TO a table), so it stays where it is.
      if (kind === 'materialized view' && !/^CREATE MATERIALIZED VIEW \S+ TO /.test(row.definition))
        return [];
      return [
        {
          position: 0,
          from_name: row.name,
          to_name: to,
          kind,
          definition: kind === 'table' ? '' : row.definition,
        },
      ];
    })
    .map((move, index) => ({ ...move, position: index + 1 }));
}

const legacyEngine = (kind: MoveKind) => (kind === 'view' ? 'View' : 'MaterializedView');

async function engineOf(warehouse: Warehouse, database: string, name: string): Promise<string | undefined> {
  const [row] = await warehouse.query<{ engine: string }>(
    'SELECT engine FROM system.tables WHERE database = {database:String} AND name = {name:String}',
    { database, name },
  );
  return row?.engine;
}

/** RENAME moves the table whole (parts, settings, comments); done once, skipped on a rerun. */
async function moveTable(warehouse: Warehouse, move: LayoutMove): Promise<void> {
  const { database, name } = splitTable(move.to_name);
  const source = await engineOf(warehouse, LEGACY_DATABASE, move.from_name);
  const target = await engineOf(warehouse, database, name);
  const sourceIsTable = source !== undefined && source !== 'View';
  if (sourceIsTable && target === undefined) {
    await warehouse.command(
      `RENAME TABLE ${LEGACY_DATABASE}.${quoteIdentifier(move.from_name)} TO ${quoteTable(move.to_name)}`,
    );
    return;
  }
  if (!sourceIsTable && target !== undefined) return;
  throw new WarehouseError(
    sourceIsTable
      ? `both ${LEGACY_DATABASE}.${move.from_name} and ${move.to_name} exist: compare them, drop the one not wanted, and start again`
      : `${LEGACY_DATABASE}.${move.from_name} was planned to move to ${move.to_name}, but neither exists (see ${LAYOUT_MOVES})`,
    { retriable: false },
  );
}

/** A view's saved CREATE with every moved name (`default.x`, quoted or not) replaced by its new one. */
export function renamedDefinition(
  definition: string,
  plan: readonly Pick<LayoutMove, 'from_name' | 'to_name'>[],
): string {
  const target = new Map(plan.map((move) => [move.from_name, move.to_name]));
  return definition.replace(
    new RegExp(`\\b${LEGACY_DATABASE}\\.(?:\`([^\`]+)\`|([A-Za-z0-9_]+))`, 'g'),
    (whole, quoted: string | undefined, bare: string | undefined) => {
      const to = target.get(quoted ?? bare ?? '');
      return to === undefined ? whole : quoteTable(to);
    },
  );
}

/** Primary-key change images are looked up by mirror name (raw-mirror.ts): kept under the new one. */
async function renameKeyChangeMirrors(warehouse: Warehouse, plan: readonly LayoutMove[]): Promise<void> {
  const mirrors = plan.filter((move) => move.kind === 'table' && isLegacyMirror(move.from_name));
  if (mirrors.length === 0) return;
  await warehouse.command(
    `INSERT INTO ${bookkeepingTable('key_changes')} (mirror, position, image, recorded_at)
     SELECT transform(mirror, {from:Array(String)}, {to:Array(String)}), position, image, recorded_at
     FROM ${bookkeepingTable('key_changes')} FINAL WHERE mirror IN {from:Array(String)}`,
    { from: mirrors.map((move) => move.from_name), to: mirrors.map((move) => move.to_name) },
  );
}
