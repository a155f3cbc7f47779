// Mirror rows as RowBinary: each value written as its column type's own bytes, so JavaScript builds
// no JSON text and the engine parses none. Only values whose bytes are certain to be what the engine
// would store from the JSON line are written; anything else (an unusual shape, a value out of the
// type's range) makes the batch go as JSON lines, where the engine decides as before.
import type { Row, SourceVersion } from '../envelope.ts';
import { digitsAt } from '../temporal.ts';

/** Bytes of a payload, grown as rows are written. */
export class PayloadWriter {
  buffer: Buffer;
  at = 0;

  constructor(size: number) {
    this.buffer = Buffer.allocUnsafe(size);
  }

  reserve(bytes: number): void {
    if (this.at + bytes <= this.buffer.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.buffer.length * 2, this.at + bytes));
    this.buffer.copy(grown, 0, 0, this.at);
    this.buffer = grown;
  }

  byte(value: number): void {
    this.reserve(1);
    this.buffer[this.at++] = value;
  }

  varUInt(value: number): void {
    this.reserve(5);
    while (value >= 0x80) {
      this.buffer[this.at++] = (value & 0x7f) | 0x80;
      value >>>= 7;
    }
    this.buffer[this.at++] = value;
  }

  /** A safe integer as the low `bytes` (8, 16 or 32) of its two's complement, little-endian. */
  integer(value: number, bytes: number): void {
    this.reserve(bytes);
    const buffer = this.buffer;
    const at = this.at;
    const high = Math.floor(value / 4294967296);
    const low = value - high * 4294967296;
    buffer[at] = low;
    buffer[at + 1] = low >>> 8;
    buffer[at + 2] = low >>> 16;
    buffer[at + 3] = low >>> 24;
    buffer[at + 4] = high;
    buffer[at + 5] = high >> 8;
    buffer[at + 6] = high >> 16;
    buffer[at + 7] = high >> 24;
    for (let index = 8; index < bytes; index++) buffer[at + index] = high < 0 ? 0xff : 0;
    this.at = at + bytes;
  }

  int32(value: number): void {
    this.reserve(4);
    const buffer = this.buffer;
    const at = this.at;
    buffer[at] = value;
    buffer[at + 1] = value >> 8;
    buffer[at + 2] = value >> 16;
    buffer[at + 3] = value >> 24;
    this.at = at + 4;
  }

  /** A bigint as the low `bytes` (8, 16 or 32) of its two's complement, little-endian. */
  bigInteger(value: bigint, bytes: number): void {
    this.reserve(bytes);
    for (let offset = 0; offset < bytes; offset += 8) {
      this.buffer.writeBigUInt64LE(BigInt.asUintN(64, value), this.at + offset);
      value >>= 64n;
    }
    this.at += bytes;
  }

  string(value: string): void {
    const length = value.length;
    // Short ASCII text byte by byte: a native write costs more per call than these loops.
    if (length < 128) {
      this.reserve(1 + length);
      const buffer = this.buffer;
      let at = this.at + 1;
      for (let index = 0; index < length; index++) {
        const code = value.charCodeAt(index);
        if (code >= 0x80) {
          at = -1;
          break;
        }
        buffer[at++] = code;
      }
      if (at >= 0) {
        buffer[this.at] = length;
        this.at = at;
        return;
      }
    }
    const bytes = Buffer.byteLength(value);
    this.varUInt(bytes);
    this.reserve(bytes);
    this.at += this.buffer.write(value, this.at);
  }
}

/** Writes a present value; false when it is not in a shape this encoder writes exactly. */
type WriteValue = (writer: PayloadWriter, value: unknown) => boolean;

const INTEGER_RANGES: Record<string, [bytes: number, min: number, max: number]> = {
  Int8: [1, -128, 127],
  UInt8: [1, 0, 255],
  Int16: [2, -32768, 32767],
  UInt16: [2, 0, 65535],
  Int32: [4, -2147483648, 2147483647],
  UInt32: [4, 0, 4294967295],
};

function smallInteger(bytes: number, min: number, max: number): WriteValue {
  return (writer, value) => {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) return false;
    writer.reserve(bytes);
    for (let index = 0; index < bytes; index++) writer.buffer[writer.at + index] = value >> (index * 8);
    writer.at += bytes;
    return true;
  };
}

const DIGITS = /^-?\d{1,20}$/;

