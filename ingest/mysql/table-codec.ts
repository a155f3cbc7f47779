// Per captured MySQL table and shape: which columns leave the source (secrets never do, PII is
// hashed by the one PII policy), how each value becomes an envelope value, and the SourceTable the
// mirror is built from. The stream makes a new codec whenever the binlog's table map shows another
// shape, so every row is decoded with the columns it was written with.
import type { Row } from '../envelope.ts';
import { CaptureError } from '../errors.ts';
import type { PiiPolicy } from '../pii.ts';
import { ROW_ID_COLUMN, rowDigest, tableKey, type SourceColumn, type SourceTable } from '../source-table.ts';
import type { MysqlCatalogColumn } from './catalog.ts';
import { codecForMysqlType, type UnknownTypeListener } from './mysql-types.ts';

export interface MysqlTableCodec {
  table: SourceTable;
  /** `source.database.table`, as changes name their table. */
  tableName: string;
  /** The source's own key columns (none for a table without a key). */
  sourceKey: string[];
  /** Columns whose values leave the source hashed (PII): never copied from the source's bytes. */
  hashed: ReadonlySet<string>;
  /** Names, mirror types and encodings of the columns, to tell whether a table map is another shape. */
  signature: string;
  /**
   * A row as the driver or the binlog decoder gives it → the envelope row. Takes `values` over:
   * when the codec leaves no column out, the values are decoded in that very object (one object
   * per row image fewer to collect), so the caller must not read it afterwards.
   */
  decodeRow(values: Record<string, unknown>): Row;
  /** The key columns of an envelope row. */
  keyOf(row: Row): Row;
}

export interface MysqlTableCodecOptions {
  source: string;
  database: string;
  table: string;
  columns: MysqlCatalogColumn[];
  key: string[];
  pii: PiiPolicy;
  onUnknownType: UnknownTypeListener;
}

interface ColumnPlan {
  name: string;
  decode: (value: unknown) => unknown;
  hash: boolean;
}

export function createMysqlTableCodec(options: MysqlTableCodecOptions): MysqlTableCodec {
  const plans: ColumnPlan[] = [];
  const columns: SourceColumn[] = [];
  for (const column of options.columns) {
    const treatment = options.pii.treatmentOf(column.name);
    if (treatment === 'drop') continue;
    if (options.key.includes(column.name) && treatment === 'hash')
      throw new CaptureError(
        `${options.database}.${options.table}.${column.name} is both a row key and a PII field; keys cannot be hashed`,
      );
    const codec = codecForMysqlType(column, options.onUnknownType);
    plans.push({ name: column.name, decode: codec.decode, hash: treatment === 'hash' });
    columns.push({ name: column.name, ...codec.column });
  }
  for (const keyColumn of options.key)
    if (!plans.some((plan) => plan.name === keyColumn))
      throw new CaptureError(
        `${options.database}.${options.table}: key column ${keyColumn} is excluded by the secret-field rules`,
      );
  const keyed = options.key.length > 0;
  if (!keyed) {
    if (plans.some((plan) => plan.name === ROW_ID_COLUMN))
      throw new CaptureError(
        `${options.database}.${options.table} has no key and a column named ${ROW_ID_COLUMN}, the name its mirror needs for the row identity`,
      );
    columns.unshift({
      name: ROW_ID_COLUMN,
      clickhouseType: 'String',
      encoding: 'plain',
      isArray: false,
      sourceType: 'row identity',
    });
  }
  const key = keyed ? options.key : [ROW_ID_COLUMN];
  const table: SourceTable = {
    source: options.source,
    schema: options.database,
    table: options.table,
    columns,
    key,
    // binlog_row_image=FULL: updates and deletes carry the whole old row.
    beforeImage: 'row',
    ...(!keyed && { rowIdentity: 'row' as const }),
  };
  const pii = options.pii;
  // Secrets never leave: a row is decoded in place only when no column of it is left out.
  const inPlace = plans.length === options.columns.length;
  return {
    table,
    tableName: tableKey(table),
    sourceKey: options.key,
    hashed: new Set(plans.filter((plan) => plan.hash).map((plan) => plan.name)),
    signature: JSON.stringify(columns.map((column) => [column.name, column.clickhouseType, column.encoding])),
    decodeRow(values) {
      const row: Row = inPlace ? (values as Row) : {};
      for (const plan of plans) {
        const value = values[plan.name];
        if (value === null || value === undefined) row[plan.name] = null;
        else {
          const decoded = plan.decode(value);
          row[plan.name] = plan.hash ? pii.hash(decoded) : decoded;
        }
      }
      // Without a key, a row is named by its values (the full old image names it on update and delete).
      if (!keyed) row[ROW_ID_COLUMN] = rowDigest(row, columns);
      return row;
    },
    keyOf(row) {
      return Object.fromEntries(key.map((column) => [column, row[column]]));
    },
  };
}
