// Applies the numbered migrations exactly once each, in order: the SQL files in
// warehouse/migrations/, and the few that need code (listed below, numbered in the same sequence).
import { readdir, readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  BOOKKEEPING_DATABASE,
  bookkeepingTable,
  ensureMigrationsTable,
  MIGRATIONS_TABLE,
  moveBookkeeping,
} from './bookkeeping.ts';
import { WarehouseError } from './errors.ts';
import { moveToLayout } from './layout-move.ts';
import { partitionByMonth } from './month-partitions.ts';
import { digestsByEntity } from './online-digests.ts';
import type { Warehouse } from './warehouse.ts';
import { InvariantError } from '../errors/index.ts';

const MIGRATIONS_DIR = new URL('./migrations/', import.meta.url);
const FILE_NAME = /^(\d{3})_([a-z0-9_]+)\.sql$/;

export interface Migration {
  version: number;
  name: string;
  statements: string[];
  /** A migration SQL cannot express (it depends on which tables exist); must be safe to rerun. */
  apply?: (warehouse: Warehouse) => Promise<unknown>;
}

/** Moves the tables every earlier migration made (layout-move.ts); see `inApplyingOrder`. */
const LAYOUT_MOVE_VERSION = 180;

const CODE_MIGRATIONS: readonly Migration[] = [
  { version: 70, name: 'bookkeeping_database', statements: [], apply: moveBookkeeping },
  {
    version: LAYOUT_MOVE_VERSION,
    name: 'databases_by_purpose',
    statements: [],
    apply: (warehouse) => moveToLayout(warehouse),
  },
  { version: 200, name: 'month_partitions', statements: [], apply: partitionByMonth },
  { version: 250, name: 'online_digests_by_entity', statements: [], apply: digestsByEntity },
];

export async function loadMigrations(): Promise<Migration[]> {
  const files = (await readdir(MIGRATIONS_DIR)).filter((file) => file.endsWith('.sql')).sort();
  const migrations: Migration[] = [...CODE_MIGRATIONS];
  for (const file of files) {
    const match = FILE_NAME.exec(file);
    if (!match) throw new InvariantError(`migration file ${file} must be named NNN_description.sql`);
    const sql = await readFile(new URL(file, MIGRATIONS_DIR), 'utf8');
    migrations.push({ version: Number(match[1]), name: match[2] ?? file, statements: splitStatements(sql) });
  }
  return migrations.sort((a, b) => a.version - b.version);
}

/** Splits on `;` at line ends; migrations keep one statement per `;`-terminated block. */
export function splitStatements(sql: string): string[] {
  return sql
    .split(/;\s*(?:\n|$)/)
    .map((statement) => statement.replace(/^\s*--.*$/gm, '').trim())
    .filter((statement) => statement.length > 0);
}

/** The migration under way per open warehouse: a process's own callers take turns. */
const inProcess = new WeakMap<Warehouse, Promise<unknown>>();

/**
 * Applies what is pending. Processes of a split deployment start together against one warehouse
 * server (or an embedded engine's SQL endpoint), so there the pending migrations are applied under
 * the migration lock by one of them; the others wait for it and then find nothing left to do.
 */
export function migrate(warehouse: Warehouse): Promise<number[]> {
  const previous = inProcess.get(warehouse) ?? Promise.resolve();
  const next = previous.catch(() => undefined).then(() => applyPending(warehouse));
  inProcess.set(warehouse, next);
  return next;
}

async function applyPending(warehouse: Warehouse): Promise<number[]> {
  const migrations = await loadMigrations();
  await ensureMigrationsTable(warehouse);
  if ((await pendingMigrations(warehouse, migrations)).length === 0) return [];
  // The embedded engine admits one process, so it has nobody to wait for; and a lock it finds was
  // left by its own earlier run, killed mid-migration, which must not hold up the restart.
  const shared = warehouse.target.kind !== 'chdb';
  if (shared) await acquireMigrationLock(warehouse);
  try {
    const newlyApplied: number[] = [];
    // Read again under the lock: the previous holder may have applied them meanwhile.
    for (const migration of inApplyingOrder(await pendingMigrations(warehouse, migrations), migrations)) {
      await applyMigrationWork(warehouse, migration);
      await warehouse.insert(MIGRATIONS_TABLE, [{ version: migration.version, name: migration.name }]);
      newlyApplied.push(migration.version);
    }
    return newlyApplied;
  } finally {
    if (shared) await warehouse.command(`DROP TABLE IF EXISTS ${MIGRATION_LOCK}`);
  }
}

/**
 * A migration's statements and code, not recorded as applied. A process killed after some of them
 * and before the record leaves the next one to do them all again, so each must be safe to rerun
 * (IF EXISTS / IF NOT EXISTS; migrate-rerun.integration.test.ts applies every migration twice).
 */
export async function applyMigrationWork(warehouse: Warehouse, migration: Migration): Promise<void> {
  for (const statement of migration.statements) await warehouse.command(statement);
  await migration.apply?.(warehouse);
}

/**
 * Pending migrations by version, except that a warehouse behind the layout move has it first:
 * migrations write unqualified names, which resolve in `analytics` (layout.ts), so the tables that
 * earlier ones made must be there before later ones alter them. A new warehouse (none applied)
 * makes everything in `analytics` from the start and has nothing to move.
 */
export function inApplyingOrder(pending: readonly Migration[], all: readonly Migration[]): Migration[] {
  const fresh = pending.length === all.length;
  const move = pending.find((migration) => migration.version === LAYOUT_MOVE_VERSION);
  if (fresh || move === undefined) return [...pending];
  return [move, ...pending.filter((migration) => migration !== move)];
}

async function pendingMigrations(warehouse: Warehouse, migrations: Migration[]): Promise<Migration[]> {
  const applied = new Set(
    (await warehouse.query<{ version: number }>(`SELECT version FROM ${MIGRATIONS_TABLE} FINAL`)).map((row) =>
      Number(row.version),
    ),
  );
  return migrations.filter((migration) => !applied.has(migration.version));
}

/** The lock is a table (of one unused column): CREATE TABLE without IF NOT EXISTS succeeds for exactly one process. */
const MIGRATION_LOCK = bookkeepingTable('migration_lock');
const TABLE_ALREADY_EXISTS = 57;
const LOCK_POLL_MS = 200;
/** A lock older than this was left by a migrator that died: it is taken over. */
const STALE_LOCK_MS = 10 * 60_000;

async function acquireMigrationLock(warehouse: Warehouse): Promise<void> {
  for (;;) {
    // Looked at before trying: a refused CREATE is logged as an error by the HTTP client.
    const [lock] = await warehouse.query<{ age_ms: string }>(
      `SELECT toUnixTimestamp64Milli(now64(3)) - toUnixTimestamp(metadata_modification_time) * 1000 AS age_ms
       FROM system.tables WHERE database = {database:String} AND name = 'migration_lock'`,
      { database: BOOKKEEPING_DATABASE },
    );
    if (lock === undefined)
      try {
        await warehouse.command(`CREATE TABLE ${MIGRATION_LOCK} (taken UInt8) ENGINE = Memory`);
        return;
      } catch (error) {
        if (!(error instanceof WarehouseError) || error.clickhouseCode !== TABLE_ALREADY_EXISTS) throw error;
      }
    else if (Number(lock.age_ms) > STALE_LOCK_MS)
      await warehouse.command(`DROP TABLE IF EXISTS ${MIGRATION_LOCK}`);
    await sleep(LOCK_POLL_MS);
  }
}
