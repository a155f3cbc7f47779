// Redis hashes written whole by RESTORE: the engine reads each changed vector out (RowBinary, the
// values as HSET would get them), and this process encodes each hash as the payload DUMP gives for
// it (RDB type 16, a hash as a listpack: Redis ≥ 7.0) with its checksum, so Redis only checks it
// and keeps the bytes instead of inserting the ~68 fields one at a time (HSET took ~24–34 µs of
// Redis' one command thread per hash, RESTORE ~4). The encoding is the one HSET leaves in a new
// key's listpack, byte for byte (tests compare it with DUMP). Encoding the listpacks in the engine's
// SQL was tried first: 67 CPU-s for 1M hashes, against ~4 to read the rows out and ~10 here.
import { InvariantError } from '../errors/index.ts';
import { quoteIdentifier as q } from '../warehouse/index.ts';

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
  const values = fields.map(
    (field, index) =>
      `if(${fits}, CAST(${field.sql} AS Nullable(${field.integer ? 'Int64' : 'String'})), NULL) AS ${q(`v${index}`)}`,
  );
  return {
    sql: `SELECT ${options.key} AS key, if(${fits}, '', ${options.fallback}) AS fallback, ${values.join(', ')}
      FROM ${options.from}`,
    fits,
  };
}

/** Whether a server of this version (INFO's redis_version) loads RDB version 10 payloads. */
export function restoresListpacks(version: string): boolean {
  const major = Number(/^(\d+)\./.exec(version)?.[1]);
  return major >= 7;
}

// CRC-64 as Redis computes it (Jones polynomial, reflected, no final XOR), slice by 8 bytes, the
// 64-bit state as two 32-bit halves.
const POLY = 0x95ac9329ac4bc9b5n;
const LO: Uint32Array[] = Array.from({ length: 8 }, () => new Uint32Array(256));
const HI: Uint32Array[] = Array.from({ length: 8 }, () => new Uint32Array(256));
for (let i = 0; i < 256; i++) {
  let crc = BigInt(i);
  for (let bit = 0; bit < 8; bit++) crc = crc & 1n ? (crc >> 1n) ^ POLY : crc >> 1n;
  (LO[0] as Uint32Array)[i] = Number(crc & 0xffffffffn);
  (HI[0] as Uint32Array)[i] = Number(crc >> 32n);
}
for (let t = 1; t < 8; t++)
  for (let i = 0; i < 256; i++) {
    const lo = (LO[t - 1] as Uint32Array)[i] as number;
    const hi = (HI[t - 1] as Uint32Array)[i] as number;
    (LO[t] as Uint32Array)[i] = ((lo >>> 8) | (hi << 24)) ^ ((LO[0] as Uint32Array)[lo & 255] as number);
    (HI[t] as Uint32Array)[i] = (hi >>> 8) ^ ((HI[0] as Uint32Array)[lo & 255] as number);
  }
const [L0, L1, L2, L3, L4, L5, L6, L7] = LO as [
  Uint32Array,
  Uint32Array,
  Uint32Array,
  Uint32Array,
  Uint32Array,
  Uint32Array,
  Uint32Array,
  Uint32Array,
];
const [H0, H1, H2, H3, H4, H5, H6, H7] = HI as [
  Uint32Array,
  Uint32Array,
  Uint32Array,
  Uint32Array,
  Uint32Array,
  Uint32Array,
  Uint32Array,
  Uint32Array,
];

/** Redis' CRC-64 of `data[start, end)`, written little-endian into `out` at `at` (as DUMP's footer). */
export function writeCrc64(data: Uint8Array, start: number, end: number, out: Uint8Array, at: number): void {
  let lo = 0;
  let hi = 0;
  let i = start;
  for (; i + 8 <= end; i += 8) {
    const a = lo ^ (data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24));
    const b = hi ^ (data[i + 4]! | (data[i + 5]! << 8) | (data[i + 6]! << 16) | (data[i + 7]! << 24));
    lo =
      L7[a & 255]! ^
      L6[(a >>> 8) & 255]! ^
      L5[(a >>> 16) & 255]! ^
      L4[a >>> 24]! ^
      L3[b & 255]! ^
      L2[(b >>> 8) & 255]! ^
      L1[(b >>> 16) & 255]! ^
      L0[b >>> 24]!;
    hi =
      H7[a & 255]! ^
      H6[(a >>> 8) & 255]! ^
      H5[(a >>> 16) & 255]! ^
      H4[a >>> 24]! ^
      H3[b & 255]! ^
      H2[(b >>> 8) & 255]! ^
      H1[(b >>> 16) & 255]! ^
      H0[b >>> 24]!;
  }
  for (; i < end; i++) {
    const x = (lo ^ data[i]!) & 255;
    lo = ((lo >>> 8) | (hi << 24)) ^ L0[x]!;
    hi = (hi >>> 8) ^ H0[x]!;
  }
  for (let k = 0; k < 4; k++) {
    out[at + k] = (lo >>> (8 * k)) & 255;
    out[at + 4 + k] = (hi >>> (8 * k)) & 255;
  }
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

