// Redis hashes written whole by RESTORE: the engine encodes each entity's hash as the payload DUMP
// gives for it (RDB type 16, a hash as a listpack: Redis ≥ 7.0), this process adds the checksum,
// and Redis only checks it and keeps the bytes, instead of inserting the ~68 fields one at a time
// (HSET took ~34 µs of Redis' one command thread per hash: ~30k hashes/s at most). The encoding is
// the one HSET leaves in a new key's listpack, byte for byte (a test compares it with DUMP).
import { InvariantError } from '../errors/index.ts';

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
  sql: string;
  /** The expression is an integer type (Int64 at most): encoded as an integer without a look at its text. */
  integer: boolean;
  nullable: boolean;
}

/** SQL: `char` of each byte expression, masked to a byte. */
const bytes = (...exprs: string[]) => `char(${exprs.map((e) => `bitAnd(${e}, 255)`).join(', ')})`;
const le = (x: string, n: number) =>
  Array.from({ length: n }, (_, i) => (i === 0 ? x : `bitShiftRight(${x}, ${8 * i})`));

/** A constant's bytes as a SQL string literal. */
function literal(data: Buffer): string {
  return `'${[...data].map((b) => `\\x${b.toString(16).padStart(2, '0')}`).join('')}'`;
}

/** A listpack entry's back-length: the entry's length before it, 7 bits a byte, high byte first. */
function backlen(length: number): number[] {
  if (length <= 127) return [length];
  if (length < 16383) return [length >> 7, (length & 127) | 128];
  throw new InvariantError(`listpack entry of ${length} bytes`);
}

/** A constant string as a listpack entry (field names; never integers: they are identifiers). */
function stringEntry(text: string): Buffer {
  const data = Buffer.from(text);
  const n = data.length;
  const header = n < 64 ? [0x80 | n] : [0xe0 | (n >> 8), n & 255];
  return Buffer.from([...header, ...data, ...backlen(header.length + n)]);
}

/** SQL: an Int64 expression's listpack entry, in the smallest integer encoding that holds it. */
function integerEntrySql(x: string): string {
  const within = (bits: number) => `${x} BETWEEN ${-(2 ** (bits - 1))} AND ${2 ** (bits - 1) - 1}`;
  const wide = (code: number, n: number) => `${bytes(String(code), ...le(x, n), String(n + 1))}`;
  return `multiIf(${x} BETWEEN 0 AND 127, ${bytes(x, '1')},
    ${within(13)}, ${bytes(`bitOr(192, bitAnd(bitShiftRight(${x}, 8), 31))`, x, '2')},
    ${within(16)}, ${wide(0xf1, 2)}, ${within(24)}, ${wide(0xf2, 3)}, ${within(32)}, ${wide(0xf3, 4)},
    ${wide(0xf4, 8)})`;
}

/**
 * SQL: a String expression's listpack entry. Redis stores a value that is an int64's canonical
 * decimal text as that integer (lpStringToInt64), others as 6- or 12-bit-length strings.
 */
function textEntrySql(s: string): string {
  const n = `length(${s})`;
  const asInteger = `toInt64OrZero(${s})`;
  return `multiIf(toString(${asInteger}) = ${s}, ${integerEntrySql(asInteger)},
    ${n} < 64, concat(${bytes(`bitOr(128, ${n})`)}, ${s}, ${bytes(`${n} + 1`)}),
    ${n} < 126, concat(${bytes(`bitOr(224, bitShiftRight(${n}, 8))`, n)}, ${s}, ${bytes(`${n} + 2`)}),
    concat(${bytes(`bitOr(224, bitShiftRight(${n}, 8))`, n)}, ${s}, ${bytes(`bitShiftRight(${n} + 2, 7)`, `bitOr(${n} + 2, 128)`)}))`;
}

