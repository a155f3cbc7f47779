// Applies the numbered SQL migrations in warehouse/migrations/ exactly once each, in order.
import { readdir, readFile } from 'node:fs/promises';
import type { Warehouse } from './warehouse.ts';

const MIGRATIONS_DIR = new URL('./migrations/', import.meta.url);
const FILE_NAME = /^(\d{3})_([a-z0-9_]+)\.sql$/;

export interface Migration {
  version: number;
  name: string;
  statements: string[];
}

export async function loadMigrations(): Promise<Migration[]> {
  const files = (await readdir(MIGRATIONS_DIR)).filter((file) => file.endsWith('.sql')).sort();
  const migrations: Migration[] = [];
  for (const file of files) {
    const match = FILE_NAME.exec(file);
    if (!match) throw new Error(`migration file ${file} must be named NNN_description.sql`);
    const sql = await readFile(new URL(file, MIGRATIONS_DIR), 'utf8');
    migrations.push({ version: Number(match[1]), name: match[2] ?? file, statements: splitStatements(sql) });
  }
  return migrations;
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
  const first = migrations[0];
  // The bookkeeping table comes from migration 001 itself, so it is always (idempotently) applied.
  if (first) for (const statement of first.statements) await warehouse.command(statement);
  const applied = new Set(
    (await warehouse.query<{ version: number }>('SELECT version FROM _tributary_migrations FINAL')).map(
      (row) => Number(row.version),
    ),
  );
  const newlyApplied: number[] = [];
  for (const migration of migrations) {
    if (applied.has(migration.version)) continue;
    for (const statement of migration.statements) await warehouse.command(statement);
    await warehouse.insert('_tributary_migrations', [{ version: migration.version, name: migration.name }]);
    newlyApplied.push(migration.version);
  }
  return newlyApplied;
}
