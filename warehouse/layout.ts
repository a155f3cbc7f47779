// The one place that names the warehouse's tables by purpose: mirrors and what derives from them
// alone in `raw`, facts, dimensions, marts and aggregates in `analytics` (every connection's
// default database, so their unqualified names work everywhere), the pipeline's own tables in
// `tributary` (bookkeeping.ts).
import { BOOKKEEPING_DATABASE } from './bookkeeping.ts';
import type { Warehouse } from './warehouse.ts';
import { InvariantError } from '../errors/index.ts';

export const RAW_DATABASE = 'raw';
export const ANALYTICS_DATABASE = 'analytics';
/** Made in this order when a warehouse opens: `analytics` must exist before a session uses it. */
export const LAYOUT_DATABASES = [ANALYTICS_DATABASE, RAW_DATABASE, BOOKKEEPING_DATABASE] as const;

const CURRENT_PREFIX = 'current_';
const HISTORY_PREFIX = 'hist_';

/**
 * A source table's mirror: `raw.<source>_<table>` from the parts in order (source, then schema or
 * database where they name it, then table), anything but `[A-Za-z0-9_]` made `_`.
 */
export function mirrorTable(...parts: readonly string[]): string {
  return `${RAW_DATABASE}.${parts.join('_').replace(/[^A-Za-z0-9_]/g, '_')}`;
}

/** `raw.learning_users` → `learning_users`: the source and table a mirror holds. */
export function mirrorKey(mirror: string): string {
  const { database, name } = splitTable(mirror);
  if (database !== RAW_DATABASE)
    throw new InvariantError(`${mirror} is not a mirror (mirrors are ${RAW_DATABASE}.<source>_<table>)`);
  return name;
}

/** The mirror's live rows as they are now, what analysts read first: `raw.current_<source>_<table>`. */
export function currentStateView(mirror: string): string {
  return `${RAW_DATABASE}.${CURRENT_PREFIX}${mirrorKey(mirror)}`;
}

/** Every version a mirror ever held, for point-in-time features: `raw.hist_<source>_<table>`. */
export function historyTable(mirror: string): string {
  return `${RAW_DATABASE}.${HISTORY_PREFIX}${mirrorKey(mirror)}`;
}

/** The materialized view feeding `historyTable(mirror)` from the mirror's inserts. */
export function historyFeed(mirror: string): string {
  return `${historyTable(mirror)}_mv`;
}

/** What a table of `raw` is, by its name there. */
export function rawTableKind(name: string): 'current state' | 'history' | 'mirror' {
  if (name.startsWith(CURRENT_PREFIX)) return 'current state';
  return name.startsWith(HISTORY_PREFIX) ? 'history' : 'mirror';
}

/** A name as `{ database, name }`; an unqualified name is in `analytics`, the default database. */
export function splitTable(table: string): { database: string; name: string } {
  const dot = table.indexOf('.');
  return dot < 0
    ? { database: ANALYTICS_DATABASE, name: table }
    : { database: table.slice(0, dot), name: table.slice(dot + 1) };
}

/** Before the databases by purpose, a mirror was `default.raw_<source>_<table>`. */
const LEGACY_MIRROR_PREFIX = 'raw_';
export const isLegacyMirror = (legacyName: string) => legacyName.startsWith(LEGACY_MIRROR_PREFIX);

/**
 * Where a table of a warehouse made before the databases by purpose (every table in `default`)
 * belongs now; undefined for the pipeline's own tables, which migration 070 moved already.
 */
export function layoutName(legacyName: string, isBookkeeping: (name: string) => boolean): string | undefined {
  if (isBookkeeping(legacyName)) return undefined;
  if (isLegacyMirror(legacyName)) return `${RAW_DATABASE}.${legacyName.slice(LEGACY_MIRROR_PREFIX.length)}`;
  if (legacyName.startsWith(CURRENT_PREFIX) || legacyName.startsWith(HISTORY_PREFIX))
    return `${RAW_DATABASE}.${legacyName}`;
  return `${ANALYTICS_DATABASE}.${legacyName}`;
}

/**
 * Which of `tables` exist. Names are as this module spells them: `raw.x`, `tributary.x`, or
 * unqualified for `analytics`.
 */
export async function presentTables(warehouse: Warehouse, tables: readonly string[]): Promise<Set<string>> {
  if (tables.length === 0) return new Set();
  const qualified = (table: string) => {
    const { database, name } = splitTable(table);
    return `${database}.${name}`;
  };
  // Not aliased `name`: an alias would stand for the column in WHERE too.
  const rows = await warehouse.query<{ qualified: string }>(
    `SELECT concat(database, '.', name) AS qualified FROM system.tables
     WHERE database IN {databases:Array(String)} AND concat(database, '.', name) IN {names:Array(String)}`,
    { databases: [...LAYOUT_DATABASES], names: tables.map(qualified) },
  );
  const found = new Set(rows.map((row) => row.qualified));
  return new Set(tables.filter((table) => found.has(qualified(table))));
}

/** Every table and view of `analytics` (unqualified) and `raw` (as `raw.x`). */
export async function layoutTables(warehouse: Warehouse): Promise<Set<string>> {
  const rows = await warehouse.query<{ name: string }>(
    `SELECT if(database = {analytics:String}, name, concat(database, '.', name)) AS name
     FROM system.tables WHERE database IN ({analytics:String}, {raw:String})`,
    { analytics: ANALYTICS_DATABASE, raw: RAW_DATABASE },
  );
  return new Set(rows.map((row) => row.name));
}
