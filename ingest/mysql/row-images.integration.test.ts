// Row images written straight from the binlog's bytes must be the very bytes the envelope path
// writes (zongji's values, the table codec, the mirror row, RowBinary): every change of a random
// workload over each type the image path writes is read twice (with row images, and decoded by
// zongji as it is read) and encoded both ways, on a real server (embedded MariaDB, or
// TRIBUTARY_MYSQL_URL); the envelope an image decodes into when asked must be zongji's own. Values the image path leaves to the envelope
// (dates the mirror's types do not hold, zero dates, an invalid ENUM) must be refused by it, a
// hashed PII column must never be copied from the source's bytes, and a capture through the image
// path must leave the mirror equal to the table.
import { join } from 'node:path';
import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectMysqlMirrorEqualsSource } from '../../test/mysql-mirror-equality.ts';
import { execute, MYSQL_SERVER, startTestMysql, type TestMysql } from '../../test/mysql.ts';
import { scratchDir } from '../../test/scratch.ts';
import { openWarehouse, type Warehouse } from '../../warehouse/index.ts';
import type { ChangeEnvelope } from '../envelope.ts';
import type { SourceChange } from '../landing/types.ts';
import { WarehouseSink } from '../landing/warehouse-sink.ts';
import { createRowConverter, mirrorTableFor } from '../mirror/mirror-rows.ts';
import { rowBinaryFormat } from '../mirror/row-binary.ts';
import { createPiiPolicy, DEFAULT_DROP_FIELDS, type PiiPolicy } from '../pii.ts';
import { BinlogChangeStream } from './binlog-change-stream.ts';
import type { BinlogPosition } from './binlog-position.ts';
import { runMysqlCapture } from './capture.ts';
import { checkBinlogCapture, connectMysql, parseMysqlUrl, readMysqlCatalog } from './catalog.ts';
import { createMysqlTableCodec } from './table-codec.ts';

const ENUM_VALUES = Array.from({ length: 300 }, (_, index) => `e${index}`);
const SET_VALUES = Array.from({ length: 64 }, (_, index) => `m${index}`);
const quoted = (values: string[]) => values.map((value) => `'${value}'`).join(',');

/** `doc` is MariaDB's JSON (text); MySQL's JSON is a binary form zongji alone reads, so there it is text. */
const imagesDdl = (json: string) => `CREATE TABLE images (
  id BIGINT UNSIGNED NOT NULL PRIMARY KEY,
  t TINYINT, ut TINYINT UNSIGNED, flag TINYINT(1), s SMALLINT, us SMALLINT UNSIGNED,
  m MEDIUMINT, um MEDIUMINT UNSIGNED, i INT, ui INT UNSIGNED, b BIGINT, ub BIGINT UNSIGNED,
  d9 DECIMAL(9,0), price DECIMAL(10,2), d15 DECIMAL(15,5), d18 DECIMAL(18,9), exact DECIMAL(38,12),
  d65 DECIMAL(65,30), dbl DOUBLE,
  name VARCHAR(120), wide VARCHAR(300), code CHAR(10), note TEXT, tiny_note TINYTEXT, body LONGTEXT, doc ${json},
  bin VARBINARY(32), payload BLOB,
  status ENUM('new','active','it''s done'), tags SET('red','green','blue'),
  big_enum ENUM(${quoted(ENUM_VALUES)}), many SET(${quoted(SET_VALUES.slice(0, 10))}), wide_set SET(${quoted(SET_VALUES)}),
  bit1 BIT(1), b5 BIT(5), bits BIT(12), bits64 BIT(64),
  born DATE, at0 DATETIME, at1 DATETIME(1), at2 DATETIME(2), at3 DATETIME(3), at4 DATETIME(4), at5 DATETIME(5),
  at6 DATETIME(6), ts0 TIMESTAMP NULL DEFAULT NULL, ts3 TIMESTAMP(3) NULL DEFAULT NULL, ts6 TIMESTAMP(6) NULL DEFAULT NULL,
  yr YEAR, email VARCHAR(100), password_hash VARCHAR(100)
) CHARACTER SET utf8mb4`;

