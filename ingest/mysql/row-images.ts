// Row images read where they lie in a rows event, without decoding them into values: how long each
// column's value is (to find the next image and compare keys), and the mirror's RowBinary written
// straight from those bytes. MySQL stores integers and doubles little-endian as RowBinary does, and
// text as length-prefixed UTF-8, so most values are copied; decimals and temporals are re-packed.
// Each value is written exactly as the envelope path (zongji's value, the table codec, the mirror
// row, RowBinary) would write it, or refused, and the change then lands through its envelope:
// row-images.integration.test.ts holds the two paths to the same bytes over every supported type.
import { isUtf8 } from 'node:buffer';
import type { ColumnInfo, TableMapEntry } from '@vlasky/zongji';
import { mirrorColumnType } from '../mirror/mirror-rows.ts';
import {
  decimalBytes,
  DOUBLE_DIGITS,
  FIRST_DAY,
  isCalendarDay,
  LAST_DAY,
  type PayloadWriter,
  type RawImage,
  type RawImageLayout,
  type WriteImage,
} from '../mirror/row-binary.ts';
import { CaptureError } from '../errors.ts';
import { civilToDays } from '../temporal.ts';
import type { MysqlTableCodec } from './table-codec.ts';

/** The binlog's column type codes this reader knows (MySQL's `enum_field_types`). */
const TYPE = {
  TINY: 1,
  SHORT: 2,
  LONG: 3,
  DOUBLE: 5,
  LONGLONG: 8,
  INT24: 9,
  DATE: 10,
  YEAR: 13,
  VARCHAR: 15,
  BIT: 16,
  TIMESTAMP2: 17,
  DATETIME2: 18,
  NEWDECIMAL: 246,
  ENUM: 247,
  SET: 248,
  BLOB: 252,
  STRING: 254,
} as const;

/** How a value is laid out, and so how it is measured and written. */
type Shape =
  | 'int'
  | 'double'
  | 'decimal'
  | 'text'
  | 'bytes'
  | 'date'
  | 'datetime'
  | 'timestamp'
  | 'year'
  | 'bit'
  | 'enum'
  | 'set';

interface ImageColumn {
  name: string;
  shape: Shape;
  /** A fixed-width value's bytes; a length-prefixed value's prefix bytes. */
  size: number;
  /** The length-prefixed shapes (`text`, `bytes`). */
  prefixed: boolean;
  unsigned: boolean;
  precision: number;
  scale: number;
  /** Fraction bytes of a temporal, and what one unit of them is in microseconds. */
  fractionBytes: number;
  fractionMicros: number;
  bits: number;
  /** ENUM and SET values, in their order. */
  choices: readonly string[];
}

/** Bytes of a packed DECIMAL's leading or trailing group of 0–9 digits. */
const DIGIT_GROUP_BYTES = [0, 1, 1, 2, 2, 3, 3, 4, 4, 4];
const UTF8_CHARSETS = new Set(['utf8mb4', 'utf8mb3', 'utf8']);

function column(info: ColumnInfo, shape: Shape, size: number, extra: Partial<ImageColumn> = {}): ImageColumn {
  return {
    name: info.name,
    shape,
    size,
    prefixed: shape === 'text' || shape === 'bytes',
    unsigned: false,
    precision: 0,
    scale: 0,
    fractionBytes: 0,
    fractionMicros: 0,
    bits: 0,
    choices: [],
    ...extra,
  };
}

function temporal(info: ColumnInfo, shape: Shape, size: number): ImageColumn {
  const decimals = Number(info.metadata.decimals ?? 0);
  const fractionBytes = Math.ceil(decimals / 2);
  // 1 byte holds hundredths, 2 ten-thousandths, 3 microseconds, whatever the declared precision.
  return column(info, shape, size + fractionBytes, {
    fractionBytes,
    fractionMicros: [0, 10_000, 100, 1][fractionBytes] ?? 0,
  });
}