function int64(signed: boolean): WriteValue {
  const [min, max] = signed ? [-(2n ** 63n), 2n ** 63n - 1n] : [0n, 2n ** 64n - 1n];
  return (writer, value) => {
    if (typeof value === 'number') {
      if (!Number.isSafeInteger(value) || (!signed && value < 0)) return false;
      writer.integer(value, 8);
      return true;
    }
    // Beyond 2^53 the codecs give integers as their digits (or a bigint).
    let exact: bigint;
    if (typeof value === 'bigint') exact = value;
    else if (typeof value === 'string' && DIGITS.test(value)) exact = BigInt(value);
    else return false;
    if (exact < min || exact > max) return false;
    writer.bigInteger(exact, 8);
    return true;
  };
}

const FLOAT_TEXTS: Record<string, number> = { inf: Infinity, '-inf': -Infinity, nan: NaN };

/** Float64 only: a Float32 read from the JSON line's decimal text may round differently from the double's. */
const float64: WriteValue = (writer, value) => {
  // A NaN or infinite number is `null` in a JSON line: only the codecs' texts stand for those.
  const number =
    typeof value === 'number'
      ? Number.isFinite(value)
        ? value
        : undefined
      : typeof value === 'string'
        ? FLOAT_TEXTS[value]
        : undefined;
  if (number === undefined) return false;
  writer.reserve(8);
  writer.buffer.writeDoubleLE(number, writer.at);
  writer.at += 8;
  return true;
};

const bool: WriteValue = (writer, value) => {
  if (typeof value !== 'boolean') return false;
  writer.byte(value ? 1 : 0);
  return true;
};

/** ES2024's `String.prototype.isWellFormed` (in every Node the project runs on; its lib is ES2023). */
const isWellFormed = (text: string): boolean =>
  (text as unknown as { isWellFormed(): boolean }).isWellFormed();

const string: WriteValue = (writer, value) => {
  // A lone surrogate has no UTF-8 form: the engine decides what the JSON line's escape becomes.
  if (typeof value !== 'string' || !isWellFormed(value)) return false;
  writer.string(value);
  return true;
};

/** Hex digits' values by character code, -1 for anything else. */
const HEX = new Int8Array(128).fill(-1);
for (const [first, last, value] of [
  ['0', '9', 0],
  ['a', 'f', 10],
  ['A', 'F', 10],
] as const)
  for (let code = first.charCodeAt(0); code <= last.charCodeAt(0); code++)
    HEX[code] = value + code - first.charCodeAt(0);

/** Where each of a UUID's 16 bytes starts in its text. */
const UUID_BYTES = [0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34];

/** A UUID is two UInt64s, the text's first 8 bytes as the first, each little-endian. */
const uuid: WriteValue = (writer, value) => {
  if (typeof value !== 'string' || value.length !== 36) return false;
  if (value[8] !== '-' || value[13] !== '-' || value[18] !== '-' || value[23] !== '-') return false;
  writer.reserve(16);
  for (let index = 0; index < 16; index++) {
    const at = UUID_BYTES[index] as number;
    const high = HEX[value.charCodeAt(at)] ?? -1;
    const low = HEX[value.charCodeAt(at + 1)] ?? -1;
    if (high < 0 || low < 0) return false;
    writer.buffer[writer.at + (index < 8 ? 7 - index : 23 - index)] = high * 16 + low;
  }
  writer.at += 16;
  return true;
};

const DECIMAL_TEXT = /^(-?)(\d+)(?:\.(\d+))?$/;

/** The bytes of Decimal(P, S)'s scaled integer: Decimal32, 64, 128 or 256 by its precision. */
export function decimalBytes(precision: number): number {
  return precision <= 9 ? 4 : precision <= 18 ? 8 : precision <= 38 ? 16 : 32;
}

/** Scaled integers of up to this many digits are exact as doubles (below 2^53); longer ones go as bigints. */
export const DOUBLE_DIGITS = 15;

