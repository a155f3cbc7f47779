// Turns envelope rows into ClickHouse rows for a raw mirror: temporal encodings become ClickHouse
// text, NULL arrays become empty arrays (ClickHouse arrays cannot be NULL), key columns stay exact.
import type { MirrorColumn, MirrorTable } from '../warehouse/index.ts';
import { daysToIsoDate, microsToTime, microsToTimestamp } from './temporal.ts';
import type { SourceColumn, SourceTable, ValueEncoding } from './source-table.ts';
import { mirrorTableName } from './source-table.ts';
import { UNAVAILABLE_VALUE, type Row } from './envelope.ts';

type Convert = (value: unknown) => unknown;

const CONVERTERS: Record<ValueEncoding, Convert> = {
  plain: (value) => value,
  'date-days': (value) => (typeof value === 'number' ? daysToIsoDate(value) : value),
  'time-micros': (value) => (typeof value === 'number' ? microsToTime(value) : value),
  'timestamp-micros': (value) => (typeof value === 'number' ? microsToTimestamp(value) : value),
  'zoned-timestamp': (value) => value,
};

export function mirrorColumnType(column: SourceColumn, isKey: boolean): string {
  if (column.isArray) return `Array(Nullable(${column.clickhouseType}))`;
  return isKey ? column.clickhouseType : `Nullable(${column.clickhouseType})`;
}

export function mirrorTableFor(table: SourceTable): MirrorTable {
  const key = new Set(table.key);
  const columns: MirrorColumn[] = table.columns.map((column) => ({ name: column.name, type: mirrorColumnType(column, key.has(column.name)) }));
  return { name: mirrorTableName(table.source, table.schema, table.table), columns, key: table.key };
}

export interface RowConverter {
  /** Converts the envelope values of the known columns; unknown fields are reported, not written. */
  convert(row: Row): { values: Row; unknownFields: string[] };
}

export function createRowConverter(table: SourceTable): RowConverter {
  const columns = table.columns.map((column) => {
    const element = CONVERTERS[column.encoding];
    const convertPresent: Convert = column.isArray
      ? (value) => (value as unknown[]).map((item) => (item === null ? null : element(item)))
      : element;
    // The TOAST placeholder passes through untouched: the writer replaces it with the previous value.
    const convert: Convert = (value) => {
      if (value === null || value === undefined) return column.isArray ? [] : null;
      return value === UNAVAILABLE_VALUE ? value : convertPresent(value);
    };
    return { name: column.name, convert };
  });
  const known = new Set(table.columns.map((column) => column.name));
  return {
    convert(row) {
      const values: Row = {};
      for (const column of columns) {
        if (column.name in row) values[column.name] = column.convert(row[column.name]);
      }
      const unknownFields: string[] = [];
      for (const name in row) if (!known.has(name)) unknownFields.push(name);
      return { values, unknownFields };
    },
  };
}