/**
 * SQL of the rows `restoreCommands` reads, `(key, payload, fallback)`, from the rows of `from`: for
 * a row whose hash fits `limits`, its DUMP payload (the fields in order, as HSET of a new key
 * leaves them; all but the 8-byte checksum, which the writer appends) and no fallback; for the
 * others (or every row when no hash can fit: too many fields, a name too long, or no `limits`),
 * no payload and the `fallback` RESP (HSET), so each hash's encoding is the one HSET would give.
 * `fits` tells the rows restored.
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
  if (
    !limits ||
    fields.length > limits.entries ||
    fields.some((field) => Buffer.byteLength(field.name) > maxValue)
  )
    return {
      sql: `SELECT ${options.key} AS key, '' AS payload, ${options.fallback} AS fallback FROM ${options.from}`,
      fits: '0',
    };
  const texts = fields.filter((field) => !field.integer);
  const fits =
    texts.length === 0
      ? '1'
      : `greatest(${texts.map((field) => `length(ifNull(${field.sql}, ''))`).join(', ')}, 0) <= ${maxValue}`;
  const entries = fields.map((field) => {
    const value = field.nullable ? `assumeNotNull(${field.sql})` : field.sql;
    const pair = `${literal(stringEntry(field.name))}, ${field.integer ? integerEntrySql(value) : textEntrySql(value)}`;
    return field.nullable ? `if(isNull(${field.sql}), '', concat(${pair}))` : pair;
  });
  const present = fields.map((field) => (field.nullable ? `toUInt32(isNotNull(${field.sql}))` : '1'));
  // One query level per step: the engine's analyzer copies an alias's whole expression into each use.
  const entriesOf = `SELECT ${options.key} AS key, ${fits} AS fits,
      if(fits, concat(${entries.join(', ')}), '') AS body, 2 * (${present.join(' + ')}) AS entry_count,
      if(fits, '', ${options.fallback}) AS fallback
    FROM ${options.from}`;
  // The listpack: its total bytes (32 bits) and entries (16 bits), little-endian, the entries, 0xFF.
  const size = 'size';
  const listpack = `concat(${bytes(...le(size, 4), ...le('entry_count', 2))}, body, '\\xff')`;
  // The listpack as an RDB string: its length (6, 14 or 32 bits, high bits first), then the bytes.
  const length = `multiIf(${size} < 64, ${bytes(size)},
    ${size} < 16384, ${bytes(`bitOr(64, bitShiftRight(${size}, 8))`, size)},
    concat('\\x80', ${bytes(...le(size, 4).reverse())}))`;
  const payload = `concat(${literal(Buffer.from([RDB_TYPE_HASH_LISTPACK]))}, ${length}, ${listpack}, ${literal(Buffer.from([RDB_VERSION, 0]))})`;
  return {
    sql: `SELECT key, if(fits, ${payload}, '') AS payload, fallback
      FROM (SELECT key, fits, body, entry_count, fallback, toUInt32(length(body) + 7) AS size FROM (${entriesOf}))`,
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

/** RowBinary: a LEB128 length at `at` (undefined if cut off): [length, offset after it]. */
function readLength(data: Buffer, at: number): [number, number] | undefined {
  let value = 0;
  for (let shift = 0, i = at; i < data.length; shift += 7, i++) {
    const byte = data[i] as number;
    value += (byte & 127) * 2 ** shift;
    if (byte < 128) return [value, i + 1];
  }
  return undefined;
}

const REPLACE = Buffer.from('\r\n$7\r\nREPLACE\r\n');
/** Bytes of RESP handed on at a time. */
const OUT_BYTES = 1 << 20;

/**
 * The Redis commands of rows read as RowBinary `(key String, payload String, fallback String)`:
 * `RESTORE key ttl payload+checksum REPLACE` for a row with a payload (`ttlMs` 0: no expiry, as
 * HSET would leave a new key), else its `fallback` RESP as it is. REPLACE swaps the whole hash, so
 * fields that became null are gone without an HDEL.
 */
export async function* restoreCommands(rows: AsyncIterable<Buffer>, ttlMs: number): AsyncGenerator<Buffer> {
  const ttl = String(ttlMs);
  let out = Buffer.allocUnsafe(OUT_BYTES);
  let used = 0;
  let carry: Buffer | undefined;
  for await (const chunk of rows) {
    const data = carry ? Buffer.concat([carry, chunk]) : chunk;
    let at = 0;
    for (;;) {
      const spans: number[] = [];
      let next = at;
      for (let column = 0; column < 3; column++) {
        const length = readLength(data, next);
        if (!length || length[1] + length[0] > data.length) break;
        spans.push(length[1], length[1] + length[0]);
        next = length[1] + length[0];
      }
      if (spans.length < 6) break;
      const [keyStart, keyEnd, payloadStart, payloadEnd, fallbackStart, fallbackEnd] = spans as [
        number,
        number,
        number,
        number,
        number,
        number,
      ];
      const payloadBytes = payloadEnd - payloadStart;
      const head = payloadBytes > 0 ? `*5\r\n$7\r\nRESTORE\r\n$${keyEnd - keyStart}\r\n` : '';
      const middle = payloadBytes > 0 ? `\r\n$${ttl.length}\r\n${ttl}\r\n$${payloadBytes + 8}\r\n` : '';
      const need =
        payloadBytes > 0
          ? head.length + keyEnd - keyStart + middle.length + payloadBytes + 8 + REPLACE.length
          : fallbackEnd - fallbackStart;
      if (used + need > out.length) {
        if (used > 0) yield out.subarray(0, used);
        out = Buffer.allocUnsafe(Math.max(OUT_BYTES, need));
        used = 0;
      }
      if (payloadBytes > 0) {
        used += out.write(head, used, 'latin1');
        used += data.copy(out, used, keyStart, keyEnd);
        used += out.write(middle, used, 'latin1');
        used += data.copy(out, used, payloadStart, payloadEnd);
        writeCrc64(data, payloadStart, payloadEnd, out, used);
        used += 8;
        used += REPLACE.copy(out, used);
      } else used += data.copy(out, used, fallbackStart, fallbackEnd);
      at = next;
    }
    carry = at < data.length ? Buffer.from(data.subarray(at)) : undefined;
  }
  if (carry) throw new InvariantError(`the RESTORE rows end within a row (${carry.length} bytes left)`);
  if (used > 0) yield out.subarray(0, used);
}
