// Raw mirror tables (`raw_<source>_<table>`): one row per version of a source row, collapsed by
// ReplacingMergeTree(_version, _is_deleted) so replays are harmless and FINAL gives the source's state.
import { quoteIdentifier as q } from './sql.ts';
import type { Warehouse } from './warehouse.ts';

export interface MirrorColumn {
  name: string;
  /** Full ClickHouse type, Nullable wrapper included. */
  type: string;
}

export interface MirrorTable {
  name: string;
  columns: MirrorColumn[];
  /** The source row key: the mirror's ORDER BY. */
  key: string[];
}

export const MIRROR_META_COLUMNS = ['_version', '_is_deleted', '_ingested_at'] as const;

/** How many recent insert tokens each mirror remembers; a replayed batch is always among them. */
const DEDUPLICATION_WINDOW = 10_000;

export function createMirrorTableSql(table: MirrorTable): string {
  const columns = table.columns.map((column) => `${q(column.name)} ${column.type}`);
  columns.push(
    '`_version` UInt64',
    '`_is_deleted` UInt8',
    "`_ingested_at` DateTime64(3, 'UTC') DEFAULT now64(3)",
  );
  return (
    `CREATE TABLE IF NOT EXISTS ${q(table.name)} (\n  ${columns.join(',\n  ')}\n)\n` +
    `ENGINE = ReplacingMergeTree(_version, _is_deleted)\n` +
    `ORDER BY (${table.key.map(q).join(', ')})\n` +
    `SETTINGS non_replicated_deduplication_window = ${DEDUPLICATION_WINDOW}`
  );
}

/**
 * Creates the mirror if missing and adds columns the source gained since. Columns the source
 * dropped stay (history keeps them); type changes are not applied here.
 * Returns the names of the columns that were added.
 */
export async function ensureMirrorTable(warehouse: Warehouse, table: MirrorTable): Promise<string[]> {
  await warehouse.command(createMirrorTableSql(table));
  const existing = new Set(
    (
      await warehouse.query<{ name: string }>(
        'SELECT name FROM system.columns WHERE database = currentDatabase() AND table = {table:String}',
        { table: table.name },
      )
    ).map((row) => row.name),
  );
  const missing = table.columns.filter((column) => !existing.has(column.name));
  for (const column of missing) {
    await warehouse.command(
      `ALTER TABLE ${q(table.name)} ADD COLUMN IF NOT EXISTS ${q(column.name)} ${column.type}`,
    );
  }
  return missing.map((column) => column.name);
}

/**
 * Marks deleted every live row whose version is below `version` (a TRUNCATE, or rows a completed
 * re-snapshot no longer saw). Running it twice changes nothing: rows it already marked are not live.
 */
export async function tombstoneOlderThan(
  warehouse: Warehouse,
  table: MirrorTable,
  version: number | bigint,
): Promise<void> {
  const keys = table.key.map(q).join(', ');
  await warehouse.command(
    `INSERT INTO ${q(table.name)} (${keys}, _version, _is_deleted) ` +
      `SELECT ${keys}, {version:UInt64}, 1 FROM ${q(table.name)} FINAL WHERE _is_deleted = 0 AND _version < {version:UInt64}`,
    // As text: a MongoDB version is a bigint, beyond what a JSON number holds exactly.
    { version: String(version) },
  );
}

/** The current (FINAL) values of `columns` for the given row keys; used to fill unchanged TOAST values. */
export async function readCurrentValues(
  warehouse: Warehouse,
  table: MirrorTable,
  keys: Record<string, unknown>[],
  columns: string[],
): Promise<Record<string, unknown>[]> {
  if (keys.length === 0) return [];
  const keyTuple = `(${table.key.map(q).join(', ')})`;
  const wanted = keys.map((key) => table.key.map((name) => key[name]));
  return warehouse.query(
    `SELECT ${[...table.key, ...columns].map(q).join(', ')} FROM ${q(table.name)} FINAL ` +
      `WHERE ${table.key.length === 1 ? q(table.key[0] ?? '') : keyTuple} IN {keys:Array(${table.key.length === 1 ? 'String' : `Tuple(${table.key.map(() => 'String').join(', ')})`})} AND _is_deleted = 0`,
    {
      keys:
        table.key.length === 1
          ? wanted.map((tuple) => String(tuple[0]))
          : wanted.map((tuple) => tuple.map(String)),
    },
  );
}