/** A table with a column the image path does not read (BINARY(n) is re-padded by zongji). */
const PADDED_DDL = `CREATE TABLE padded (id INT NOT NULL PRIMARY KEY, fixed BINARY(4), label VARCHAR(20))`;

/** Rows from this id on hold a value the image path must leave to the envelope. */
const FIRST_REFUSED = 900;

let server: TestMysql;

beforeAll(async () => {
  server = await startTestMysql();
});
afterAll(async () => {
  await server?.stop();
});

/** A small deterministic generator (mulberry32), so a failure is the same on every run. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function rowValues(id: number, next: () => number): unknown[] {
  const pick = <T>(values: readonly T[]): T => values[Math.floor(next() * values.length)] as T;
  const maybe = <T>(value: T): T | null => (next() < 0.12 ? null : value);
  const integer = (min: number, max: number) => min + Math.floor(next() * (max - min + 1));
  const digits = (count: number) => Array.from({ length: count }, () => String(integer(0, 9))).join('');
  const decimal = (whole: number, fraction: number) =>
    `${pick(['', '-'])}${digits(integer(1, whole))}${fraction ? `.${digits(fraction)}` : ''}`;
  const text = (length: number) =>
    Array.from({ length }, () => pick(['a', 'Z', ' ', 'é', 'ß', '€', '😀', "'", '"', '\\', '\n', '0'])).join(
      '',
    );
  const day = () =>
    `${integer(1900, 2254)}-${String(integer(1, 12)).padStart(2, '0')}-${String(integer(1, 28)).padStart(2, '0')}`;
  const clock = () =>
    `${String(integer(0, 23)).padStart(2, '0')}:${String(integer(0, 59)).padStart(2, '0')}:${String(integer(0, 59)).padStart(2, '0')}`;
  const instant = () =>
    `${integer(1971, 2037)}-${String(integer(1, 12)).padStart(2, '0')}-${String(integer(1, 28)).padStart(2, '0')} ${clock()}`;
  return [
    id,
    maybe(pick([-128, 127, 0, integer(-128, 127)])),
    maybe(pick([0, 255, integer(0, 255)])),
    maybe(pick([0, 1])),
    maybe(pick([-32768, 32767, integer(-32768, 32767)])),
    maybe(pick([0, 65535, integer(0, 65535)])),
    maybe(pick([-8388608, 8388607, -1, integer(-8388608, 8388607)])),
    maybe(pick([0, 16777215, integer(0, 16777215)])),
    maybe(pick([-2147483648, 2147483647, integer(-2147483648, 2147483647)])),
    maybe(pick([0, 4294967295, integer(0, 4294967295)])),
    maybe(pick(['-9223372036854775808', '9223372036854775807', '-1', String(integer(-1e15, 1e15))])),
    maybe(pick(['18446744073709551615', '9007199254740993', '0', String(integer(0, 1e15))])),
    maybe(pick(['-999999999', '999999999', '0', decimal(9, 0)])),
    maybe(pick(['-99999999.99', '0.00', '-0.01', decimal(8, 2)])),
    maybe(decimal(10, 5)),
    maybe(pick(['999999999.999999999', '-0.000000001', decimal(9, 9)])),
    maybe(pick(['-99999999999999999999999999.999999999999', decimal(26, 12)])),
    maybe(pick(['0.000000000000000000000000000001', decimal(35, 30)])),
    maybe(pick([0, -0.5, 1e308, -2.2250738585072014e-308, next() * 1e6 - 5e5])),
    maybe(text(integer(0, 40))),
    maybe(text(integer(0, 300))),
    maybe(pick(['', 'abc', 'ten chars!', 'x'])),
    maybe(text(integer(0, 400))),
    maybe(text(integer(0, 60))),
    maybe(text(integer(0, 2000))),
    maybe(JSON.stringify({ id, tag: text(integer(0, 8)), list: [1, 2.5, null] })),
    maybe(Buffer.from(Array.from({ length: integer(0, 32) }, () => integer(0, 255)))),
    maybe(Buffer.from(Array.from({ length: integer(0, 300) }, () => integer(0, 255)))),
    maybe(pick(['new', 'active', "it's done"])),
    maybe(pick(['', 'red', 'green,blue', 'red,green,blue'])),
    maybe(pick(['e0', 'e255', 'e256', 'e299', pick(ENUM_VALUES)])),
    maybe(
      SET_VALUES.slice(0, 10)
        .filter(() => next() < 0.4)
        .join(','),
    ),
    maybe(pick(['m63', 'm0,m31,m32,m63', SET_VALUES.filter(() => next() < 0.3).join(',')])),
    maybe(pick([0, 1])),
    maybe(integer(0, 31)),
    maybe(integer(0, 4095)),
    maybe(pick([18446744073709551615n, 0n, BigInt(integer(0, 1e15))])),
    maybe(pick(['1900-01-01', '2299-12-31', '2024-02-29', day()])),
    maybe(pick(['1900-01-01 00:00:00', '2199-12-31 23:59:59', `${day()} ${clock()}`])),
    maybe(`${day()} ${clock()}.${digits(1)}`),
    maybe(`${day()} ${clock()}.${digits(2)}`),
    maybe(`${day()} ${clock()}.${digits(3)}`),
    maybe(`${day()} ${clock()}.${digits(4)}`),
    maybe(`${day()} ${clock()}.${digits(5)}`),
    maybe(
      pick([`${day()} ${clock()}.${digits(6)}`, '1969-12-31 23:59:59.999999', '1900-01-01 00:00:00.000001']),
    ),
    maybe(instant()),
    maybe(`${instant()}.${digits(3)}`),
    maybe(`${instant()}.${digits(6)}`),
    maybe(pick([1901, 2155, integer(1901, 2155)])),
    maybe(`user${id}@example.com`),
    maybe(`secret-${id}`),
  ];
}

/**
 * Values the image path leaves to the envelope, each set by an update of its own row from
 * FIRST_REFUSED on. `mirrored`: the envelope path stores it as the source holds it (DateTime64
 * ends at 2299, and zongji reads an invalid ENUM's empty value as NULL: both known, both theirs).
 */
