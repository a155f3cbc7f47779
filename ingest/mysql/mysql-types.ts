// Maps MySQL/MariaDB column types to (a) the envelope encoding of their values, as Debezium's MySQL
// connector encodes them, and (b) the ClickHouse type of the mirror column. A column is described
// by its COLUMN_TYPE text (`bigint(20) unsigned`, `decimal(12,2)`, `enum('a','b')`), which both the
// catalog (information_schema) and the binary log's table map (binlog_row_metadata=FULL) give, so
// the snapshot and the stream decode through the same codec. Values come from mysql2 queries
// (`dateStrings`, big numbers as strings) or from the binlog decoder (the same conventions).
import type { SourceColumn, ValueEncoding } from '../source-table.ts';
import { microsToTimestamp, pgDateToDays, pgTimestampToMicros } from '../temporal.ts';

export interface MysqlColumnType {
  /** COLUMN_TYPE as information_schema prints it. */
  columnType: string;
  /** CHARACTER_SET_NAME: null for binary strings and non-string types. */
  charset: string | null;
}

export interface MysqlColumnCodec {
  column: Omit<SourceColumn, 'name'>;
  /** A non-NULL value as the driver or the binlog decoder gives it → the envelope value. */
  decode: (value: unknown) => unknown;
}

export type UnknownTypeListener = (typeName: string) => void;

const INTEGER_TYPES: Record<string, [signed: string, unsigned: string]> = {
  tinyint: ['Int8', 'UInt8'],
  smallint: ['Int16', 'UInt16'],
  mediumint: ['Int32', 'UInt32'],
  int: ['Int32', 'UInt32'],
  integer: ['Int32', 'UInt32'],
  bigint: ['Int64', 'UInt64'],
};

const TEXT_TYPES = new Set(['char', 'varchar', 'tinytext', 'text', 'mediumtext', 'longtext', 'json']);
const BINARY_TYPES = new Set(['binary', 'varbinary', 'tinyblob', 'blob', 'mediumblob', 'longblob']);
const GEOMETRY_TYPES = new Set([
  'geometry',
  'point',
  'linestring',
  'polygon',
  'multipoint',
  'multilinestring',
  'multipolygon',
  'geometrycollection',
  'geomcollection',
]);

const plain = (clickhouseType: string, sourceType: string, decode: (value: unknown) => unknown) => ({
  column: { clickhouseType, encoding: 'plain' as ValueEncoding, isArray: false, sourceType },
  decode,
});

/** Integers beyond 2^53 stay exact as text (the decoders give them as text already). */
function asInteger(value: unknown): number | string {
  if (typeof value === 'number') return value;
  if (typeof value === 'bigint') return Number.isSafeInteger(Number(value)) ? Number(value) : String(value);
  const number = Number(value);
  return Number.isSafeInteger(number) ? number : String(value);
}

function asText(value: unknown): string {
  return Buffer.isBuffer(value) ? value.toString('utf8') : String(value);
}

/** Binary strings as base64, Debezium's `binary.handling.mode=base64`. */
function asBase64(value: unknown): string {
  return Buffer.isBuffer(value)
    ? value.toString('base64')
    : Buffer.from(String(value), 'utf8').toString('base64');
}

/** BIT(n) arrives as big-endian bytes (or a number). */
function bitsOf(value: unknown): bigint {
  if (typeof value === 'number' || typeof value === 'bigint') return BigInt(value);
  const bytes = Buffer.isBuffer(value) ? value : Buffer.from(String(value), 'binary');
  let result = 0n;
  for (const byte of bytes) result = (result << 8n) | BigInt(byte);
  return result;
}

/** Every one-byte `Bits` value in base64: BIT(1–8) columns take theirs from here. */
const ONE_BYTE_BASE64 = Array.from({ length: 256 }, (_, byte) => Buffer.from([byte]).toString('base64'));

/** BIT(n) as Debezium's `Bits`: ceil(n / 8) little-endian bytes, base64. */
function bitsToDebezium(value: unknown, bits: number): string {
  // The binlog decoder gives the big-endian bytes: one byte needs no arithmetic.
  if (bits <= 8 && Buffer.isBuffer(value) && value.length === 1)
    return ONE_BYTE_BASE64[value[0] as number] as string;
  let rest = bitsOf(value);
  const bytes = Buffer.alloc(Math.ceil(bits / 8));
  for (let index = 0; index < bytes.length; index++) {
    bytes[index] = Number(rest & 0xffn);
    rest >>= 8n;
  }
  return bytes.toString('base64');
}

/** MySQL's zero dates (`0000-00-00`, or a zero month or day) have no calendar day: NULL, as Debezium. */
function isZeroDate(text: string): boolean {
  return text.startsWith('0000-') || isDoubleZero(text, 5) || isDoubleZero(text, 8);
}

const isDoubleZero = (text: string, at: number) =>
  text.charCodeAt(at) === 48 && text.charCodeAt(at + 1) === 48;

/** `[-]HHH:MM:SS[.ffffff]` → signed microseconds (Debezium `MicroTime`; TIME spans ±838 hours). */
export function mysqlTimeToMicros(text: string): number {
  const negative = text.startsWith('-');
  const [clock = '', fraction = ''] = (negative ? text.slice(1) : text).split('.');
  const [hours = 0, minutes = 0, seconds = 0] = clock.split(':').map(Number);
  const micros =
    ((hours * 60 + minutes) * 60 + seconds) * 1_000_000 + Number(fraction.padEnd(6, '0').slice(0, 6));
  return negative ? -micros : micros;
}

