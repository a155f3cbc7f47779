import { describe, expect, it } from 'vitest';
import { restoreCommands, restoresListpacks, writeCrc64 } from './redis-dump.ts';

/** RowBinary strings: a LEB128 length, then the bytes. */
function rowBinary(...values: (string | Buffer)[]): Buffer {
  return Buffer.concat(
    values.map((value) => {
      const data = Buffer.from(value);
      const length: number[] = [];
      let n = data.length;
      do {
        length.push((n & 127) | (n >= 128 ? 128 : 0));
        n >>>= 7;
      } while (n > 0);
      return Buffer.concat([Buffer.from(length), data]);
    }),
  );
}

async function collect(chunks: Buffer[], ttlMs: number): Promise<Buffer> {
  const out: Buffer[] = [];
  async function* feed() {
    yield* chunks;
  }
  for await (const chunk of restoreCommands(feed(), ttlMs)) out.push(chunk);
  return Buffer.concat(out);
}

describe('Redis DUMP payloads', () => {
  it("computes Redis' CRC-64 (Jones), its test vector, on and off 8-byte boundaries", () => {
    const out = Buffer.alloc(8);
    writeCrc64(Buffer.from('123456789'), 0, 9, out, 0);
    expect(out.readBigUInt64LE()).toBe(0xe9c6d914c4b8d9can);
    // The same bytes inside a larger buffer give the same checksum.
    const padded = Buffer.from('xx123456789yy');
    const again = Buffer.alloc(10);
    writeCrc64(padded, 2, 11, again, 2);
    expect(again.subarray(2).equals(out)).toBe(true);
  });

  it('frames RESTORE with the checksum, passes fallbacks on as they are, whatever the chunks', async () => {
    const payload = Buffer.from([16, 1, 2, 3, 10, 0]);
    const rows = Buffer.concat([
      rowBinary('p:user:1', payload, ''),
      rowBinary('p:user:2', '', '*2\r\n$3\r\nDEL\r\n$8\r\np:user:2\r\n'),
      rowBinary(`p:user:${'x'.repeat(200)}`, Buffer.alloc(300, 7), ''),
    ]);
    const whole = await collect([rows], 5000);
    const crc = Buffer.alloc(8);
    writeCrc64(payload, 0, payload.length, crc, 0);
    const first = Buffer.concat([
      Buffer.from('*5\r\n$7\r\nRESTORE\r\n$8\r\np:user:1\r\n$4\r\n5000\r\n$14\r\n'),
      payload,
      crc,
      Buffer.from('\r\n$7\r\nREPLACE\r\n'),
    ]);
    expect(whole.subarray(0, first.length).equals(first)).toBe(true);
    expect(whole.subarray(first.length).toString('latin1')).toMatch(
      /^\*2\r\n\$3\r\nDEL\r\n\$8\r\np:user:2\r\n\*5\r\n\$7\r\nRESTORE\r\n\$207\r\np:user:x{200}\r\n\$4\r\n5000\r\n\$308\r\n/,
    );
    const bytes = [...rows].map((byte) => Buffer.from([byte]));
    expect((await collect(bytes, 5000)).equals(whole)).toBe(true);
  });

  it('refuses rows cut off within a row', async () => {
    const rows = rowBinary('p:user:1', Buffer.from([16, 1]), '');
    await expect(collect([rows.subarray(0, rows.length - 1)], 0)).rejects.toThrow(/end within a row/);
  });

  it('restores listpacks on Redis 7 and later only', () => {
    expect(restoresListpacks('7.0.15')).toBe(true);
    expect(restoresListpacks('7.2.4')).toBe(true);
    expect(restoresListpacks('8.0.0')).toBe(true);
    expect(restoresListpacks('6.2.14')).toBe(false);
  });
});