/** How a table map's column is laid out, or undefined for a type this reader leaves to zongji. */
function imageColumn(
  info: ColumnInfo,
  schema: TableMapEntry['columnSchemas'][number],
): ImageColumn | undefined {
  const columnType = schema.COLUMN_TYPE.toLowerCase();
  const unsigned = schema.UNSIGNED ?? /\bunsigned\b/.test(columnType);
  const metadata = info.metadata;
  switch (info.type) {
    case TYPE.TINY:
      return column(info, 'int', 1, { unsigned });
    case TYPE.SHORT:
      return column(info, 'int', 2, { unsigned });
    case TYPE.INT24:
      return column(info, 'int', 3, { unsigned });
    case TYPE.LONG:
      return column(info, 'int', 4, { unsigned });
    case TYPE.LONGLONG:
      return column(info, 'int', 8, { unsigned });
    case TYPE.DOUBLE:
      return column(info, 'double', 8);
    case TYPE.NEWDECIMAL: {
      const precision = Number(metadata.precision);
      const scale = Number(metadata.decimals);
      const whole = precision - scale;
      const size =
        Math.floor(whole / 9) * 4 +
        (DIGIT_GROUP_BYTES[whole % 9] ?? 0) +
        Math.floor(scale / 9) * 4 +
        (DIGIT_GROUP_BYTES[scale % 9] ?? 0);
      return column(info, 'decimal', size, { precision, scale });
    }
    case TYPE.DATE:
      return column(info, 'date', 3);
    case TYPE.DATETIME2:
      return temporal(info, 'datetime', 5);
    case TYPE.TIMESTAMP2:
      return temporal(info, 'timestamp', 4);
    case TYPE.YEAR:
      return column(info, 'year', 1);
    case TYPE.BIT: {
      const bits = Number(metadata.bits);
      return column(info, 'bit', Math.ceil(bits / 8), { bits });
    }
    case TYPE.ENUM:
    case TYPE.SET: {
      const choices = info.type === TYPE.ENUM ? schema.ENUM_VALUES : schema.SET_VALUES;
      // Without the binlog's own value list zongji parses COLUMN_TYPE; that path stays zongji's.
      if (!choices) return undefined;
      return column(info, info.type === TYPE.ENUM ? 'enum' : 'set', Number(metadata.size), { choices });
    }
    case TYPE.VARCHAR:
    case TYPE.STRING: {
      const prefix = Number(metadata.max_length) > 255 ? 2 : 1;
      if (info.charset !== null)
        return UTF8_CHARSETS.has(info.charset) ? column(info, 'text', prefix) : undefined;
      // BINARY(n) is re-padded and UUID, INET and VECTOR are formatted by zongji: only VARBINARY is bytes as stored.
      return info.type === TYPE.VARCHAR && columnType.startsWith('varbinary')
        ? column(info, 'bytes', prefix)
        : undefined;
    }
    case TYPE.BLOB: {
      const prefix = Number(metadata.length_size);
      if (info.charset !== null)
        return UTF8_CHARSETS.has(info.charset) ? column(info, 'text', prefix) : undefined;
      return columnType.endsWith('blob') ? column(info, 'bytes', prefix) : undefined;
    }
    default:
      // FLOAT (the mirror's Float32 has no RowBinary path) and TIME (its mirror text is made from
      // the envelope's microseconds) leave their table to zongji, as do MySQL's binary JSON,
      // GEOMETRY, compressed columns and the pre-5.6 temporals.
      return undefined;
  }
}

/** An unsigned little-endian integer of 1–4 bytes. */
function littleEndian(bytes: Buffer, at: number, size: number): number {
  let value = 0;
  for (let index = size - 1; index >= 0; index--) value = value * 256 + (bytes[at + index] as number);
  return value;
}

/** An unsigned big-endian integer of 1–6 bytes. */
function bigEndian(bytes: Buffer, at: number, size: number): number {
  let value = 0;
  for (let index = 0; index < size; index++) value = value * 256 + (bytes[at + index] as number);
  return value;
}

/** Where the value starting at `at` ends. */
function valueEnd(bytes: Buffer, at: number, column: ImageColumn): number {
  return column.prefixed ? at + column.size + littleEndian(bytes, at, column.size) : at + column.size;
}

