// What the mirror writer needs to know about a captured table or collection: its columns, how each
// value is encoded in the envelope, and the ClickHouse type it lands as.
import { createHash } from 'node:crypto';
import { mirrorTable } from '../warehouse/index.ts';

/**
 * How an envelope value is encoded (Debezium's conventions), which decides how it is written to
 * ClickHouse. `plain` values are written as they are.
 */
export type ValueEncoding =
  | 'plain'
  | 'date-days'
  | 'time-micros'
  /** Debezium `Timestamp`: milliseconds (MySQL DATETIME(0–3) under adaptive time precision). */
  | 'timestamp-millis'
  | 'timestamp-micros'
  | 'zoned-timestamp'
  /** Debezium `Bits` (MySQL BIT(n > 1)): base64 of the bits as little-endian bytes. */
  | 'bits';

export const VALUE_ENCODINGS = [
  'plain',
  'date-days',
  'time-micros',
  'timestamp-millis',
  'timestamp-micros',
  'zoned-timestamp',
  'bits',
] as const satisfies readonly ValueEncoding[];

export interface SourceColumn {
  name: string;
  /** ClickHouse type of the mirror column, without the Nullable wrapper. */
  clickhouseType: string;
  encoding: ValueEncoding;
  /** Array columns encode each element this way; the column itself is an array. */
  isArray: boolean;
  /** Source type name, for messages and docs (`int4`, `_uuid`, `numeric(10,2)`). */
  sourceType: string;
  /** The source's own comment on the column (Postgres `COMMENT ON COLUMN`), for the mirror's. */
  description?: string;
}

export interface SourceTable {
  /** `--source-name` of the capture; first part of the mirror's name. */
  source: string;
  /** Postgres schema, or MongoDB database. */
  schema: string;
  /** Postgres table, or MongoDB collection. */
  table: string;
  /** The source's own comment on the table (Postgres `COMMENT ON TABLE`), for the mirror's. */
  description?: string;
  /** Present for a MongoDB collection: its mirror keeps whole documents plus these typed fields. */
  document?: DocumentShape;
  columns: SourceColumn[];
  /** Columns that identify a row (primary key or replica identity index), in key order. */
  key: string[];
  /**
   * How rows are identified (absent: `key`). A table without a key has a synthetic `_row_id`
   * column as its key: under `REPLICA IDENTITY FULL` (`row`) a digest of the whole row, which its
   * logged old row names on update and delete; otherwise (`append`, insert-only) the source
   * position of the insert.
   */
  rowIdentity?: 'key' | 'row' | 'append';
  /**
   * What the before image of an update or delete carries: the key columns only, or the whole old
   * row (Postgres `REPLICA IDENTITY FULL`, whose old row also holds the TOASTed values). Absent: key.
   */
  beforeImage?: 'key' | 'row';
}

/** A top-level document field a pack declares, copied into its own typed mirror column. */
export interface DocumentField {
  name: string;
  type: DocumentFieldType;
}

export type DocumentFieldType = 'string' | 'datetime' | 'int' | 'float' | 'bool';

/** The synthetic key column of a table without a key (see `SourceTable.rowIdentity`). */
export const ROW_ID_COLUMN = '_row_id';

/** A row's identity under REPLICA IDENTITY FULL without a key: a digest of its values, in column order. */
export function rowDigest(row: Record<string, unknown>, columns: readonly SourceColumn[]): string {
  const values = columns
    .filter((column) => column.name !== ROW_ID_COLUMN)
    .map((column) => row[column.name] ?? null);
  return createHash('sha256').update(JSON.stringify(values)).digest('hex').slice(0, 32);
}

export interface DocumentShape {
  fields: DocumentField[];
}

/**
 * `raw.<source>_<table>`, with the schema name kept when it is not `public`; a collection's mirror
 * is `raw.<source>_<collection>` whatever its database.
 */
export function sourceMirrorName(
  table: Pick<SourceTable, 'source' | 'schema' | 'table' | 'document'>,
): string {
  return table.document
    ? mirrorTableName(table.source, 'public', table.table)
    : mirrorTableName(table.source, table.schema, table.table);
}

/** `raw.<source>_<table>` (layout.ts), with the schema name kept when it is not `public`. */
export function mirrorTableName(source: string, schema: string, table: string): string {
  return schema === 'public' ? mirrorTable(source, table) : mirrorTable(source, schema, table);
}

/**
 * `<source>.<schema>.<table>` (a collection: `<source>.<database>.<collection>`): names a captured
 * table across sources, as changes (`SourceChange.table`) and the schema topic name it.
 */
export function tableKey(table: Pick<SourceTable, 'source' | 'schema' | 'table'>): string {
  return `${table.source}.${table.schema}.${table.table}`;
}

export function qualifiedName(table: Pick<SourceTable, 'schema' | 'table'>): string {
  return `${table.schema}.${table.table}`;
}

/** The schema (or database) and table (or collection) an event belongs to. */
export function eventNamespace(source: {
  connector: string;
  db: string;
  schema?: string;
  table?: string;
  collection?: string;
}): { schema: string; table: string } {
  if (source.connector === 'mongodb') return { schema: source.db, table: source.collection ?? '' };
  // MySQL has no schemas within a database: the database is the namespace.
  if (source.connector === 'mysql') return { schema: source.db, table: source.table ?? '' };
  return { schema: source.schema ?? 'public', table: source.table ?? '' };
}
