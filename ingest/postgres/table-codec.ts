// Per captured table: which columns leave the source (secrets never do), how each column's text
// value becomes an envelope value, and the resulting SourceTable the mirror is built from.
import { UNAVAILABLE_VALUE, type Row } from '../envelope.ts';
import type { PiiPolicy } from '../pii.ts';
import { ROW_ID_COLUMN, rowDigest, tableKey, type SourceColumn, type SourceTable } from '../source-table.ts';
import { CaptureError } from '../errors.ts';
import { codecForType, type PgTypeInfo, type UnknownTypeListener } from './pg-types.ts';

export interface CodecColumn {
  name: string;
  type: PgTypeInfo;
  generated: boolean;
  /** The source's comment on the column, carried to the mirror's. */
  comment?: string;
}

interface ColumnPlan {
  name: string;
  decode: (text: string) => unknown;
  hash: boolean;
  /** The length of the last value of this column decoded: what an unchanged one will weigh. */
  lastBytes: number;
}

/**
 * Postgres moves a value out of line only once its row passes about 2 kB (TOAST_TUPLE_THRESHOLD):
 * what an unchanged value of a column not seen yet weighs at least.
 */
const TOAST_THRESHOLD_BYTES = 2032;

export interface TableCodec {
  table: SourceTable;
  /** `source.schema.table`, as changes name their table (`tableKey`). */
  tableName: string;
  /** The source's own key columns (none for a table without a key). */
  sourceKey: string[];
  /** Columns read from the source, in order (secrets excluded). */
  columnNames: string[];
  /**
   * Text tuple (null = SQL NULL, undefined = unchanged TOAST value) → envelope row; an unchanged
   * value is taken from `old` (an old tuple logged whole) when it holds it.
   */
  decodeRow(
    tuple: Record<string, string | null | undefined>,
    old?: Record<string, string | null | undefined>,
  ): Row;
  /** An update's or delete's old tuple: the whole row under REPLICA IDENTITY FULL, else the key. */
  decodeBefore(tuple: Record<string, string | null | undefined>): Row;
  /**
   * What `row`'s unchanged TOASTed values will weigh once filled from their previous versions
   * (Postgres does not send them): each counted at the length of its column's last value seen.
   */
  unchangedBytes(row: Row): number;
}

export interface TableCodecOptions {
  source: string;
  schema: string;
  table: string;
  /** The source's comment on the table, carried to the mirror's. */
  comment?: string;
  columns: CodecColumn[];
  key: string[];
  /** `REPLICA IDENTITY FULL`: old tuples carry the whole row. */
  fullIdentity: boolean;
  /** How rows are identified (default: by `key`); a table without a key gets a `_row_id` column. */
  rowIdentity?: 'key' | 'row' | 'append';
  pii: PiiPolicy;
  onUnknownType: UnknownTypeListener;
  /** Generated columns are only in the replication stream from Postgres 18 on. */
  generatedColumnsStreamed: boolean;
  onSkippedColumn?: (column: string, reason: string) => void;
}

export function createTableCodec(options: TableCodecOptions): TableCodec {
  const plans: ColumnPlan[] = [];
  const columns: SourceColumn[] = [];
  for (const column of options.columns) {
    const treatment = options.pii.treatmentOf(column.name);
    if (treatment === 'drop') continue;
    if (column.generated && !options.generatedColumnsStreamed) {
      options.onSkippedColumn?.(column.name, 'generated columns are not replicated before Postgres 18');
      continue;
    }
    if (options.key.includes(column.name) && treatment === 'hash') {
      throw new CaptureError(
        `${options.schema}.${options.table}.${column.name} is both a row key and a PII field; keys cannot be hashed`,
      );
    }
    const codec = codecForType(column.type, options.onUnknownType);
    plans.push({
      name: column.name,
      decode: codec.decode,
      hash: treatment === 'hash',
      lastBytes: TOAST_THRESHOLD_BYTES,
    });
    columns.push({
      name: column.name,
      ...codec.column,
      ...(column.comment !== undefined && { description: column.comment }),
    });
  }
  for (const keyColumn of options.key) {
    if (!plans.some((plan) => plan.name === keyColumn)) {
      throw new CaptureError(
        `${options.schema}.${options.table}: key column ${keyColumn} is excluded by the secret-field rules`,
      );
    }
  }
  const rowIdentity = options.rowIdentity ?? 'key';
  if (rowIdentity !== 'key') {
    if (plans.some((plan) => plan.name === ROW_ID_COLUMN))
      throw new CaptureError(
        `${options.schema}.${options.table} has no key and a column named ${ROW_ID_COLUMN}, the name its mirror needs for the row identity`,
      );
    columns.unshift({
      name: ROW_ID_COLUMN,
      clickhouseType: 'String',
      encoding: 'plain',
      isArray: false,
      sourceType: 'row identity',
    });
  }
  const key = rowIdentity === 'key' ? options.key : [ROW_ID_COLUMN];
  const keyPlans = plans.filter((plan) => options.key.includes(plan.name));
  const pii = options.pii;
  const decodeInto = (row: Row, plan: ColumnPlan, text: string | null | undefined): void => {
    if (text === undefined) row[plan.name] = UNAVAILABLE_VALUE;
    else if (text === null) row[plan.name] = null;
    else {
      row[plan.name] = plan.hash ? pii.hash(plan.decode(text)) : plan.decode(text);
      plan.lastBytes = text.length;
    }
  };
  const unchangedBytes = (row: Row): number => {
    let bytes = 0;
    for (const plan of plans) if (row[plan.name] === UNAVAILABLE_VALUE) bytes += plan.lastBytes;
    return bytes;
  };
  const decodeRow = (
    tuple: Record<string, string | null | undefined>,
    old?: Record<string, string | null | undefined>,
  ): Row => {
    const row: Row = {};
    for (const plan of plans)
      decodeInto(row, plan, tuple[plan.name] === undefined ? old?.[plan.name] : tuple[plan.name]);
    // Without a key, a FULL table's row is named by its values.
    if (rowIdentity === 'row') row[ROW_ID_COLUMN] = rowDigest(row, columns);
    return row;
  };
  const decodeKey = (tuple: Record<string, string | null | undefined>): Row => {
    const row: Row = {};
    for (const plan of keyPlans) decodeInto(row, plan, tuple[plan.name]);
    return row;
  };
  return {
    tableName: tableKey(options),
    sourceKey: options.key,
    table: {
      source: options.source,
      schema: options.schema,
      table: options.table,
      ...(options.comment !== undefined && { description: options.comment }),
      columns,
      key,
      beforeImage: options.fullIdentity ? 'row' : 'key',
      ...(rowIdentity !== 'key' && { rowIdentity }),
    },
    columnNames: plans.map((plan) => plan.name),
    decodeRow,
    decodeBefore: options.fullIdentity ? (tuple) => decodeRow(tuple) : decodeKey,
    unchangedBytes,
  };
}