const REPLACE = Buffer.from('\r\n$7\r\nREPLACE\r\n');
/** Bytes of RESP handed on at a time. */
const OUT_BYTES = 1 << 20;

/**
 * The Redis commands of rows read as RowBinary from `restoreRowsSql` of `fields`: a row with a
 * fallback sends it as it is; any other `RESTORE key ttl payload REPLACE` (`ttlMs` 0: no expiry, as
 * HSET leaves a new key). REPLACE swaps the whole hash, so fields now null are gone without HDEL.
 */
export async function* restoreCommands(
  rows: AsyncIterable<Buffer>,
  fields: readonly DumpField[],
  ttlMs: number,
): AsyncGenerator<Buffer> {
  const ttl = String(ttlMs);
  // Each name's entry, a whole array of its own (`set` of it makes no view).
  const names = fields.map((field) => {
    const name = Buffer.from(field.name);
    const entry = Buffer.alloc(name.length + 4);
    return Uint8Array.from(entry.subarray(0, writeStringEntry(entry, 0, name, 0, name.length)));
  });
  // A row's value spans: start, length (-1: null).
  const starts = new Int32Array(fields.length);
  const lengths = new Int32Array(fields.length);
  const entries = Buffer.allocUnsafe(
    names.reduce((sum, name) => sum + name.length, 0) + fields.length * (MAX_ENTRY_BYTES + 8),
  );
  let out = Buffer.allocUnsafe(OUT_BYTES);
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
        else if (fields[index]!.integer) {
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
      let need = fallbackEnd - fallbackStart;
      let end = 0;
      let count = 0;
      if (need === 0) {
        for (let index = 0; index < fields.length; index++) {
          const start = starts[index]!;
          const n = lengths[index]!;
          if (n < 0) continue;
          count += 2;
          const name = names[index]!;
          entries.set(name, end);
          end += name.length;
          if (fields[index]!.integer) {
            const lo =
              data[start]! | (data[start + 1]! << 8) | (data[start + 2]! << 16) | (data[start + 3]! << 24);
            const hi =
              data[start + 4]! |
              (data[start + 5]! << 8) |
              (data[start + 6]! << 16) |
              (data[start + 7]! << 24);
            end =
              (hi === 0 && lo >= 0) || (hi === -1 && lo < 0)
                ? writeIntEntry(entries, end, lo)
                : writeInt64Entry(entries, end, data, start);
            continue;
          }
          const integer = canonicalInteger(data, start, n);
          if (integer === undefined) end = writeStringEntry(entries, end, data, start, n);
          else if (typeof integer === 'number' && integer >= -2147483648 && integer <= 2147483647)
            end = writeIntEntry(entries, end, integer);
          else {
            entries[end] = 0xf4;
            entries.writeBigInt64LE(BigInt(integer), end + 1);
            entries[end + 9] = 9;
            end += 10;
          }
        }
        const lpBytes = end + 7;
        const lengthBytes = lpBytes < 64 ? 1 : lpBytes < 16384 ? 2 : 5;
        const payloadBytes = 1 + lengthBytes + lpBytes + 2;
        need = keyEnd - keyStart + payloadBytes + 64 + REPLACE.length;
        if (used + need > out.length) {
          if (used > 0) yield out.subarray(0, used);
          out = Buffer.allocUnsafe(Math.max(OUT_BYTES, need));
          used = 0;
        }
        used += out.write(`*5\r\n$7\r\nRESTORE\r\n$${keyEnd - keyStart}\r\n`, used, 'latin1');
        used = copyBytes(out, used, data, keyStart, keyEnd);
        used += out.write(`\r\n$${ttl.length}\r\n${ttl}\r\n$${payloadBytes + 8}\r\n`, used, 'latin1');
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
        // The listpack: its total bytes (32 bits) and entries (16 bits), little-endian, the entries, 0xFF.
        used = out.writeUInt32LE(lpBytes, used);
        used = out.writeUInt16LE(count, used);
        out.set(entries.subarray(0, end), used);
        used += end;
        out[used++] = 0xff;
        out[used++] = RDB_VERSION;
        out[used++] = 0;
        writeCrc64(out, payload, used, out, used);
        used += 8;
        used += REPLACE.copy(out, used);
      } else {
        if (used + need > out.length) {
          if (used > 0) yield out.subarray(0, used);
          out = Buffer.allocUnsafe(Math.max(OUT_BYTES, need));
          used = 0;
        }
        used += data.copy(out, used, fallbackStart, fallbackEnd);
      }
      at = next;
    }
    carry = at < data.length ? Buffer.from(data.subarray(at)) : undefined;
  }
  if (carry) throw new InvariantError(`the RESTORE rows end within a row (${carry.length} bytes left)`);
  if (used > 0) yield out.subarray(0, used);
}