/** A table map's row images: where their values lie, and the mirror's RowBinary written from them. */
export class RowImageLayout implements RawImageLayout {
  /** Value offsets of the last image located, -1 for NULL (reused: everything here is synchronous). */
  private readonly starts: Int32Array;
  private readonly otherStarts: Int32Array;
  private readonly nullBytes: number;
  private readonly keyIndexes: number[];
  /** The present-columns bitmap of an image that holds every column: what the images are decoded with. */
  readonly everyColumn: Buffer;

  private constructor(
    readonly columns: readonly ImageColumn[],
    readonly codec: MysqlTableCodec,
  ) {
    this.starts = new Int32Array(columns.length);
    this.otherStarts = new Int32Array(columns.length);
    this.nullBytes = Math.ceil(columns.length / 8);
    this.keyIndexes = codec.sourceKey.map((name) => columns.findIndex((each) => each.name === name));
    this.everyColumn = Buffer.alloc(this.nullBytes);
    for (let index = 0; index < columns.length; index++)
      this.everyColumn[index >> 3] = (this.everyColumn[index >> 3] as number) | (1 << (index & 7));
  }

  /**
   * The layout of a table map's images decoded with `codec`, or undefined when a column's type is
   * one zongji alone reads, or the table has no key (its rows are named by their decoded values).
   */
  static of(tableMap: TableMapEntry, codec: MysqlTableCodec): RowImageLayout | undefined {
    const infos = tableMap.columns;
    if (!infos || codec.sourceKey.length === 0) return undefined;
    const columns: ImageColumn[] = [];
    for (const [index, info] of infos.entries()) {
      const schema = tableMap.columnSchemas[index];
      const layout = schema && imageColumn(info, schema);
      if (!layout) return undefined;
      columns.push(layout);
    }
    const layout = new RowImageLayout(columns, codec);
    return layout.keyIndexes.every((index) => index >= 0) ? layout : undefined;
  }

  /** Whether a rows event's present-columns bitmap holds every column (binlog_row_image=FULL). */
  holdsEveryColumn(bitmap: Buffer): boolean {
    for (let index = 0; index < this.columns.length; index++)
      if (((bitmap[index >> 3] as number) & (1 << (index & 7))) === 0) return false;
    return true;
  }

  /** Where the image starting at `at` ends; its value offsets are left in `starts`. */
  private locate(bytes: Buffer, at: number, starts: Int32Array): number {
    const nulls = at;
    let offset = at + this.nullBytes;
    for (let index = 0; index < this.columns.length; index++) {
      if (((bytes[nulls + (index >> 3)] as number) & (1 << (index & 7))) !== 0) {
        starts[index] = -1;
        continue;
      }
      starts[index] = offset;
      offset = valueEnd(bytes, offset, this.columns[index] as ImageColumn);
    }
    if (offset > bytes.length)
      throw new CaptureError(`a row image of ${this.codec.tableName} runs past the end of its rows event`);
    return offset;
  }

  /** Where the image starting at `at` ends. */
  imageEnd(bytes: Buffer, at: number): number {
    return this.locate(bytes, at, this.starts);
  }

  /**
   * An update's two images: where the after image starts, where it ends, and whether the key's
   * bytes are the same. Different bytes are a different key even where a collation would call the
   * texts equal, as the decoded values compare; a NULL in the key (a unique key whose column was
   * made nullable) counts as changed, and the decoded values decide.
   */
  update(bytes: Buffer, before: number): { after: number; end: number; sameKey: boolean } {
    const after = this.locate(bytes, before, this.otherStarts);
    const end = this.locate(bytes, after, this.starts);
    let sameKey = true;
    for (const index of this.keyIndexes) {
      const column = this.columns[index] as ImageColumn;
      const [oldAt, newAt] = [this.otherStarts[index] as number, this.starts[index] as number];
      if (oldAt < 0 || newAt < 0) return { after, end, sameKey: false };
      const length = valueEnd(bytes, oldAt, column) - oldAt;
      if (
        length !== valueEnd(bytes, newAt, column) - newAt ||
        bytes.compare(bytes, newAt, newAt + length, oldAt, oldAt + length) !== 0
      ) {
        sameKey = false;
        break;
      }
    }
    return { after, end, sameKey };
  }