const REFUSED_ROWS = [
  { assignment: "born = '1000-01-01'", mirrored: true },
  { assignment: "born = '0000-00-00'", mirrored: true },
  { assignment: "at0 = '1899-12-31 23:59:59'", mirrored: true },
  { assignment: "at6 = '9999-12-31 23:59:59.999999'", mirrored: false },
  { assignment: "at3 = '2024-00-10 10:00:00'", mirrored: true },
  { assignment: "status = ''", mirrored: false },
];

async function writeWorkload(url: string, seed: number, refused = REFUSED_ROWS): Promise<void> {
  const connection = await mysql.createConnection({ uri: url, supportBigNumbers: true });
  try {
    // Not strict, so the server stores the zero and invalid values the refused rows need.
    await connection.query("SET time_zone = '+00:00', sql_mode = 'ALLOW_INVALID_DATES'");
    const next = random(seed);
    const placeholders = `(${rowValues(0, next)
      .map(() => '?')
      .join(', ')})`;
    for (let batch = 0; batch < 6; batch++) {
      await connection.query('START TRANSACTION');
      for (let index = 1; index <= 40; index++) {
        const id = batch * 40 + index;
        await connection.query(`INSERT INTO images VALUES ${placeholders}`, rowValues(id, next));
      }
      // Updates rewrite whole rows (every value again, the key kept); some rows are deleted.
      for (let index = 0; index < 15; index++) {
        const id = 1 + Math.floor(next() * (batch + 1) * 40);
        const values = rowValues(id, next).slice(1);
        await connection.query(`REPLACE INTO images VALUES ${placeholders}`, [id, ...values]);
        await connection.query(
          `UPDATE images SET i = i + 1, note = CONCAT(COALESCE(note, ''), '+') WHERE id = ?`,
          [id],
        );
      }
      await connection.query('DELETE FROM images WHERE id = ?', [batch * 40 + 3]);
      await connection.query('COMMIT');
    }
    // A key change: two changes, decoded by zongji (no image).
    await connection.query('UPDATE images SET id = 5000 WHERE id = 1');
    for (const [offset, { assignment }] of refused.entries()) {
      const id = FIRST_REFUSED + offset;
      await connection.query(`INSERT INTO images VALUES ${placeholders}`, rowValues(id, next));
      await connection.query(`UPDATE images SET ${assignment} WHERE id = ?`, [id]);
    }
    await connection.query("INSERT INTO padded VALUES (1, 'ab', 'one'), (2, NULL, 'two')");
    await connection.query("UPDATE padded SET label = 'deux' WHERE id = 2");
  } finally {
    await connection.end();
  }
}