/** Decimal(P, S) as its scaled integer: the text's digits exactly, never through a double. */
function decimal(precision: number, scale: number): WriteValue {
  const bytes = decimalBytes(precision);
  return (writer, value) => {
    // A number is written as the JSON line writes it; an exponent form is left to the engine.
    const text = typeof value === 'string' ? value : typeof value === 'number' ? String(value) : undefined;
    const parts = text === undefined ? null : DECIMAL_TEXT.exec(text);
    if (!parts) return false;
    const [, sign, whole = '', fraction = ''] = parts;
    const integerDigits = whole.replace(/^0+/, '');
    // More digits than the type holds: the engine's rounding or refusal, not ours.
    if (fraction.length > scale || integerDigits.length > precision - scale) return false;
    const digits = `${integerDigits}${fraction.padEnd(scale, '0')}`;
    if (digits.length <= DOUBLE_DIGITS) {
      const scaled = Number(digits);
      if (bytes === 4) writer.int32(sign ? -scaled : scaled);
      else writer.integer(sign ? -scaled : scaled, bytes);
    } else writer.bigInteger(BigInt(`${sign}${digits}`), bytes);
    return true;
  };
}

/** Date32 and DateTime64 hold 1900-01-01 to 2299-12-31: the engine's own answer decides beyond. */
export const FIRST_DAY = -25567;
export const LAST_DAY = 120529;

const date32: WriteValue = (writer, value) => {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < FIRST_DAY || value > LAST_DAY)
    return false;
  writer.int32(value);
  return true;
};

