// RESTORE payloads built by the engine against a private redis-server: each restored hash is the
// one HSET of the same texts into a new key leaves, byte for byte (DUMP, uncompressed), at every
// integer encoding's edges and for texts that look like integers; rows too long for a listpack
// take the fallback.
import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, type RunningRedis } from '../stack/index.ts';
import { scratchDir } from '../test/scratch.ts';
import { openWarehouse, type Warehouse } from '../warehouse/index.ts';
import { restoreCommands, restoreRowsSql, type DumpField } from './redis-dump.ts';
import { RespWriter } from './resp-writer.ts';

let dir: string;
let redis: RunningRedis;
let warehouse: Warehouse;

const integers = [
  '0',
  '127',
  '128',
  '-1',
  '-4096',
  '4095',
  '4096',
  '-4097',
  '32767',
  '-32768',
  '32768',
  '8388607',
  '-8388608',
  '8388608',
  '2147483647',
  '-2147483648',
  '2147483648',
  '9223372036854775807',
  '-9223372036854775808',
  'NULL',
];
const floats = ['1', '0.5', '-0', '1e21', 'NULL', '3e9', 'nan', 'inf', '-12.25', '4096'];
const texts = [
  "'01'",
  "'-0'",
  "'12'",
  "''",
  "'VN'",
  "repeat('x', 63)",
  "repeat('y', 64)",
  "'9223372036854775808'",
  'NULL',
  "repeat('é', 32)",
  "'-9223372036854775808'",
  "'+5'",
  "' 7'",
];
/** Rows too long for the default listpack (a value over 64 bytes). */
const tooLong = ["repeat('z', 65)", "repeat('ü', 40)"];
const ROWS = 40;

const fields: DumpField[] = [
  { name: '_as_of', sql: 'toString(timestamp)', integer: false, nullable: false },
  { name: 'count_7d', sql: 'i', integer: true, nullable: true },
  { name: 'score_avg', sql: 'toString(f)', integer: false, nullable: true },
  { name: 'country', sql: 's', integer: false, nullable: true },
];

beforeAll(async () => {
  dir = await scratchDir('redis-dump');
  redis = await startRedis({ dataDir: dir });
  warehouse = await openWarehouse({ kind: 'chdb', path: join(dir, 'warehouse') });
  const pick = (values: string[]) => `[${values.join(', ')}][1 + number % ${values.length}]`;
  await warehouse.command(
    `CREATE TABLE vectors ENGINE = MergeTree ORDER BY id AS
     SELECT toString(number) AS id, toDateTime64('2026-03-31 23:59:59.999', 3, 'UTC') - number AS timestamp,
       CAST(${pick(integers)} AS Nullable(Int64)) AS i, CAST(${pick(floats)} AS Nullable(Float64)) AS f,
       CAST(if(number >= ${ROWS - tooLong.length}, ${pick(tooLong)}, ${pick(texts)}) AS Nullable(String)) AS s
     FROM numbers(${ROWS})`,
  );
}, 120_000);
afterAll(async () => {
  await warehouse?.close();
  await redis?.stop();
});

/**
 * Writes the rows of `table` (`id` and `fields`) into database `db` by RESTORE (a fallback writes
 * `HSET key _fallback 1`).
 */
async function restore(
  db: number,
  ttlMs: number,
  table = { name: 'vectors', fields, rows: ROWS, limits: { entries: 128, value: 64 } },
): Promise<void> {
  const rows = restoreRowsSql({
    from: table.name,
    key: "concat('v:', id)",
    fields: table.fields,
    fallback: `concat('*4\\r\\n$4\\r\\nHSET\\r\\n$', toString(length(id) + 2), '\\r\\nv:', id, '\\r\\n$9\\r\\n_fallback\\r\\n$1\\r\\n1\\r\\n')`,
    limits: table.limits,
  });
  const path = join(dir, `rows-${db}.bin`);
  await warehouse.exportToFile(rows.sql, 'RowBinary', path);
  const writer = await RespWriter.connect({ host: '127.0.0.1', port: redis.port, db, tls: false });
  try {
    await writer.sendEncoded(restoreCommands(createReadStream(path), table.fields, ttlMs), table.rows);
    await writer.flush();
  } finally {
    writer.close();
  }
}