/** MariaDB's JSON is text; MySQL's is a binary form zongji alone reads (that table would not take this path). */
async function jsonType(url: string): Promise<string> {
  const connection = await mysql.createConnection({ uri: url });
  try {
    const [rows] = (await connection.query('SELECT VERSION() AS version')) as unknown as [
      { version: string }[],
    ];
    return /mariadb/i.test(rows[0]?.version ?? '') ? 'JSON' : 'LONGTEXT';
  } finally {
    await connection.end();
  }
}

async function position(url: string): Promise<BinlogPosition> {
  const connection = await mysql.createConnection({ uri: url });
  try {
    const [rows] = (await connection.query('SHOW MASTER STATUS')) as unknown as [
      { File: string; Position: number }[],
    ];
    return { file: rows[0]?.File ?? '', pos: Number(rows[0]?.Position) };
  } finally {
    await connection.end();
  }
}

/** Every change of the log between two positions, read as the capture reads it. */
async function readChanges(
  url: string,
  pii: PiiPolicy,
  from: BinlogPosition,
  to: BinlogPosition,
  keepRowImages = true,
) {
  const settings = parseMysqlUrl(url);
  const connection = await connectMysql(settings);
  const server = await checkBinlogCapture(connection, settings);
  const catalog = await readMysqlCatalog(connection, settings.database, { kind: 'all' });
  await connection.end();
  const codecs = new Map(
    catalog.map((table) => [
      table.table,
      createMysqlTableCodec({
        source: 'img',
        database: table.database,
        table: table.table,
        columns: table.columns,
        key: table.key,
        pii,
        onUnknownType: () => undefined,
      }),
    ]),
  );
  const stream = new BinlogChangeStream({
    settings,
    server,
    sourceName: 'img',
    codecs,
    codecFor: (previous) => previous,
    register: async () => undefined,
    selects: () => true,
    target: () => to,
    queueBytes: 4 * 1024 * 1024,
    onHistoryLost: () => undefined,
    warn: () => undefined,
    keepRowImages,
  });
  const changes: SourceChange[] = [];
  const units = stream.read(from);
  for (let next = await units.next(); !next.done; next = await units.next())
    changes.push(...next.value.changes);
  await stream.stop();
  return { changes, codecs };
}

const keepPii = createPiiPolicy({
  dropFields: DEFAULT_DROP_FIELDS,
  hashFields: [],
  hashPii: false,
  hashKey: 'test-key-0123456789',
});