  rowBinaryWriter(mirrorColumns: readonly { name: string; type: string }[]): WriteImage | undefined {
    const codecColumns = new Map(this.codec.table.columns.map((each) => [each.name, each]));
    const key = new Set(this.codec.table.key);
    // Per mirror column: the image column it is written from (-1: NULL, a column of an older shape).
    const plan: { index: number; nullable: boolean; write: WriteValue | undefined }[] = [];
    for (const mirrorColumn of mirrorColumns) {
      const nullable = mirrorColumn.type.startsWith('Nullable(');
      const index = this.columns.findIndex((each) => each.name === mirrorColumn.name);
      const source = codecColumns.get(mirrorColumn.name);
      if (index < 0 || !source) {
        // Not in this shape, or left out of it as a secret: NULL, as the decoded row leaves it.
        if (!nullable || codecColumns.has(mirrorColumn.name)) return undefined;
        plan.push({ index: -1, nullable, write: undefined });
        continue;
      }
      // Only values the codec passes on as they are, into the type this shape's mirror column has.
      if (this.codec.hashed.has(mirrorColumn.name)) return undefined;
      if (mirrorColumn.type !== mirrorColumnType(source, key.has(source.name))) return undefined;
      const write = valueWriter(this.columns[index] as ImageColumn, source.clickhouseType, source.encoding);
      if (!write) return undefined;
      plan.push({ index, nullable, write });
    }
    const starts = this.starts;
    return (image, writer) => {
      const { bytes, at } = image as RowImage;
      this.locate(bytes, at, starts);
      for (const { index, nullable, write } of plan) {
        const start = index < 0 ? -1 : (starts[index] as number);
        if (start < 0 || !write) {
          if (!nullable) return false;
          writer.byte(1);
          continue;
        }
        if (nullable) writer.byte(0);
        if (!write(bytes, start, writer)) return false;
      }
      return true;
    };
  }
}

/** A change's row image: where it lies, in which layout. */
export interface RowImage extends RawImage {
  readonly layout: RowImageLayout;
  readonly bytes: Buffer;
  readonly at: number;
}

/** Writes the value at `at`; false when it is not one this path writes exactly as the envelope's. */
type WriteValue = (bytes: Buffer, at: number, writer: PayloadWriter) => boolean;

/** The writer of a column's values into the mirror type its codec gives it, when there is one. */
function valueWriter(column: ImageColumn, clickhouseType: string, encoding: string): WriteValue | undefined {
  switch (column.shape) {
    case 'int': {
      const expected = { 1: 'Int8', 2: 'Int16', 3: 'Int32', 4: 'Int32', 8: 'Int64' }[column.size];
      if (clickhouseType !== (column.unsigned ? `U${expected}` : expected)) return undefined;
      return column.size === 3 ? int24(column.unsigned) : copy(column.size);
    }
    case 'double':
      return clickhouseType === 'Float64' ? copy(8) : undefined;
    case 'decimal':
      return clickhouseType === `Decimal(${column.precision}, ${column.scale})` ? decimal(column) : undefined;
    case 'text':
      return clickhouseType === 'String' ? text(column.size) : undefined;
    case 'bytes':
      return clickhouseType === 'String' ? base64(column.size) : undefined;
    case 'date':
      return encoding === 'date-days' ? date : undefined;
    case 'datetime':
      return encoding === 'timestamp-micros' || encoding === 'timestamp-millis'
        ? dateTime(column)
        : undefined;
    case 'timestamp':
      return encoding === 'zoned-timestamp' ? timestamp(column) : undefined;
    case 'year':
      return clickhouseType === 'UInt16' ? year : undefined;
    case 'bit':
      if (column.bits === 1) return clickhouseType === 'Bool' ? bit : undefined;
      return encoding === 'bits' ? bits(column.size) : undefined;
    case 'enum':
      return clickhouseType === 'String' ? choice(column) : undefined;
    case 'set':
      return clickhouseType === 'String' ? choices(column) : undefined;
  }
}