/** `YYYY-MM-DD HH:MM:SS[.f]` read as UTC → `YYYY-MM-DDTHH:MM:SS.ffffffZ` (Debezium `ZonedTimestamp`). */
function timestampToIso(text: string): string {
  // Both decoders print a TIMESTAMP (1970–2038, a real calendar day) in this very shape: rearranged
  // as text, with no date arithmetic; anything else goes through the calendar.
  if (/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d{1,6})?$/.test(text))
    return `${text.slice(0, 10)}T${text.slice(11, 19)}.${text.slice(20).padEnd(6, '0')}Z`;
  return `${microsToTimestamp(pgTimestampToMicros(text)).replace(' ', 'T')}Z`;
}

function baseName(columnType: string): string {
  return /^[a-z]+/.exec(columnType.toLowerCase())?.[0] ?? columnType;
}

function parenthesised(columnType: string): string[] {
  const inside = /\(([^)]*)\)/.exec(columnType)?.[1];
  return inside === undefined ? [] : inside.split(',').map((part) => part.trim());
}

export function codecForMysqlType(
  type: MysqlColumnType,
  onUnknownType: UnknownTypeListener,
): MysqlColumnCodec {
  const columnType = type.columnType
    .toLowerCase()
    .replace(/\/\*.*?\*\//g, '')
    .trim();
  const base = baseName(columnType);
  const unsigned = /\bunsigned\b/.test(columnType);
  const integer = INTEGER_TYPES[base];
  if (integer) return plain(integer[unsigned ? 1 : 0], columnType, asInteger);
  if (base === 'decimal' || base === 'numeric' || base === 'dec' || base === 'fixed') {
    const [precision = '10', scale = '0'] = parenthesised(columnType);
    // Exact: the decoders give decimals as text, and ClickHouse parses text into Decimal.
    return plain(`Decimal(${precision}, ${scale})`, columnType, asText);
  }
  if (base === 'float') return plain('Float32', columnType, (value) => Number(value));
  if (base === 'double' || base === 'real') return plain('Float64', columnType, (value) => Number(value));
  if (base === 'bit') {
    const [bits = '1'] = parenthesised(columnType);
    if (bits === '1') return plain('Bool', columnType, (value) => bitsOf(value) !== 0n);
    // The mirror keeps the number; the envelope carries Debezium's bytes, which the mirror writer reads.
    return {
      column: { clickhouseType: 'UInt64', encoding: 'bits', isArray: false, sourceType: columnType },
      decode: (value) => bitsToDebezium(value, Number(bits)),
    };
  }
  if (base === 'year') return plain('UInt16', columnType, (value) => Number(value));
  if (base === 'enum' || base === 'set') return plain('String', columnType, asText);
  if (TEXT_TYPES.has(base)) {
    // A text type declared with a binary charset holds bytes.
    return type.charset === null && base !== 'json'
      ? plain('String', columnType, asBase64)
      : plain('String', columnType, asText);
  }
  if (BINARY_TYPES.has(base)) return plain('String', columnType, asBase64);
  if (base === 'date')
    return {
      column: { clickhouseType: 'Date32', encoding: 'date-days', isArray: false, sourceType: columnType },
      decode: (value) => {
        const text = asText(value);
        return isZeroDate(text) ? null : pgDateToDays(text.slice(0, 10));
      },
    };
  if (base === 'datetime') {
    // No zone: the wall-clock time as if UTC. Debezium's adaptive precision sends DATETIME(0–3) as
    // milliseconds (`Timestamp`) and DATETIME(4–6) as microseconds (`MicroTimestamp`).
    const millis = Number(parenthesised(columnType)[0] ?? '0') <= 3;
    return {
      column: {
        clickhouseType: "DateTime64(6, 'UTC')",
        encoding: millis ? 'timestamp-millis' : 'timestamp-micros',
        isArray: false,
        sourceType: columnType,
      },
      decode: (value) => {
        const text = asText(value);
        if (isZeroDate(text)) return null;
        const micros = pgTimestampToMicros(text);
        return millis ? Math.floor(micros / 1000) : micros;
      },
    };
  }
  if (base === 'timestamp')
    return {
      // An instant, read in UTC by both decoders (session and decoder time zone +00:00).
      column: {
        clickhouseType: "DateTime64(6, 'UTC')",
        encoding: 'zoned-timestamp',
        isArray: false,
        sourceType: columnType,
      },
      decode: (value) => {
        const text = asText(value);
        return isZeroDate(text) ? null : timestampToIso(text);
      },
    };
  if (base === 'time')
    return {
      column: { clickhouseType: 'String', encoding: 'time-micros', isArray: false, sourceType: columnType },
      decode: (value) => mysqlTimeToMicros(asText(value)),
    };
  if (GEOMETRY_TYPES.has(base)) {
    onUnknownType(base);
    return plain('String', columnType, asBase64);
  }
  // UUID, INET4/6 (MariaDB) and anything newer: kept as text, never dropped.
  onUnknownType(base);
  return plain('String', columnType, (value) =>
    Buffer.isBuffer(value) ? value.toString('hex') : String(value),
  );
}