describe(`MySQL row images written as RowBinary (${MYSQL_SERVER})`, () => {
  it('writes the same bytes as the envelope path for every change, and refuses what it must', async () => {
    const { url } = await server.createDatabase('images');
    await execute(url, `${imagesDdl(await jsonType(url))}; ${PADDED_DDL}`);
    const from = await position(url);
    await writeWorkload(url, 20261205);
    const to = await position(url);
    // The same log read twice: with row images, and decoded by zongji as it is read (the reference).
    const { changes, codecs } = await readChanges(url, keepPii, from, to);
    const reference = await readChanges(url, keepPii, from, to, false);
    expect(changes.length).toBe(reference.changes.length);
    const codec = codecs.get('images');
    if (!codec) throw new Error('no codec for images');
    const format = rowBinaryFormat(mirrorTableFor(codec.table).columns);
    if (!format) throw new Error('the images table has no RowBinary format');
    const converter = createRowConverter(codec.table);
    const withoutTime = ({ ts_ms: _, ...envelope }: ChangeEnvelope) => envelope;
    const counts = { same: 0, refused: 0, keyChanges: 0, padded: 0 };
    for (const [index, change] of changes.entries()) {
      const decoded = reference.changes[index] as SourceChange;
      expect(decoded.image).toBeUndefined();
      // The envelope a row image decodes into when asked is zongji's own, at the same version.
      expect(withoutTime(change.envelope)).toEqual(withoutTime(decoded.envelope));
      expect(change.version).toBe(decoded.version);
      if (change.table.endsWith('.padded')) {
        expect(change.image, 'a BINARY(n) table is decoded by zongji').toBeUndefined();
        counts.padded++;
        continue;
      }
      const deleted = decoded.envelope.op === 'd';
      const image = deleted ? decoded.envelope.before : decoded.envelope.after;
      const id = Number((image as Record<string, unknown>).id);
      if (!change.image) {
        expect(change.envelope.keyChange, `change of row ${id} without an image`).toBeDefined();
        counts.keyChanges++;
        continue;
      }
      const converted = converter.convert(image ?? {});
      if (!converted.ok) throw new Error(converted.reason);
      const slow = format.encode([{ row: converted.row, version: decoded.version, deleted }]);
      const fast = format.encodeImages([change]);
      if (id >= FIRST_REFUSED && id < 5000 && decoded.envelope.op === 'u') {
        expect(
          fast,
          `row ${id}: ${REFUSED_ROWS[id - FIRST_REFUSED]?.assignment} is left to the envelope`,
        ).toBeUndefined();
        counts.refused++;
        continue;
      }
      expect(slow, `row ${id} has a RowBinary form on the envelope path`).toBeDefined();
      expect(fast?.toString('hex'), `row ${id} (${decoded.envelope.op})`).toBe(slow?.toString('hex'));
      counts.same++;
    }
    expect(counts.same).toBeGreaterThan(400);
    expect(counts.refused).toBe(REFUSED_ROWS.length);
    expect(counts.keyChanges).toBe(2);
    expect(counts.padded).toBe(3);

    // A hashed PII column: never copied from the source's bytes, so those rows take the envelope.
    const hashing = createPiiPolicy({
      dropFields: DEFAULT_DROP_FIELDS,
      hashFields: ['email'],
      hashPii: true,
      hashKey: 'test-key-0123456789',
    });
    const hashed = await readChanges(url, hashing, from, to);
    const hashedCodec = hashed.codecs.get('images');
    const hashedFormat = hashedCodec && rowBinaryFormat(mirrorTableFor(hashedCodec.table).columns);
    const withImages = hashed.changes.filter((change) => change.image);
    expect(withImages.length).toBeGreaterThan(400);
    for (const change of withImages) expect(hashedFormat?.encodeImages([change])).toBeUndefined();
  });

  it('a capture through the image path leaves the mirror equal to the table', async () => {
    const { name, url } = await server.createDatabase('images_capture');
    await execute(url, `${imagesDdl(await jsonType(url))}; ${PADDED_DDL}`);
    const warehouse: Warehouse = await openWarehouse({
      kind: 'chdb',
      path: join(await scratchDir('mysql-images-wh'), 'warehouse'),
    });
    try {
      const capture = () =>
        runMysqlCapture({
          sourceUrl: url,
          sourceName: 'img',
          tables: { kind: 'all' },
          sink: new WarehouseSink(warehouse),
          pii: keepPii,
          untilCaughtUp: true,
          batchRows: 100,
        });
      expect((await capture()).snapshotRows).toBe(0);
      await writeWorkload(
        url,
        7,
        REFUSED_ROWS.filter((row) => row.mirrored),
      );
      expect((await capture()).streamedChanges).toBeGreaterThan(400);
      for (const table of ['images', 'padded'])
        await expectMysqlMirrorEqualsSource({
          url,
          database: name,
          table,
          warehouse,
          mirror: `raw.img_${name}_${table}`,
          exclude: ['password_hash'],
        });
    } finally {
      await warehouse.close();
    }
  });
});
