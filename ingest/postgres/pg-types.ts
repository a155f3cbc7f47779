// Maps Postgres column types to (a) the Debezium envelope encoding of their text values and (b) the
// ClickHouse type of the mirror column. Unknown types are kept as text, with one warning each.
import { parse as parsePgArray } from 'postgres-array';
import type { SourceColumn, ValueEncoding } from '../source-table.ts';
import { pgDateToDays, pgTimeToMicros, pgTimestampToMicros, pgTimestamptzToIso } from '../temporal.ts';

/** What the catalog tells about a column's type (pg_type, plus the column's typmod). */
export interface PgTypeInfo {
  name: string;
  /** pg_type.typcategory: 'A' array, 'E' enum, … */
  category: string;
  /** For arrays, the element type's name. */
  elementName?: string;
  typmod: number;
}

export interface ColumnCodec {
  column: Omit<SourceColumn, 'name'>;
  /** Postgres text output → envelope value (never called for NULL). */
  decode: (text: string) => unknown;
}

interface ScalarCodec {
  clickhouseType: string;
  encoding: ValueEncoding;
  decode: (text: string) => unknown;
}

const asText = (text: string): string => text;
const asNumber = (text: string): number => Number(text);
/** int8 beyond 2^53 stays a string so it is exact; ClickHouse parses both. */
const asInt64 = (text: string): number | string => {
  const value = Number(text);
  return Number.isSafeInteger(value) ? value : text;
};
const asFloat = (text: string): number | string => {
  const value = Number(text);
  return Number.isFinite(value) ? value : text.toLowerCase().replace('infinity', 'inf');
};
const asBoolean = (text: string): boolean => text === 't';
const asBase64 = (text: string): string => Buffer.from(text.slice(2), 'hex').toString('base64');

const plain = (clickhouseType: string, decode: (text: string) => unknown = asText): ScalarCodec => ({
  clickhouseType,
  encoding: 'plain',
  decode,
});

const SCALARS: Record<string, ScalarCodec> = {
  bool: plain('Bool', asBoolean),
  int2: plain('Int16', asNumber),
  int4: plain('Int32', asNumber),
  int8: plain('Int64', asInt64),
  oid: plain('UInt32', asNumber),
  float4: plain('Float32', asFloat),
  float8: plain('Float64', asFloat),
  text: plain('String'),
  varchar: plain('String'),
  bpchar: plain('String'),
  name: plain('String'),
  citext: plain('String'),
  uuid: plain('UUID'),
  json: plain('String'),
  jsonb: plain('String'),
  inet: plain('String'),
  cidr: plain('String'),
  macaddr: plain('String'),
  tsvector: plain('String'),
  interval: plain('String'),
  timetz: plain('String'),
  money: plain('String'),
  xml: plain('String'),
  bytea: plain('String', asBase64),
  date: { clickhouseType: 'Date32', encoding: 'date-days', decode: pgDateToDays },
  time: { clickhouseType: 'String', encoding: 'time-micros', decode: pgTimeToMicros },
  timestamp: {
    clickhouseType: "DateTime64(6, 'UTC')",
    encoding: 'timestamp-micros',
    decode: pgTimestampToMicros,
  },
  timestamptz: {
    clickhouseType: "DateTime64(6, 'UTC')",
    encoding: 'zoned-timestamp',
    decode: pgTimestamptzToIso,
  },
};

/** numeric(p,s) fits ClickHouse's Decimal up to 76 digits; unconstrained numeric stays exact as text. */
function numericCodec(typmod: number): ScalarCodec {
  if (typmod < 4) return plain('String');
  const precision = ((typmod - 4) >> 16) & 0xffff;
  const scale = (typmod - 4) & 0xffff;
  return precision <= 76 ? plain(`Decimal(${precision}, ${scale})`) : plain('String');
}

export type UnknownTypeListener = (typeName: string) => void;

export function codecForType(type: PgTypeInfo, onUnknownType: UnknownTypeListener): ColumnCodec {
  if (type.category === 'A' && type.elementName) {
    const element = scalarCodec(type.elementName, type.typmod, 'E', onUnknownType);
    return {
      column: {
        clickhouseType: element.clickhouseType,
        encoding: element.encoding,
        isArray: true,
        sourceType: type.name,
      },
      decode: (text) => parsePgArray(text, (item) => (item === null ? null : element.decode(item))),
    };
  }
  const scalar = scalarCodec(type.name, type.typmod, type.category, onUnknownType);
  return {
    column: {
      clickhouseType: scalar.clickhouseType,
      encoding: scalar.encoding,
      isArray: false,
      sourceType: type.name,
    },
    decode: scalar.decode,
  };
}

function scalarCodec(
  name: string,
  typmod: number,
  category: string,
  onUnknownType: UnknownTypeListener,
): ScalarCodec {
  if (name === 'numeric') return numericCodec(typmod);
  const known = SCALARS[name];
  if (known) return known;
  // Enums are text by nature; anything else unknown is kept as its text form, never dropped.
  if (category !== 'E') onUnknownType(name);
  return plain('String');
}
