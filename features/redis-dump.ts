// Redis hashes written whole by RESTORE: the engine reads each changed vector out (RowBinary, the
// values as HSET would get them), and this process encodes each hash as the payload DUMP gives for
// it (RDB type 16, a hash as a listpack: Redis ≥ 7.0) with its checksum, so Redis only checks it
// and keeps the bytes instead of inserting the ~68 fields one at a time (HSET took ~24–34 µs of
// Redis' one command thread per hash, RESTORE ~4). The encoding is the one HSET leaves in a new
// key's listpack, byte for byte (tests compare it with DUMP). Encoding the listpacks in the engine's
// SQL was tried first: 67 CPU-s for 1M hashes, against ~4 to read the rows out and ~7 here (each
// payload written once, in the memory its CRC is computed in: crc64.ts).
import { InvariantError } from '../errors/index.ts';
import { quoteIdentifier as q } from '../warehouse/index.ts';
import { Crc64Memory } from './crc64.ts';

/** RDB object type of a hash encoded as a listpack (rdb.h, RDB version 10: Redis 7.0). */
const RDB_TYPE_HASH_LISTPACK = 16;
/** The RDB version written into the payload's footer; Redis refuses only newer ones than its own. */
const RDB_VERSION = 10;
/** Bytes a listpack string entry's 12-bit length can say; longer values go by HSET. */
const MAX_ENTRY_BYTES = 4095;

/** The server limits under which HSET keeps a hash as a listpack (CONFIG GET hash-max-listpack-*). */
export interface ListpackLimits {
  /** Most field-value pairs. */
  entries: number;
  /** Longest field or value, in bytes. */
  value: number;
}

/** One field of the hash: a name and a SQL expression of its value (NULL leaves the field out). */
export interface DumpField {
  name: string;
  /** An integer (Int64 at most) expression, or a String one: the text HSET would be given. */
  sql: string;
  integer: boolean;
  nullable: boolean;
}

/** A listpack entry's back-length: the entry's length before it, 7 bits a byte, high byte first. */
function writeBacklen(out: Buffer, at: number, length: number): number {
  if (length <= 127) {
    out[at] = length;
    return at + 1;
  }
  out[at] = length >> 7;
  out[at + 1] = (length & 127) | 128;
  return at + 2;
}

/** Copies `data[start, end)` to `out` at `at`; returns the end. A byte loop: `Buffer.copy` makes a
 * view of each span, which cost more than the copying for the few bytes of a field. */
function copyBytes(out: Uint8Array, at: number, data: Uint8Array, start: number, end: number): number {
  for (let i = start; i < end; i++) out[at++] = data[i]!;
  return at;
}

/** `data[start, start + n)` as a listpack string entry at `at` (n ≤ 4095); returns the end. */
function writeStringEntry(out: Buffer, at: number, data: Buffer, start: number, n: number): number {
  let end = at;
  if (n < 64) out[end++] = 0x80 | n;
  else {
    out[end++] = 0xe0 | (n >> 8);
    out[end++] = n & 255;
  }
  end = copyBytes(out, end, data, start, start + n);
  return writeBacklen(out, end, end - at);
}

/** An int32 as a listpack entry, in the smallest integer encoding that holds it; returns the end. */
function writeIntEntry(out: Buffer, at: number, v: number): number {
  if (v >= 0 && v <= 127) {
    out[at] = v;
    out[at + 1] = 1;
    return at + 2;
  }
  if (v >= -4096 && v <= 4095) {
    const u = v & 0x1fff;
    out[at] = 0xc0 | (u >> 8);
    out[at + 1] = u & 255;
    out[at + 2] = 2;
    return at + 3;
  }
  const n = v >= -32768 && v <= 32767 ? 2 : v >= -8388608 && v <= 8388607 ? 3 : 4;
  out[at] = n === 2 ? 0xf1 : n === 3 ? 0xf2 : 0xf3;
  for (let k = 0; k < n; k++) out[at + 1 + k] = (v >> (8 * k)) & 255;
  out[at + 1 + n] = n + 1;
  return at + 2 + n;
}

