// Where the pipeline keeps its own tables (checkpoints, migrations, staging twins, scratch tables,
// dead letters, run history): the `tributary` database, apart from the mirrors and marts analysts
// read, and the one-time move of an older warehouse's tables there (migration 070).
import { WarehouseError } from './errors.ts';
import { quoteIdentifier as q } from './sql.ts';
import type { Warehouse } from './warehouse.ts';
import { InvariantError } from '../errors/index.ts';

export const BOOKKEEPING_DATABASE = 'tributary';

/**
 * The pipeline's own table `name` as SQL (`tributary.checkpoints`). Names are plain
 * `[a-z0-9_]` words, so the result needs no quoting; `quoteTable` keeps it as it is.
 */
export function bookkeepingTable(name: string): string {
  if (!/^[a-z0-9_]+$/.test(name))
    throw new InvariantError(`bookkeeping table names are [a-z0-9_]+, not ${name}`);
  return `${BOOKKEEPING_DATABASE}.${name}`;
}

/** A mart's staging twin (`tributary.stage_<table>`): the transforms stage a partition's rows there before swapping it in. */
export function stagingTable(table: string): string {
  return bookkeepingTable(`stage_${table}`);
}

/** Applied migrations: created (or moved) before any migration runs, so never by one. */
export const MIGRATIONS_TABLE = bookkeepingTable('migrations');

/** Tables of `default` that were bookkeeping before they had a database of their own. */
const UNPREFIXED = new Set(['dead_letters', 'job_runs', 'writeback_state']);
const OLD_PREFIX = '_tributary_';

/** The name an older warehouse's table gets in `tributary`, or undefined if it is not bookkeeping. */
export function movedName(oldName: string): string | undefined {
  if (oldName.startsWith(OLD_PREFIX)) return oldName.slice(OLD_PREFIX.length);
  return UNPREFIXED.has(oldName) ? oldName : undefined;
}

/**
 * Creates the database and the migrations table, moving an older warehouse's
 * `default._tributary_migrations` there first. Each step is idempotent and a RENAME is atomic, so
 * a crash at any point leaves a state this function completes; should an older version have made
 * the old table again after the move, its rows are merged (the table replaces by version).
 */
export async function ensureMigrationsTable(warehouse: Warehouse): Promise<void> {
  await warehouse.command(`CREATE DATABASE IF NOT EXISTS ${BOOKKEEPING_DATABASE}`);
  const old = `${OLD_PREFIX}migrations`;
  const present = await tablesIn(warehouse, [old], 'default');
  const moved = await tablesIn(warehouse, ['migrations'], BOOKKEEPING_DATABASE);
  if (present.has(old) && moved.size === 0) {
    await warehouse.command(`RENAME TABLE default.${q(old)} TO ${MIGRATIONS_TABLE}`);
    return;
  }
  await warehouse.command(
    `CREATE TABLE IF NOT EXISTS ${MIGRATIONS_TABLE}
     (version UInt32, name String, applied_at DateTime64(3, 'UTC') DEFAULT now64(3))
     ENGINE = ReplacingMergeTree(applied_at) ORDER BY version`,
  );
  if (present.has(old)) {
    await warehouse.command(`INSERT INTO ${MIGRATIONS_TABLE} SELECT * FROM default.${q(old)}`);
    await warehouse.command(`DROP TABLE default.${q(old)}`);
  }
}

/**
 * Migration 070: every bookkeeping table of `default` renamed into `tributary`, rows, parts and
 * settings as they are (RENAME moves the table, it copies nothing). Tables already moved are gone
 * from `default`, so running it again after a crash moves the rest. A new warehouse's earlier
 * migrations made them in the connection's own database (`analytics`, layout.ts): looked at too.
 */
export async function moveBookkeeping(warehouse: Warehouse): Promise<string[]> {
  const rows = await warehouse.query<{ database: string; name: string }>(
    `SELECT database, name FROM system.tables WHERE database IN ('default', currentDatabase()) ORDER BY database, name`,
  );
  const moves = rows.flatMap(({ database, name }) => {
    const to = movedName(name);
    return to === undefined ? [] : [{ database, from: name, to }];
  });
  const existing = await tablesIn(
    warehouse,
    moves.map((move) => move.to),
    BOOKKEEPING_DATABASE,
  );
  const clash = moves.find((move) => existing.has(move.to));
  if (clash)
    throw new WarehouseError(
      `both ${clash.database}.${clash.from} and ${bookkeepingTable(clash.to)} exist (an older Tributary ran after the move?): compare them and drop the one not wanted`,
      { retriable: false },
    );
  for (const { database, from, to } of moves)
    await warehouse.command(`RENAME TABLE ${q(database)}.${q(from)} TO ${bookkeepingTable(to)}`);
  return moves.map((move) => move.from);
}

async function tablesIn(
  warehouse: Warehouse,
  names: readonly string[],
  database: string,
): Promise<Set<string>> {
  if (names.length === 0) return new Set();
  const rows = await warehouse.query<{ name: string }>(
    'SELECT name FROM system.tables WHERE database = {database:String} AND name IN {names:Array(String)}',
    { database, names },
  );
  return new Set(rows.map((row) => row.name));
}
