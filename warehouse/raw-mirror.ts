// Raw mirror tables (`raw.<source>_<table>`, named by layout.ts): one row per version of a source row, collapsed by
// ReplacingMergeTree(_version, _is_deleted) so replays are harmless and FINAL gives the source's state.
import { quoteIdentifier as q, quoteString, quoteTable } from './sql.ts';
import { bookkeepingTable } from './bookkeeping.ts';
import { currentStateView, mirrorKey, splitTable } from './layout.ts';
import type { Warehouse } from './warehouse.ts';

const KEY_CHANGES = bookkeepingTable('key_changes');

export interface MirrorColumn {
  name: string;
  /** Full ClickHouse type, Nullable wrapper included. */
  type: string;
  /** The column's comment in the warehouse: where it comes from (the source's type). */
  comment?: string;
}

export interface MirrorTable {
  name: string;
  columns: MirrorColumn[];
  /** The source row key: the mirror's ORDER BY. */
  key: string[];
  /** The source's own comment on the table (Postgres `COMMENT ON TABLE`), quoted in the mirror's. */
  sourceComment?: string;
}

export const MIRROR_META_COLUMNS = ['_version', '_is_deleted', '_ingested_at'] as const;

/** How many recent insert tokens each mirror remembers; a replayed batch is always among them. */
export const DEDUPLICATION_WINDOW = 10_000;

/**
 * The most a merge reads of each part at a time. The engine's 10 MiB is 8,192 rows of 1 kB, but
 * 2,560 of 4 kB values, and a merge holds such a block of every part it merges: with 1 MiB, the
 * capture of a table of 4 kB values peaked 16–54 MB lower in an A B B A (bench/README.md, bench:cdc).
 */
export const MERGE_BLOCK_BYTES = 1024 * 1024;

export function createMirrorTableSql(table: MirrorTable): string {
  const columns = table.columns.map((column) => `${q(column.name)} ${column.type}${commentClause(column)}`);
  columns.push(
    '`_version` UInt64',
    '`_is_deleted` UInt8',
    "`_ingested_at` DateTime64(3, 'UTC') DEFAULT now64(3)",
  );
  return (
    `CREATE TABLE IF NOT EXISTS ${quoteTable(table.name)} (\n  ${columns.join(',\n  ')}\n)\n` +
    `ENGINE = ReplacingMergeTree(_version, _is_deleted)\n` +
    `ORDER BY (${table.key.map(q).join(', ')})\n` +
    `SETTINGS non_replicated_deduplication_window = ${DEDUPLICATION_WINDOW}, merge_max_block_size_bytes = ${MERGE_BLOCK_BYTES}\n` +
    `COMMENT ${quoteString(mirrorComment(table))}`
  );
}

function mirrorComment(table: MirrorTable): string {
  const own = `Every version of ${mirrorKey(table.name)}'s rows, deletions included. For its rows as they are now, read ${currentStateView(table.name)}.`;
  return table.sourceComment === undefined ? own : `${own} In the source: ${table.sourceComment}`;
}

const commentClause = (column: MirrorColumn) =>
  column.comment === undefined ? '' : ` COMMENT ${quoteString(column.comment)}`;

/**
 * The mirror's live rows as the source holds them now (FINAL, deletions left out): what an analyst
 * wants unless they study history. Recreated with the mirror's columns whenever they change, since
 * a view's `*` is expanded when it is created.
 */
function currentStateViewSql(table: MirrorTable): string {
  const columns = [...table.columns.map((column) => q(column.name)), '`_ingested_at` AS `_changed_at`'];
  return (
    `CREATE OR REPLACE VIEW ${quoteTable(currentStateView(table.name))} AS\n` +
    `SELECT ${columns.join(', ')} FROM ${quoteTable(table.name)} FINAL WHERE _is_deleted = 0\n` +
    `COMMENT ${quoteString(`${mirrorKey(table.name)} as it is now: one row per live source row (${table.name} FINAL without deletions; _changed_at = when its last change landed). Read ${table.name} for every version.`)}`
  );
}

export interface EnsuredMirror {
  /** The columns added to an existing mirror. */
  added: string[];
  /** `table`'s columns with the types the mirror holds them in (an older source type's, if it changed). */
  columns: MirrorColumn[];
}

/**
 * Creates the mirror if missing and adds columns the source gained since. Columns the source
 * dropped stay (history keeps them); type changes are not applied here.
 */
