// Applies the numbered migrations exactly once each, in order: the SQL files in
// warehouse/migrations/, and the few that need code (listed below, numbered in the same sequence).
import { readdir, readFile } from 'node:fs/promises';
import { ensureMigrationsTable, MIGRATIONS_TABLE, moveBookkeeping } from './bookkeeping.ts';
import type { Warehouse } from './warehouse.ts';

const MIGRATIONS_DIR = new URL('./migrations/', import.meta.url);
const FILE_NAME = /^(\d{3})_([a-z0-9_]+)\.sql$/;

export interface Migration {
  version: number;
  name: string;
  statements: string[];
  /** A migration SQL cannot express (it depends on which tables exist); must be safe to rerun. */
  apply?: (warehouse: Warehouse) => Promise<unknown>;
}

const CODE_MIGRATIONS: readonly Migration[] = [
  { version: 70, name: 'bookkeeping_database', statements: [], apply: moveBookkeeping },
];

export async function loadMigrations(): Promise<Migration[]> {
  const files = (await readdir(MIGRATIONS_DIR)).filter((file) => file.endsWith('.sql')).sort();
  const migrations: Migration[] = [...CODE_MIGRATIONS];
  for (const file of files) {
    const match = FILE_NAME.exec(file);
    if (!match) throw new Error(`migration file ${file} must be named NNN_description.sql`);
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

export async function migrate(warehouse: Warehouse): Promise<number[]> {
  const migrations = await loadMigrations();
  await ensureMigrationsTable(warehouse);
  const applied = new Set(
    (await warehouse.query<{ version: number }>(`SELECT version FROM ${MIGRATIONS_TABLE} FINAL`)).map((row) =>
      Number(row.version),
    ),
  );
  const newlyApplied: number[] = [];
  for (const migration of migrations) {
    if (applied.has(migration.version)) continue;
    for (const statement of migration.statements) await warehouse.command(statement);
    await migration.apply?.(warehouse);
    await warehouse.insert(MIGRATIONS_TABLE, [{ version: migration.version, name: migration.name }]);
    newlyApplied.push(migration.version);
  }
  return newlyApplied;
}
