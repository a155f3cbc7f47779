import { describe, expect, it } from 'vitest';
import { canonicalInteger, restoreCommands, restoresListpacks, type DumpField } from './redis-dump.ts';
import { Crc64Memory } from './crc64.ts';

/** A RowBinary String: a LEB128 length, then the bytes. */
function string(value: string | Buffer): Buffer {
  const data = Buffer.from(value);
  const length: number[] = [];
  let n = data.length;
  do {
    length.push((n & 127) | (n >= 128 ? 128 : 0));
    n >>>= 7;
  } while (n > 0);
  return Buffer.concat([Buffer.from(length), data]);
}
/** RowBinary Nullable values: a null flag, then Int64 or String. */
const int64 = (value: bigint) => {
  const data = Buffer.alloc(9);
  data.writeBigInt64LE(value, 1);
  return data;
};
const text = (value: string) => Buffer.concat([Buffer.from([0]), string(value)]);
const nul = Buffer.from([1]);

const fields: DumpField[] = [
  { name: 'a', sql: 'a', integer: true, nullable: true },
  { name: 'b', sql: 'b', integer: false, nullable: true },
];

async function collect(chunks: Buffer[], ttlMs: number): Promise<Buffer> {
  const out: Buffer[] = [];
  async function* feed() {
    yield* chunks;
  }
  for await (const chunk of restoreCommands(feed(), fields, ttlMs)) out.push(chunk);
  return Buffer.concat(out);
}

/** Redis' CRC-64 of `data`, little-endian, computed at `offset` within the memory. */
async function crcOf(data: Buffer, offset = 0): Promise<Buffer> {
  const memory = await Crc64Memory.create(64);
  data.copy(memory.bytes, offset);
  memory.appendCrc(offset, offset + data.length);
  return Buffer.from(memory.bytes.subarray(offset + data.length, offset + data.length + 8));
}

describe('Redis DUMP payloads', () => {
  it("computes Redis' CRC-64 (Jones), its test vector, on and off 8-byte boundaries", async () => {
    const vector = Buffer.from('123456789');
    expect((await crcOf(vector)).readBigUInt64LE()).toBe(0xe9c6d914c4b8d9can);
    for (const offset of [1, 3, 7, 8])
      expect((await crcOf(vector, offset)).readBigUInt64LE()).toBe(0xe9c6d914c4b8d9can);
    expect((await crcOf(Buffer.alloc(0))).readBigUInt64LE()).toBe(0n);
  });

  it('refuses a span beyond its memory and keeps its bytes when it grows', async () => {
    const memory = await Crc64Memory.create(16);
    expect(() => memory.appendCrc(0, memory.bytes.length - 7)).toThrow(/no CRC span/);
    memory.bytes.write('123456789', 5, 'latin1');
    memory.reserve(memory.bytes.length + 1);
    memory.appendCrc(5, 14);
    expect(memory.bytes.readBigUInt64LE(14)).toBe(0xe9c6d914c4b8d9can);
  });

  it('reads integers as lpStringToInt64 does: canonical int64 decimals only', () => {
    const read = (value: string) => canonicalInteger(Buffer.from(value), 0, Buffer.byteLength(value));
    expect(read('0')).toBe(0);
    expect(read('-12')).toBe(-12);
    expect(read('9223372036854775807')).toBe(9223372036854775807n);
    expect(read('-9223372036854775808')).toBe(-9223372036854775808n);
    for (const other of ['', '-', '-0', '01', '+1', ' 1', '1.0', '1e3', '9223372036854775808', 'VN'])
      expect(read(other)).toBeUndefined();
  });

  it('encodes a hash as a listpack payload, leaves out nulls, passes fallbacks on, whatever the chunks', async () => {
    const rows = Buffer.concat([
      string('p:user:1'),
      string(''),
      int64(5n),
      text('VN'),
      string('p:user:2'),
      string('*2\r\n$3\r\nDEL\r\n$8\r\np:user:2\r\n'),
      nul,
      nul,
      string(`p:user:${'x'.repeat(200)}`),
      string(''),
      int64(-5000000000n),
      nul,
    ]);
    const whole = await collect([rows], 5000);
    // a → 5 (7-bit integer), b → "VN" (6-bit string), each entry with its back-length.
    const payload = Buffer.from([
      16, 19, 19, 0, 0, 0, 4, 0, 0x81, 0x61, 2, 5, 1, 0x81, 0x62, 2, 0x82, 0x56, 0x4e, 3, 0xff, 10, 0,
    ]);
    const first = Buffer.concat([
      Buffer.from('*5\r\n$7\r\nRESTORE\r\n$8\r\np:user:1\r\n$4\r\n5000\r\n$31\r\n'),
      payload,
      await crcOf(payload),
      Buffer.from('\r\n$7\r\nREPLACE\r\n'),
    ]);
    expect(whole.subarray(0, first.length).toString('hex')).toBe(first.toString('hex'));
    const rest = whole.subarray(first.length).toString('latin1');
    expect(rest).toMatch(
      /^\*2\r\n\$3\r\nDEL\r\n\$8\r\np:user:2\r\n\*5\r\n\$7\r\nRESTORE\r\n\$207\r\np:user:x{200}\r\n\$4\r\n5000\r\n\$32\r\n/,
    );
    // A 64-bit integer: 0xF4 and its 8 bytes.
    const big = Buffer.alloc(8);
    big.writeBigInt64LE(-5000000000n);
    expect(rest).toContain(`\x81a\x02\xf4${big.toString('latin1')}\x09\xff`);
    const bytes = [...rows].map((byte) => Buffer.from([byte]));
    expect((await collect(bytes, 5000)).equals(whole)).toBe(true);
  });

  it('refuses rows cut off within a row', async () => {
    const rows = Buffer.concat([string('p:user:1'), string(''), int64(5n), text('VN')]);
    await expect(collect([rows.subarray(0, rows.length - 1)], 0)).rejects.toThrow(/end within a row/);
  });

  it('restores listpacks on Redis 7 and later only', () => {
    expect(restoresListpacks('7.0.15')).toBe(true);
    expect(restoresListpacks('7.2.4')).toBe(true);
    expect(restoresListpacks('8.0.0')).toBe(true);
    expect(restoresListpacks('6.2.14')).toBe(false);
  });
});