/** Little-endian bytes the mirror type holds the same way: copied. */
function copy(size: number): WriteValue {
  return (bytes, at, writer) => {
    writer.reserve(size);
    for (let index = 0; index < size; index++) writer.buffer[writer.at + index] = bytes[at + index] as number;
    writer.at += size;
    return true;
  };
}

/** MEDIUMINT's three bytes as an Int32/UInt32: the fourth byte extends the sign. */
function int24(unsigned: boolean): WriteValue {
  return (bytes, at, writer) => {
    const high = bytes[at + 2] as number;
    writer.reserve(4);
    const out = writer.buffer;
    out[writer.at] = bytes[at] as number;
    out[writer.at + 1] = bytes[at + 1] as number;
    out[writer.at + 2] = high;
    out[writer.at + 3] = !unsigned && high >= 0x80 ? 0xff : 0;
    writer.at += 4;
    return true;
  };
}

const text =
  (prefix: number): WriteValue =>
  (bytes, at, writer) => {
    const length = littleEndian(bytes, at, prefix);
    const start = at + prefix;
    const end = start + length;
    let ascii = true;
    for (let index = start; index < end; index++)
      if ((bytes[index] as number) >= 0x80) {
        ascii = false;
        break;
      }
    // zongji would decode invalid UTF-8 into replacement characters: those rows take that path.
    if (!ascii && !isUtf8(bytes.subarray(start, end))) return false;
    writer.varUInt(length);
    writer.reserve(length);
    if (length < 64)
      for (let index = start; index < end; index++) writer.buffer[writer.at++] = bytes[index] as number;
    else writer.at += bytes.copy(writer.buffer, writer.at, start, end);
    return true;
  };

/** Binary strings as base64 text, as the codec sends them (Debezium's binary.handling.mode). */
const base64 =
  (prefix: number): WriteValue =>
  (bytes, at, writer) => {
    const start = at + prefix;
    writer.string(bytes.toString('base64', start, start + littleEndian(bytes, at, prefix)));
    return true;
  };

/** A calendar day's number, or undefined for a zero date, one past its month's end, or one Date32 does not hold. */
function dayNumber(year: number, month: number, day: number): number | undefined {
  if (year === 0 || !isCalendarDay(year, month, day)) return undefined;
  const days = civilToDays(year, month, day);
  return days >= FIRST_DAY && days <= LAST_DAY ? days : undefined;
}

/** DATE: day, month and year in 5, 4 and 15 bits of a little-endian 3-byte number. */
const date: WriteValue = (bytes, at, writer) => {
  const packed = littleEndian(bytes, at, 3);
  const days = dayNumber(packed >> 9, (packed >> 5) & 15, packed & 31);
  if (days === undefined) return false;
  writer.int32(days);
  return true;
};

/** The fraction after a temporal's packed part, in microseconds. */
function fraction(bytes: Buffer, at: number, column: ImageColumn): number {
  return column.fractionBytes === 0 ? 0 : bigEndian(bytes, at, column.fractionBytes) * column.fractionMicros;
}

/** Microseconds as DateTime64(6): only those the envelope's path holds exactly too. */
function microseconds(writer: PayloadWriter, micros: number): boolean {
  if (!Number.isSafeInteger(micros)) return false;
  writer.integer(micros, 8);
  return true;
}

/**
 * DATETIME(n): a 40-bit big-endian number, sign bit set, then year × 13 + month (17 bits), day
 * (5), hour (5), minute (6) and second (6); then the fraction. A wall-clock time read as UTC.
 */
function dateTime(column: ImageColumn): WriteValue {
  return (bytes, at, writer) => {
    const packed = bigEndian(bytes, at, 5) - 2 ** 39;
    if (packed < 0) return false;
    const yearMonth = Math.floor(packed / 2 ** 22);
    const days = dayNumber(Math.floor(yearMonth / 13), yearMonth % 13, Math.floor(packed / 2 ** 17) % 32);
    const time = packed % 2 ** 17;
    const [hours, minutes, seconds] = [time >> 12, (time >> 6) & 63, time & 63];
    if (days === undefined || hours > 23 || minutes > 59 || seconds > 59) return false;
    const wholeSeconds = days * 86_400 + hours * 3_600 + minutes * 60 + seconds;
    return microseconds(writer, wholeSeconds * 1_000_000 + fraction(bytes, at + 5, column));
  };
}

