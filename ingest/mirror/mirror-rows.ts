// Turns envelope rows into rows of a raw mirror. ClickHouse reads Debezium's day and microsecond
// integers for Date32 and DateTime64(6) as they are, so most values pass untouched and most rows
// are stored as the very object the envelope carries; only NULL arrays (ClickHouse arrays cannot be
// NULL), times of day (stored as text), millisecond timestamps and MySQL's BIT bytes are rewritten.
import type { MirrorColumn, MirrorTable } from '../../warehouse/index.ts';
import { microsToTime } from '../temporal.ts';
import type { SourceColumn, SourceTable, ValueEncoding } from '../source-table.ts';
import { sourceMirrorName } from '../source-table.ts';
import { UNAVAILABLE_VALUE, type Image, type Row, type SourceVersion } from '../envelope.ts';

type Convert = (value: unknown) => unknown;

const ELEMENT_CONVERTERS: Record<ValueEncoding, Convert | undefined> = {
  plain: undefined,
  'date-days': undefined,
  'timestamp-micros': undefined,
  'zoned-timestamp': undefined,
  'time-micros': (value) => (typeof value === 'number' ? microsToTime(value) : value),
  'timestamp-millis': (value) => (typeof value === 'number' ? value * 1000 : value),
  bits: (value) => (typeof value === 'string' ? littleEndianBitsToInteger(value) : value),
};

/** Debezium's `Bits` → the number they spell (UInt64: beyond 2^53 as exact text, which ClickHouse parses). */
function littleEndianBitsToInteger(base64: string): number | string {
  const bytes = Buffer.from(base64, 'base64');
  // Up to six bytes stay below 2^53: no BigInt needed.
  if (bytes.length <= 6) {
    let number = 0;
    for (let index = bytes.length - 1; index >= 0; index--) number = number * 256 + (bytes[index] ?? 0);
    return number;
  }
  let result = 0n;
  for (let index = bytes.length - 1; index >= 0; index--) result = (result << 8n) | BigInt(bytes[index] ?? 0);
  return result <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(result) : result.toString();
}

export function mirrorColumnType(column: SourceColumn, isKey: boolean): string {
  if (column.isArray) return `Array(Nullable(${column.clickhouseType}))`;
  return isKey ? column.clickhouseType : `Nullable(${column.clickhouseType})`;
}

export function mirrorTableFor(table: SourceTable): MirrorTable {
  const key = new Set(table.key);
  const columns: MirrorColumn[] = table.columns.map((column) => ({
    name: column.name,
    type: mirrorColumnType(column, key.has(column.name)),
    comment: `source type: ${column.sourceType}${column.description === undefined ? '' : ` — ${column.description}`}`,
  }));
  return {
    name: sourceMirrorName(table),
    columns,
    key: table.key,
    ...(table.description !== undefined && { sourceComment: table.description }),
  };
}

export type ConvertedRow =
  { ok: true; row: Row; unavailable: string[] | undefined } | { ok: false; reason: string };

export interface RowConverter {
  /**
   * The row to store: `image` itself when nothing needs rewriting, a converted copy otherwise.
   * `unavailable` lists columns holding the unchanged-TOAST placeholder.
   */
  convert(image: Image): ConvertedRow;
}

/** Rewrites a present (non-NULL, non-placeholder) value, or undefined when it is stored as is. */
function columnConverter(column: SourceColumn): { convert: Convert | undefined; isArray: boolean } {
  const element = ELEMENT_CONVERTERS[column.encoding];
  if (!column.isArray) return { convert: element, isArray: false };
  return {
    convert:
      element && ((value) => (value as unknown[]).map((item) => (item === null ? null : element(item)))),
    isArray: true,
  };
}

export function createRowConverter(table: SourceTable): RowConverter {
  const columns = new Map(table.columns.map((column) => [column.name, columnConverter(column)]));
  return {
    convert(image) {
      if (typeof image === 'string')
        return { ok: false, reason: 'a document (text) image for a table mirror' };
      let copy: Row | undefined;
      let unavailable: string[] | undefined;
      let unknownFields: string[] | undefined;
      for (const name in image) {
        const column = columns.get(name);
        if (!column) {
          (unknownFields ??= []).push(name);
          continue;
        }
        const value = image[name];
        if (
          value === UNAVAILABLE_VALUE ||
          (column.isArray && Array.isArray(value) && value.length === 1 && value[0] === UNAVAILABLE_VALUE)
        ) {
          // The writer fills these in place, so they always get a copy of their own.
          copy ??= { ...image };
          (unavailable ??= []).push(name);
        } else if (value === null || value === undefined) {
          if (column.isArray) (copy ??= { ...image })[name] = [];
        } else if (column.convert) {
          (copy ??= { ...image })[name] = column.convert(value);
        }
      }
      if (unknownFields)
        return { ok: false, reason: `fields not in the mirror: ${unknownFields.join(', ')}` };
      return { ok: true, row: copy ?? image, unavailable };
    },
  };
}

export interface MirrorLineFormat {
  format: 'JSONCompactEachRow';
  /** The insert's column list: the mirror's columns, then `_version` and `_is_deleted`. */
  columns: string[];
  /** One line per row: values in column order (ClickHouse parses arrays faster than objects). */
  line(row: Row, version: SourceVersion, deleted: boolean): string;
}

export function mirrorLineFormat(table: MirrorTable): MirrorLineFormat {
  const names = table.columns.map((column) => column.name);
  // A column the row does not carry (a delete carries only its key) is NULL, or [] for an array.
  const absent = table.columns.map((column) => (column.type.startsWith('Array(') ? [] : null));
  return {
    format: 'JSONCompactEachRow',
    columns: [...names, '_version', '_is_deleted'],
    line(row, version, deleted) {
      const values: unknown[] = new Array(names.length + 2);
      for (let index = 0; index < names.length; index++) {
        const value = row[names[index] as string];
        values[index] = value === undefined ? absent[index] : value;
      }
      values[names.length + 1] = deleted ? 1 : 0;
      if (typeof version === 'number') {
        values[names.length] = version;
        return JSON.stringify(values);
      }
      // A bigint version (JSON.stringify cannot write one) goes in as its digits.
      values[names.length] = 0;
      const line = JSON.stringify(values);
      const tail = `,${deleted ? 1 : 0}]`;
      return `${line.slice(0, line.length - tail.length - 1)}${version}${tail}`;
    },
  };
}
