// The MySQL side of the acceptance check: a mirror's live rows (FINAL, not deleted) equal the
// source table's rows, value for value. Both sides are rendered to text by the servers themselves
// (MySQL's CAST/DATE_FORMAT/HEX, ClickHouse's toString/formatDateTime/hex), independently of the
// capture's type mapping; only spelling differences (trailing decimal zeros, float widths) are
// normalised here.
import { expect } from 'vitest';
import mysql from 'mysql2/promise';
import { quoteIdentifier, quoteTable, type Warehouse } from '../warehouse/index.ts';

interface ColumnInfo {
  name: string;
  dataType: string;
  columnType: string;
}

export interface MysqlMirrorEqualityOptions {
  url: string;
  database: string;
  table: string;
  warehouse: Warehouse;
  mirror: string;
  /** Columns not compared (dropped secrets, hashed PII). */
  exclude?: string[];
}

export async function readMysqlSourceAndMirror(
  options: MysqlMirrorEqualityOptions,
): Promise<{ source: string[]; mirror: string[] }> {
  const connection = await mysql.createConnection({
    uri: options.url,
    dateStrings: true,
    supportBigNumbers: true,
    bigNumberStrings: true,
  });
  try {
    await connection.query("SET time_zone = '+00:00'");
    const [columnRows] = (await connection.query(
      `SELECT COLUMN_NAME AS name, DATA_TYPE AS dataType, COLUMN_TYPE AS columnType FROM information_schema.COLUMNS
        WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION`,
      [options.database, options.table],
    )) as unknown as [ColumnInfo[]];
    const columns = columnRows.filter((column) => !(options.exclude ?? []).includes(column.name));
    const select = columns.map((column) => `${mysqlText(column)} AS \`${column.name}\``).join(', ');
    const [sourceRows] = (await connection.query(
      `SELECT ${select} FROM \`${options.database}\`.\`${options.table}\``,
    )) as unknown as [Record<string, unknown>[]];
    const chSelect = columns
      .map((column) => `${clickhouseText(column)} AS ${quoteIdentifier(column.name)}`)
      .join(', ');
    const mirrorRows = await options.warehouse.query<Record<string, unknown>>(
      `SELECT ${chSelect} FROM ${quoteTable(options.mirror)} FINAL WHERE _is_deleted = 0`,
    );
    const render = (row: Record<string, unknown>) =>
      JSON.stringify(columns.map((column) => normalise(column, row[column.name])));
    return { source: sourceRows.map(render).sort(), mirror: mirrorRows.map(render).sort() };
  } finally {
    await connection.end();
  }
}

export async function expectMysqlMirrorEqualsSource(
  options: MysqlMirrorEqualityOptions,
  context = '',
): Promise<void> {
  const { source, mirror } = await readMysqlSourceAndMirror(options);
  const where = context ? `${options.mirror} (${context})` : options.mirror;
  // Rows of a megabyte make unreadable diffs: show the first differing rows, cut short.
  const short = (row: string) => (row.length > 400 ? `${row.slice(0, 400)}…(${row.length} chars)` : row);
  const inMirror = new Set(mirror);
  const inSource = new Set(source);
  const missing = source
    .filter((row) => !inMirror.has(row))
    .slice(0, 3)
    .map(short);
  const extra = mirror
    .filter((row) => !inSource.has(row))
    .slice(0, 3)
    .map(short);
  expect(
    { missing, extra },
    `rows of ${where} not in both (source ${source.length}, mirror ${mirror.length})`,
  ).toEqual({
    missing: [],
    extra: [],
  });
  expect(mirror.length, `rows of ${where}`).toBe(source.length);
}

const BINARY = new Set(['binary', 'varbinary', 'tinyblob', 'blob', 'mediumblob', 'longblob']);

function mysqlText(column: ColumnInfo): string {
  const name = `\`${column.name}\``;
  if (BINARY.has(column.dataType)) return `HEX(${name})`;
  switch (column.dataType) {
    case 'bit':
      return `CAST(${name} + 0 AS CHAR)`;
    case 'date':
      return `IF(MONTH(${name}) = 0 OR DAYOFMONTH(${name}) = 0, NULL, DATE_FORMAT(${name}, '%Y-%m-%d'))`;
    case 'datetime':
    case 'timestamp':
      return `IF(MONTH(${name}) = 0 OR DAYOFMONTH(${name}) = 0, NULL, DATE_FORMAT(${name}, '%Y-%m-%d %H:%i:%s.%f'))`;
    case 'time':
      return `TIME_FORMAT(${name}, '%H:%i:%s.%f')`;
    default:
      return `CAST(${name} AS CHAR)`;
  }
}

function clickhouseText(column: ColumnInfo): string {
  const name = quoteIdentifier(column.name);
  if (BINARY.has(column.dataType)) return `hex(base64Decode(${name}))`;
  if (column.dataType === 'datetime' || column.dataType === 'timestamp')
    return `formatDateTime(${name}, '%Y-%m-%d %H:%i:%S.%f')`;
  if (column.dataType === 'bit' && column.columnType === 'bit(1)') return `toString(toUInt8(${name}))`;
  return `toString(${name})`;
}

function normalise(column: ColumnInfo, value: unknown): unknown {
  if (value === null || value === undefined) return null;
  const text = String(value);
  switch (column.dataType) {
    case 'decimal':
      return text.includes('.') ? text.replace(/\.?0+$/, '') : text;
    case 'float':
      return Math.fround(Number(text));
    case 'double':
      return Number(text);
    case 'time': {
      // MySQL prints `-01:02:03.500000`; the mirror keeps `-01:02:03.5`.
      const negative = text.startsWith('-');
      const [clock = '', fraction = ''] = (negative ? text.slice(1) : text).split('.');
      const [h = 0, m = 0, s = 0] = clock.split(':').map(Number);
      const micros = ((h * 60 + m) * 60 + s) * 1e6 + Number(fraction.padEnd(6, '0'));
      return negative && micros !== 0 ? -micros : micros;
    }
    case 'json':
      return text;
    default:
      return text;
  }
}