const DAYS_IN_MONTH = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** `YYYY-MM-DDTHH:MM:SS.ffffffZ` (Debezium's ZonedTimestamp, as the codecs write it) → microseconds. */
function isoMicros(text: string): number | undefined {
  if (
    text.length !== 27 ||
    text[4] !== '-' ||
    text[7] !== '-' ||
    text[10] !== 'T' ||
    text[13] !== ':' ||
    text[16] !== ':' ||
    text[19] !== '.' ||
    text[26] !== 'Z'
  )
    return undefined;
  const year = digitsAt(text, 0, 4);
  const month = digitsAt(text, 5, 2);
  const day = digitsAt(text, 8, 2);
  const hours = digitsAt(text, 11, 2);
  const minutes = digitsAt(text, 14, 2);
  const seconds = digitsAt(text, 17, 2);
  const fraction = digitsAt(text, 20, 6);
  if (
    Math.min(hours, minutes, seconds, fraction) < 0 ||
    // Date.UTC reads years 0–99 as 1900–1999; before 1900 the column's range ends anyway.
    year < 1900 ||
    !isCalendarDay(year, month, day) ||
    hours > 23 ||
    minutes > 59 ||
    seconds > 59
  )
    return undefined;
  return Date.UTC(year, month - 1, day, hours, minutes, seconds) * 1000 + fraction;
}

/** Whether the day exists in the proleptic Gregorian calendar (month 1–12). */
export function isCalendarDay(year: number, month: number, day: number): boolean {
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  return (
    month >= 1 &&
    month <= 12 &&
    day >= 1 &&
    day <= (month === 2 && !leap ? 28 : (DAYS_IN_MONTH[month - 1] ?? 0))
  );
}

/** DateTime64(P): an integer is already the column's ticks (as the JSON line's number is read). */
function dateTime64(precision: number): WriteValue {
  const perSecond = 10 ** precision;
  const [min, max] = [FIRST_DAY * 86400 * perSecond, (LAST_DAY + 1) * 86400 * perSecond - 1];
  return (writer, value) => {
    let ticks: number | undefined;
    if (typeof value === 'number') ticks = value;
    // Text only at microseconds: at another precision the engine's rounding would decide.
    else if (typeof value === 'string' && precision === 6) ticks = isoMicros(value);
    if (ticks === undefined || !Number.isSafeInteger(ticks) || ticks < min || ticks > max) return false;
    writer.integer(ticks, 8);
    return true;
  };
}

/** The writer of a ClickHouse type, or undefined when its values are not written here. */
function valueWriter(type: string): WriteValue | undefined {
  const wrapped = /^(Nullable|Array)\((.*)\)$/.exec(type);
  if (wrapped) {
    const inner = valueWriter(wrapped[2] ?? '');
    if (!inner) return undefined;
    if (wrapped[1] === 'Nullable')
      return (writer, value) => {
        if (value === null || value === undefined) {
          writer.byte(1);
          return true;
        }
        writer.byte(0);
        return inner(writer, value);
      };
    return (writer, value) => {
      if (!Array.isArray(value)) return false;
      writer.varUInt(value.length);
      for (const item of value) if (!inner(writer, item)) return false;
      return true;
    };
  }
  const range = INTEGER_RANGES[type];
  if (range) return smallInteger(...range);
  if (type === 'Int64' || type === 'UInt64') return int64(type === 'Int64');
  if (type === 'Float64') return float64;
  if (type === 'Bool') return bool;
  if (type === 'String') return string;
  if (type === 'UUID') return uuid;
  if (type === 'Date32') return date32;
  const decimalType = /^Decimal\((\d+),\s*(\d+)\)$/.exec(type);
  if (decimalType) return decimal(Number(decimalType[1]), Number(decimalType[2]));
  const dateTimeType = /^DateTime64\((\d)(?:,\s*'UTC')?\)$/.exec(type);
  if (dateTimeType) return dateTime64(Number(dateTimeType[1]));
  return undefined;
}

export interface MirrorRowsPayload {
  row: Row;
  version: SourceVersion;
  deleted: boolean;
}

/**
 * A change's row still in the source's own bytes (a MySQL row image): the writer puts it into the
 * payload without it ever being decoded into an envelope.
 */
export interface RawImage {
  readonly layout: RawImageLayout;
  /** Whether the image is a deleted row's. */
  readonly deleted: boolean;
}

/** Writes one image's values, in the columns' order and types; false for a value it does not write exactly. */
export type WriteImage = (image: RawImage, writer: PayloadWriter) => boolean;

/** How a source lays its images out: the writer of them into a mirror's columns. */
export interface RawImageLayout {
  /** Undefined when a column cannot be written from the image's bytes (its envelope decides then). */
  rowBinaryWriter(columns: readonly { name: string; type: string }[]): WriteImage | undefined;
}

export interface RowBinaryFormat {
  format: 'RowBinary';
  /** The insert's column list: the mirror's columns, then `_version` and `_is_deleted`. */
  columns: string[];
  /** The rows as one payload, or undefined when a value must go as JSON for the engine to judge. */
  encode(rows: readonly MirrorRowsPayload[]): Buffer | undefined;
  /**
   * Changes that all carry their row as a raw image, as one payload: the same bytes `encode` writes
   * for their decoded rows. Undefined when one has no image or a value its layout does not write.
   */
  encodeImages(changes: readonly { image?: RawImage; version: SourceVersion }[]): Buffer | undefined;
}

/**
 * The RowBinary format of a mirror whose columns have these (actual) types, or undefined when one
 * of them has a type this encoder does not write.
 */
export function rowBinaryFormat(
  columns: readonly { name: string; type: string }[],
): RowBinaryFormat | undefined {
  const writers: WriteValue[] = [];
  for (const column of columns) {
    const writer = valueWriter(column.type);
    if (!writer) return undefined;
    writers.push(writer);
  }
  const names = columns.map((column) => column.name);
  const absent = columns.map((column) => (column.type.startsWith('Array(') ? [] : null));
  const version = int64(false);
  // The last payload's size: the next batch's starting buffer, so most batches never grow theirs.
  let expected = 64 * 1024;
  /** Each layout's writer into these columns (null: it cannot write them). */
  const imageWriters = new WeakMap<RawImageLayout, WriteImage | null>();
  const imageWriter = (layout: RawImageLayout) => {
    let write = imageWriters.get(layout);
    if (write === undefined) imageWriters.set(layout, (write = layout.rowBinaryWriter(columns) ?? null));
    return write;
  };
  return {
    format: 'RowBinary',
    columns: [...names, '_version', '_is_deleted'],
    encodeImages(changes) {
      const writer = new PayloadWriter(expected);
      for (const { image, version: rowVersion } of changes) {
        const write = image && imageWriter(image.layout);
        if (!image || !write || !write(image, writer) || !version(writer, rowVersion)) return undefined;
        writer.byte(image.deleted ? 1 : 0);
      }
      expected = Math.max(expected, writer.at);
      return writer.buffer.subarray(0, writer.at);
    },
    encode(rows) {
      const writer = new PayloadWriter(expected);
      for (const { row, version: rowVersion, deleted } of rows) {
        for (let index = 0; index < names.length; index++) {
          const value = row[names[index] as string];
          if (!(writers[index] as WriteValue)(writer, value === undefined ? absent[index] : value))
            return undefined;
        }
        if (!version(writer, rowVersion)) return undefined;
        writer.byte(deleted ? 1 : 0);
      }
      expected = Math.max(expected, writer.at);
      return writer.buffer.subarray(0, writer.at);
    },
  };
}