export async function ensureMirrorTable(warehouse: Warehouse, table: MirrorTable): Promise<EnsuredMirror> {
  await warehouse.command(createMirrorTableSql(table));
  const existing = await warehouse.query<{ name: string; type: string; comment: string }>(
    `SELECT name, type, comment FROM system.columns WHERE database = {database:String} AND table = {table:String}
     ORDER BY position`,
    { database: splitTable(table.name).database, table: splitTable(table.name).name },
  );
  const comments = new Map(existing.map((row) => [row.name, row.comment]));
  const missing = table.columns.filter((column) => !comments.has(column.name));
  for (const column of missing) {
    await warehouse.command(
      `ALTER TABLE ${quoteTable(table.name)} ADD COLUMN IF NOT EXISTS ${q(column.name)} ${column.type}${commentClause(column)}`,
    );
  }
  // Mirrors made before columns had comments get them.
  for (const column of table.columns)
    if (
      column.comment !== undefined &&
      comments.has(column.name) &&
      comments.get(column.name) !== column.comment
    )
      await warehouse.command(
        `ALTER TABLE ${quoteTable(table.name)} COMMENT COLUMN ${q(column.name)} ${quoteString(column.comment)}`,
      );
  // The source's table comment may have been made, changed or dropped since the mirror was.
  const [own] = await warehouse.query<{ comment: string }>(
    'SELECT comment FROM system.tables WHERE database = {database:String} AND name = {table:String}',
    { database: splitTable(table.name).database, table: splitTable(table.name).name },
  );
  if (own !== undefined && own.comment !== mirrorComment(table))
    await warehouse.command(
      `ALTER TABLE ${quoteTable(table.name)} MODIFY COMMENT ${quoteString(mirrorComment(table))}`,
    );
  // The view shows every column the mirror has (columns the source dropped included).
  const meta = new Set<string>(MIRROR_META_COLUMNS);
  const all = [
    ...existing.filter((row) => !meta.has(row.name)).map((row) => ({ name: row.name, type: row.type })),
    ...missing,
  ];
  await warehouse.command(currentStateViewSql({ ...table, columns: all }));
  const types = new Map(existing.map((row) => [row.name, row.type]));
  return {
    added: missing.map((column) => column.name),
    columns: table.columns.map((column) => ({ ...column, type: types.get(column.name) ?? column.type })),
  };
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
    `INSERT INTO ${quoteTable(table.name)} (${keys}, _version, _is_deleted) ` +
      `SELECT ${keys}, {version:UInt64}, 1 FROM ${quoteTable(table.name)} FINAL WHERE _is_deleted = 0 AND _version < {version:UInt64}`,
    // As text: a MongoDB version is a bigint, beyond what a JSON number holds exactly.
    { version: String(version) },
  );
}

const SNAPSHOT_PARTS = bookkeepingTable('snapshot_parts');

/** One part of a snapshot landed in parts: `id` among `of` (a Kafka partition among the topic's). */
export interface SnapshotPart {
  id: string;
  of: number;
}

/**
 * Records that `part` of the snapshot at `version` has landed in `table`; once every part has, the
 * rows it did not see are retracted (`tombstoneOlderThan`). Until then a row of a part still behind
 * would look unseen. Returns whether the snapshot is complete. Safe to repeat and to run from
 * several processes at once: each reads the parts after recording its own, so whichever records the
 * last part sees them all, and a second retraction changes nothing.
 */
export async function completeSnapshotPart(
  warehouse: Warehouse,
  table: MirrorTable,
  version: number | bigint,
  part: SnapshotPart,
): Promise<boolean> {
  const params = { mirror: table.name, version: String(version), part: part.id, parts: part.of };
  await warehouse.command(
    `INSERT INTO ${SNAPSHOT_PARTS} (mirror, version, part, parts) ` +
      'VALUES ({mirror:String}, {version:UInt64}, {part:String}, {parts:UInt32})',
    params,
  );
  const [landed] = await warehouse.query<{ parts: string | number }>(
    `SELECT uniqExact(part) AS parts FROM ${SNAPSHOT_PARTS} WHERE mirror = {mirror:String} AND version = {version:UInt64}`,
    params,
  );
  if (Number(landed?.parts ?? 0) < part.of) return false;
  await tombstoneOlderThan(warehouse, table, version);
  return true;
}