/** TIMESTAMP(n): big-endian seconds since 1970 (0 is the zero timestamp), then the fraction. */
function timestamp(column: ImageColumn): WriteValue {
  return (bytes, at, writer) => {
    const seconds = bigEndian(bytes, at, 4);
    if (seconds === 0 || seconds >= 2 ** 31) return false;
    return microseconds(writer, seconds * 1_000_000 + fraction(bytes, at + 4, column));
  };
}

/** YEAR: one byte above 1900, as zongji reads it (UInt16). */
const year: WriteValue = (bytes, at, writer) => {
  const value = 1900 + (bytes[at] as number);
  writer.reserve(2);
  writer.buffer[writer.at] = value & 0xff;
  writer.buffer[writer.at + 1] = value >> 8;
  writer.at += 2;
  return true;
};

const bit: WriteValue = (bytes, at, writer) => {
  writer.byte(bytes[at] === 0 ? 0 : 1);
  return true;
};

/** BIT(n): big-endian bytes, as the UInt64 they spell. */
function bits(size: number): WriteValue {
  return (bytes, at, writer) => {
    writer.reserve(8);
    for (let index = 0; index < 8; index++)
      writer.buffer[writer.at + index] = index < size ? (bytes[at + size - 1 - index] as number) : 0;
    writer.at += 8;
    return true;
  };
}

/** ENUM: the value's 1-based place in the list; 0 (the empty error value) goes as the envelope does. */
function choice(column: ImageColumn): WriteValue {
  return (bytes, at, writer) => {
    const value = column.choices[littleEndian(bytes, at, column.size) - 1];
    if (value === undefined) return false;
    writer.string(value);
    return true;
  };
}

/** SET: one bit per value in the list's order, written as the values joined by commas. */
function choices(column: ImageColumn): WriteValue {
  return (bytes, at, writer) => {
    const names: string[] = [];
    for (let index = 0; index < column.size * 8; index++)
      if (((bytes[at + (index >> 3)] as number) & (1 << (index & 7))) !== 0) {
        const name = column.choices[index];
        if (name === undefined) return false;
        names.push(name);
      }
    writer.string(names.join(','));
    return true;
  };
}

/**
 * DECIMAL(p, s): groups of 9 digits in 4 big-endian bytes (a shorter group first and last), the
 * sign bit flipped, every bit of a negative number inverted. Written as the scaled integer in the
 * width ClickHouse gives the precision.
 */
function decimal(column: ImageColumn): WriteValue {
  const { precision, scale } = column;
  const whole = precision - scale;
  // Group widths in digits, from the most significant on; each adds its digits below the last ones.
  const groups = [
    ...(whole % 9 > 0 ? [whole % 9] : []),
    ...Array<number>(Math.floor(whole / 9)).fill(9),
    ...Array<number>(Math.floor(scale / 9)).fill(9),
    ...(scale % 9 > 0 ? [scale % 9] : []),
  ];
  const width = decimalBytes(precision);
  const exact = precision <= DOUBLE_DIGITS;
  return (bytes, at, writer) => {
    const negative = ((bytes[at] as number) & 0x80) === 0;
    const mask = negative ? 0xff : 0;
    let offset = at;
    let number = 0;
    let big = 0n;
    for (const digits of groups) {
      const size = DIGIT_GROUP_BYTES[digits] as number;
      let group = 0;
      for (let index = 0; index < size; index++) {
        let byte = ((bytes[offset + index] as number) ^ mask) & 0xff;
        if (offset + index === at) byte ^= 0x80;
        group = group * 256 + byte;
      }
      offset += size;
      if (exact) number = number * 10 ** digits + group;
      else big = big * 10n ** BigInt(digits) + BigInt(group);
    }
    if (exact) {
      const value = negative ? -number : number;
      if (width === 4) writer.int32(value);
      else writer.integer(value, width);
    } else writer.bigInteger(negative ? -big : big, width);
    return true;
  };
}