describe('hashes by RESTORE', () => {
  it('equal the hashes HSET of the same texts makes, field for field and byte for byte', async () => {
    await restore(1, 0);
    const client = new Redis({ port: redis.port, db: 2 });
    const restored = new Redis({ port: redis.port, db: 1 });
    try {
      await client.config('SET', 'rdbcompression', 'no');
      const rows = await warehouse.query<Record<string, string | null>>(
        `SELECT id, toString(timestamp) AS _as_of, toString(i) AS count_7d, toString(f) AS score_avg, s AS country
         FROM vectors ORDER BY toUInt64(id)`,
      );
      let compared = 0;
      for (const row of rows) {
        const key = `v:${row.id}`;
        const pairs = fields.flatMap((field) => {
          const value = row[field.name];
          return value === null || value === undefined ? [] : [field.name, value];
        });
        await client.hset(key, ...pairs);
        const fallback = Number(row.id) >= ROWS - tooLong.length;
        if (fallback) {
          expect(await restored.hgetall(key)).toEqual({ _fallback: '1' });
          continue;
        }
        expect(await restored.hgetall(key)).toEqual(await client.hgetall(key));
        expect(await restored.object('ENCODING', key)).toBe('listpack');
        expect((await restored.dumpBuffer(key)).toString('hex')).toBe(
          (await client.dumpBuffer(key)).toString('hex'),
        );
        expect(await restored.pttl(key)).toBe(-1);
        compared++;
      }
      expect(compared).toBe(ROWS - tooLong.length);
      // Every value that looks like an int64 went in as one: the texts stay the same.
      expect(await restored.hget('v:17', 'count_7d')).toBe('9223372036854775807');
      expect(await restored.hget('v:18', 'count_7d')).toBe('-9223372036854775808');
    } finally {
      client.disconnect();
      restored.disconnect();
    }
  });

  it('sets the time to live, and replaces a hash whole', async () => {
    const client = new Redis({ port: redis.port, db: 3 });
    try {
      await client.hset('v:0', 'stale', '1');
      await restore(3, 60_000);
      const ttl = await client.pttl('v:0');
      expect(ttl).toBeGreaterThan(50_000);
      expect(ttl).toBeLessThanOrEqual(60_000);
      expect(await client.hexists('v:0', 'stale')).toBe(0);
    } finally {
      client.disconnect();
    }
  });

  it('equal DUMP at every payload size: its RDB length in 6, 14 or 32 bits, its bulk length of 2 to 5 digits', async () => {
    const wide: DumpField[] = Array.from({ length: 6 }, (_, index) => ({
      name: `text_${index}`,
      sql: `t${index}`,
      integer: false,
      nullable: true,
    }));
    // Per row, every value this long (the first row's first value alone): payloads of ~30 bytes,
    // ~260, ~1,300, ~7,300 and ~23,500.
    const sizes = [1, 30, 200, 1200, 3900];
    const present = (row: number, index: number) => row > 0 || index === 0;
    await warehouse.command(
      `CREATE TABLE wide ENGINE = MergeTree ORDER BY id AS
       SELECT toString(number) AS id,
         ${wide.map((field, index) => `CAST(if(number = 0 AND ${index} > 0, NULL, repeat(char(97 + ${index}), [${sizes.join(', ')}][number + 1])) AS Nullable(String)) AS ${field.sql}`).join(', ')}
       FROM numbers(${sizes.length})`,
    );
    const client = new Redis({ port: redis.port, db: 5 });
    const restored = new Redis({ port: redis.port, db: 4 });
    // A listpack holds values up to 4,095 bytes here, as HSET must keep them for the comparison.
    await client.config('SET', 'hash-max-listpack-value', '4096');
    try {
      await client.config('SET', 'rdbcompression', 'no');
      await restore(4, 0, {
        name: 'wide',
        fields: wide,
        rows: sizes.length,
        limits: { entries: 128, value: 4096 },
      });
      const lengths: number[] = [];
      const lengthWidths: number[] = [];
      for (const [row, size] of sizes.entries()) {
        const key = `v:${row}`;
        await client.hset(
          key,
          ...wide.flatMap((field, index) =>
            present(row, index) ? [field.name, String.fromCharCode(97 + index).repeat(size)] : [],
          ),
        );
        const dump = await client.dumpBuffer(key);
        expect((await restored.dumpBuffer(key)).toString('hex')).toBe(dump.toString('hex'));
        lengths.push(dump.length);
        // The RDB length's two top bits after the type byte: 0 for 6 bits, 1 for 14, 2 for 32.
        lengthWidths.push((dump[1] as number) >> 6);
      }
      expect(lengthWidths).toEqual([0, 1, 1, 1, 2]);
      expect(lengths.map((length) => String(length).length)).toEqual([2, 3, 4, 4, 5]);
    } finally {
      await client.config('SET', 'hash-max-listpack-value', '64');
      client.disconnect();
      restored.disconnect();
    }
  });
});