/** Names the lookup's own columns so they cannot clash with a source column. */
const LOOKUP_INDEX = '__tributary_lookup';
const LOOKUP_LATEST = '__tributary_latest';

/**
 * The latest live values of `columns` for each row key (the key columns' values, in key order, as
 * the mirror's inserts carry them), or undefined where the mirror has no live row. The keys are
 * parsed by the same JSON reader as the inserts, into the key columns' own types, so a bigint, a
 * Decimal, a UUID or a timestamp meets its stored value exactly; the answer comes back by the
 * key's position in `keys`, never by comparing texts of differently typed values. Values come
 * back in a form the mirror's inserts accept (exact decimals and 64-bit integers, NaN and ±inf).
 */
export async function readLatestValues(
  warehouse: Warehouse,
  table: MirrorTable,
  keys: readonly (readonly unknown[])[],
  columns: readonly string[],
): Promise<(Record<string, unknown> | undefined)[]> {
  const found: (Record<string, unknown> | undefined)[] = new Array(keys.length).fill(undefined);
  if (keys.length === 0 || columns.length === 0) return found;
  const typeOf = new Map(table.columns.map((column) => [column.name, column.type]));
  const structure = [
    `${q(LOOKUP_INDEX)} UInt32`,
    ...table.key.map((name) => `${q(name)} ${typeOf.get(name) ?? 'String'}`),
  ].join(', ');
  const keyList = table.key.map(q).join(', ');
  const joined = table.key.map((name) => `wanted.${q(name)} = current.${q(name)}`).join(' AND ');
  // Each key's latest version by argMax, not FINAL: FINAL merges every part's rows of the keys'
  // granules, large values included, which held hundreds of MB of the engine's memory for a batch
  // of 4 kB values (bench:cdc). One tuple, so a NULL is a value (argMax skips NULL arguments).
  // Where FINAL keeps the last inserted of equal versions argMax keeps any: a key's equal versions
  // are repeats of one row (a tombstone is only written over older versions).
  const latest = q(LOOKUP_LATEST);
  const rows = await warehouse.query<Record<string, unknown>>(
    `WITH wanted AS (SELECT * FROM format(JSONCompactEachRow, ${quoteString(structure)}, {keys:String}))
     SELECT wanted.${q(LOOKUP_INDEX)} AS ${q(LOOKUP_INDEX)}, ${columns.map((name, index) => `tupleElement(current.${latest}, ${index + 2}) AS ${q(name)}`).join(', ')}
     FROM wanted INNER JOIN (
       SELECT ${keyList}, argMax(tuple(_is_deleted, ${columns.map(q).join(', ')}), _version) AS ${latest}
       FROM ${quoteTable(table.name)}
       WHERE (${keyList}) IN (SELECT ${keyList} FROM wanted)
       GROUP BY ${keyList}
       HAVING tupleElement(${latest}, 1) = 0
     ) AS current ON ${joined}`,
    { keys: keys.map((key, index) => JSON.stringify([index, ...key])).join('\n') },
    { output_format_json_quote_denormals: 1 },
  );
  for (const row of rows) {
    const index = Number(row[LOOKUP_INDEX]);
    delete row[LOOKUP_INDEX];
    found[index] = row;
  }
  return found;
}

/** Records the rows primary-key changes moved away from (see migration 010), by the change's position. */
export async function recordKeyChangeImages(
  warehouse: Warehouse,
  mirror: string,
  images: readonly { position: number; image: Record<string, unknown> }[],
  deduplicationToken: string,
): Promise<void> {
  await warehouse.insert(
    KEY_CHANGES,
    images.map(({ position, image }) => ({ mirror, position, image: JSON.stringify(image) })),
    { deduplicationToken },
  );
}

/** The recorded rows of the key changes at `positions`, by position; absent ones have not landed. */
export async function readKeyChangeImages(
  warehouse: Warehouse,
  mirror: string,
  positions: readonly number[],
): Promise<Map<number, Record<string, unknown>>> {
  const rows = await warehouse.query<{ position: string; image: string }>(
    `SELECT position, image FROM ${KEY_CHANGES} FINAL WHERE mirror = {mirror:String} AND position IN {positions:Array(UInt64)}`,
    { mirror, positions },
  );
  return new Map(rows.map((row) => [Number(row.position), JSON.parse(row.image) as Record<string, unknown>]));
}