/** An int64's 8 little-endian bytes as a listpack entry; returns the end. */
function writeInt64Entry(out: Buffer, at: number, data: Buffer, start: number): number {
  out[at] = 0xf4;
  copyBytes(out, at + 1, data, start, start + 8);
  out[at + 9] = 9;
  return at + 10;
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/**
 * The integer a text is the canonical decimal of, as Redis' lpStringToInt64 reads it (no sign but
 * '-', no leading zero, within int64); undefined for any other text.
 */
export function canonicalInteger(data: Buffer, start: number, n: number): number | bigint | undefined {
  if (n === 0 || n > 20) return undefined;
  const negative = data[start] === 45;
  const first = negative ? start + 1 : start;
  const end = start + n;
  if (first === end) return undefined;
  if (data[first] === 48) return n === 1 ? 0 : undefined;
  if (end - first > 19) return undefined;
  let value = 0;
  for (let i = first; i < end; i++) {
    const digit = (data[i] as number) - 48;
    if (digit < 0 || digit > 9) return undefined;
    value = value * 10 + digit;
  }
  if (end - first <= 15) return negative ? -value : value;
  const big = BigInt(data.toString('latin1', start, end));
  return big < INT64_MIN || big > INT64_MAX ? undefined : big;
}

/**
 * SQL of the rows `restoreCommands` reads from the rows of `from`: `(key, fallback, value…)`. A row
 * whose hash fits `limits` has no fallback and its values (every one Nullable, Int64 or String);
 * the others (every row when no hash can fit: too many fields, a name too long, or no `limits`)
 * have the `fallback` RESP (HSET) and null values, so each hash's encoding is the one HSET would
 * give. `fits` tells the rows restored.
 */
export function restoreRowsSql(options: {
  from: string;
  key: string;
  fields: readonly DumpField[];
  fallback: string;
  limits: ListpackLimits | undefined;
}): { sql: string; fits: string } {
  const { fields, limits } = options;
  const maxValue = Math.min(limits?.value ?? 0, MAX_ENTRY_BYTES);
  const texts = fields.filter((field) => !field.integer);
  const fits =
    !limits ||
    fields.length > limits.entries ||
    fields.some((field) => Buffer.byteLength(field.name) > maxValue)
      ? '0'
      : texts.length === 0
        ? '1'
        : `greatest(${texts.map((field) => `length(ifNull(${field.sql}, ''))`).join(', ')}, 0) <= ${maxValue}`;
  // `fits` once per row, in a subquery: written into each of the ~68 values, it made the engine take
  // ~0.7 s to analyze the statement, more than writing out 125k rows.
  const values = fields.map(
    (field, index) =>
      `if(_restore_fits, CAST(${field.sql} AS Nullable(${field.integer ? 'Int64' : 'String'})), NULL) AS ${q(`v${index}`)}`,
  );
  return {
    sql: `SELECT _restore_key AS key, if(_restore_fits, '', ${options.fallback}) AS fallback, ${values.join(', ')}
      FROM (SELECT *, ${options.key} AS _restore_key, ${fits} AS _restore_fits FROM ${options.from})`,
    fits,
  };
}

/** Whether a server of this version (INFO's redis_version) loads RDB version 10 payloads. */
export function restoresListpacks(version: string): boolean {
  const major = Number(/^(\d+)\./.exec(version)?.[1]);
  return major >= 7;
}

/** RowBinary: a LEB128 length at `at`, -1 if cut off; its value in `LENGTH[0]`. */
const LENGTH = [0];
function readLength(data: Buffer, at: number): number {
  let value = 0;
  for (let shift = 0, i = at; i < data.length; shift += 7, i++) {
    const byte = data[i] as number;
    value += (byte & 127) * 2 ** shift;
    if (byte < 128) {
      LENGTH[0] = value;
      return i + 1;
    }
  }
  return -1;
}

/** `value` (≥ 0) in decimal at `at`; returns the end. */
function writeDecimal(out: Buffer, at: number, value: number): number {
  const digits = decimalDigits(value);
  for (let i = at + digits - 1; i >= at; i--) {
    out[i] = 48 + (value % 10);
    value = Math.floor(value / 10);
  }
  return at + digits;
}

function decimalDigits(value: number): number {
  let digits = 1;
  for (let bound = 10; value >= bound; bound *= 10) digits++;
  return digits;
}

const RESTORE = Buffer.from('*5\r\n$7\r\nRESTORE\r\n$');
const REPLACE = Buffer.from('\r\n$7\r\nREPLACE\r\n');
/** Bytes of RESP handed on at a time. */
const OUT_BYTES = 1 << 20;
/**
 * Where a payload's entries start after its bulk string's `$`: the length's usual 4 digits and
 * CRLF, the type, the 14-bit RDB length, the listpack's 6-byte header. Entries are written there
 * and moved once the real widths are known, if they differ.
 */
const USUAL_HEAD = 1 + 4 + 2 + 1 + 2 + 6;

/**
 * The Redis commands of rows read as RowBinary from `restoreRowsSql` of `fields`: a row with a
 * fallback sends it as it is; any other `RESTORE key ttl payload REPLACE` (`ttlMs` 0: no expiry, as
 * HSET leaves a new key). REPLACE swaps the whole hash, so fields now null are gone without HDEL.
 * Each payload is written once, where the command goes, and its CRC computed there.
 */
export async function* restoreCommands(
  rows: AsyncIterable<Buffer>,
  fields: readonly DumpField[],
  ttlMs: number,
): AsyncGenerator<Buffer> {
  const afterKey = Buffer.from(`\r\n$${String(ttlMs).length}\r\n${ttlMs}\r\n`);
  // Each name's listpack entry, an array of its own (`set` of it makes no view).
  const names = fields.map((field) => {
    const name = Buffer.from(field.name);
    const entry = Buffer.alloc(name.length + 4);
    return Uint8Array.from(entry.subarray(0, writeStringEntry(entry, 0, name, 0, name.length)));
  });
  const namesBytes = names.reduce((sum, name) => sum + name.length, 0);
  const integer = Uint8Array.from(fields, (field) => (field.integer ? 1 : 0));
  // A row's value spans: start, length (-1: null).
  const starts = new Int32Array(fields.length);
  const lengths = new Int32Array(fields.length);
  const memory = await Crc64Memory.create(OUT_BYTES);
  let out = memory.bytes;
  let used = 0;
  let carry: Buffer | undefined;
  for await (const chunk of rows) {
    const data = carry ? Buffer.concat([carry, chunk]) : chunk;
    let at = 0;
    for (;;) {
      // The row's spans first: it may end in the next chunk.
      let next = readLength(data, at);
      if (next < 0 || next + LENGTH[0]! > data.length) break;
      const keyStart = next;
      const keyEnd = next + LENGTH[0]!;
      next = readLength(data, keyEnd);
      if (next < 0 || next + LENGTH[0]! > data.length) break;
      const fallbackStart = next;
      const fallbackEnd = next + LENGTH[0]!;
      next = fallbackEnd;
      let complete = true;
      for (let index = 0; index < fields.length && complete; index++) {
        if (next >= data.length) complete = false;
        else if (data[next++] === 1) lengths[index] = -1;
        else if (integer[index] === 1) {
          starts[index] = next;
          lengths[index] = 8;
          next += 8;
          complete = next <= data.length;
        } else {
          const start = readLength(data, next);
          complete = start >= 0 && start + LENGTH[0]! <= data.length;
          starts[index] = start;
          lengths[index] = LENGTH[0]!;
          next = start + LENGTH[0]!;
        }
      }
      if (!complete) break;
      const fallback = fallbackEnd > fallbackStart;
      // At most what the row takes as RESP: a value's entry adds ≤ 4 bytes to its RowBinary (≤ 2 to
      // an integer's 8), its name's entry is in `namesBytes`.
      const need = fallback
        ? fallbackEnd - fallbackStart
        : RESTORE.length +
          20 +
          (keyEnd - keyStart) +
          afterKey.length +
          USUAL_HEAD +
          16 +
          namesBytes +
          (next - fallbackEnd) +
          4 * fields.length +
          13 +
          REPLACE.length;
      if (used + need > OUT_BYTES && used > 0) {
        yield Buffer.from(out.subarray(0, used));
        used = 0;
      }
      if (need > out.length) {
        memory.reserve(need);
        out = memory.bytes;
      }
      if (fallback) used += data.copy(out, used, fallbackStart, fallbackEnd);
      else {
        used = copyBytes(out, used, RESTORE, 0, RESTORE.length);
        used = writeDecimal(out, used, keyEnd - keyStart);
        out[used++] = 13;
        out[used++] = 10;
        used = copyBytes(out, used, data, keyStart, keyEnd);
        used = copyBytes(out, used, afterKey, 0, afterKey.length);
        // `used` is at the payload's bulk string; the entries go where they usually start.
        const entriesStart = used + USUAL_HEAD;
        let end = entriesStart;
        let count = 0;
        for (let index = 0; index < fields.length; index++) {
          const start = starts[index]!;
          const n = lengths[index]!;
          if (n < 0) continue;
          count += 2;
          const name = names[index]!;
          out.set(name, end);
          end += name.length;
          if (integer[index] === 1) {
            const lo =
              data[start]! | (data[start + 1]! << 8) | (data[start + 2]! << 16) | (data[start + 3]! << 24);
            const hi =
              data[start + 4]! |
              (data[start + 5]! << 8) |
              (data[start + 6]! << 16) |
              (data[start + 7]! << 24);
            end =
              (hi === 0 && lo >= 0) || (hi === -1 && lo < 0)
                ? writeIntEntry(out, end, lo)
                : writeInt64Entry(out, end, data, start);
            continue;
          }
          const value = canonicalInteger(data, start, n);
          if (value === undefined) end = writeStringEntry(out, end, data, start, n);
          else if (typeof value === 'number' && value >= -2147483648 && value <= 2147483647)
            end = writeIntEntry(out, end, value);
          else {
            out[end] = 0xf4;
            out.writeBigInt64LE(BigInt(value), end + 1);
            out[end + 9] = 9;
            end += 10;
          }
        }
        const entriesBytes = end - entriesStart;
        // The listpack: its total bytes (32 bits) and entries (16 bits), little-endian, the entries, 0xFF.
        const lpBytes = entriesBytes + 7;
        const lengthBytes = lpBytes < 64 ? 1 : lpBytes < 16384 ? 2 : 5;
        const payloadBytes = 1 + lengthBytes + lpBytes + 2;
        const head = 1 + decimalDigits(payloadBytes + 8) + 2 + 1 + lengthBytes + 6;
        if (head !== USUAL_HEAD) out.copyWithin(used + head, entriesStart, end);
        out[used++] = 36; // '$'
        used = writeDecimal(out, used, payloadBytes + 8);
        out[used++] = 13;
        out[used++] = 10;
        const payload = used;
        out[used++] = RDB_TYPE_HASH_LISTPACK;
        // The listpack as an RDB string: its length (6, 14 or 32 bits, high bits first), then the bytes.
        if (lengthBytes === 1) out[used++] = lpBytes;
        else if (lengthBytes === 2) {
          out[used++] = 0x40 | (lpBytes >> 8);
          out[used++] = lpBytes & 255;
        } else {
          out[used++] = 0x80;
          used = out.writeUInt32BE(lpBytes, used);
        }
        used = out.writeUInt32LE(lpBytes, used);
        used = out.writeUInt16LE(count, used);
        used += entriesBytes;
        out[used++] = 0xff;
        out[used++] = RDB_VERSION;
        out[used++] = 0;
        memory.appendCrc(payload, used);
        used += 8;
        used = copyBytes(out, used, REPLACE, 0, REPLACE.length);
      }
      at = next;
    }
    carry = at < data.length ? Buffer.from(data.subarray(at)) : undefined;
  }
  if (carry) throw new InvariantError(`the RESTORE rows end within a row (${carry.length} bytes left)`);
  if (used > 0) yield Buffer.from(out.subarray(0, used));
}
