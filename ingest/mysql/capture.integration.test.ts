// Native MySQL capture against a real (embedded MariaDB, or TRIBUTARY_MYSQL_URL) server and the
// embedded ClickHouse engine: snapshot, then the row binary log, under a random workload over the
// awkward types; the mirrors must equal the source tables value for value.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { expectNoDuplicateVersions } from '../../test/mirror-equality.ts';
import { expectMysqlMirrorEqualsSource, readMysqlSourceAndMirror } from '../../test/mysql-mirror-equality.ts';
import { AWKWARD_DDL, KEYLESS_DDL, MysqlWorkload } from '../../test/mysql-workload.ts';
import { execute, MYSQL_SERVER, startTestMysql, type TestMysql } from '../../test/mysql.ts';
import { scratchDir } from '../../test/scratch.ts';
import { waitFor } from '../../test/wait.ts';
import { listDeadLetters, openWarehouse, readCheckpoint, type Warehouse } from '../../warehouse/index.ts';
import { WarehouseSink } from '../landing/warehouse-sink.ts';
import { createPiiPolicy, DEFAULT_DROP_FIELDS, DEFAULT_HASH_FIELDS } from '../pii.ts';
import { runMysqlCapture, type MysqlCaptureOptions } from './capture.ts';

let mysqlServer: TestMysql;
let warehouse: Warehouse;
const pii = createPiiPolicy({
  dropFields: DEFAULT_DROP_FIELDS,
  hashFields: DEFAULT_HASH_FIELDS,
  hashPii: false,
  hashKey: 'test-key-0123456789',
});

beforeAll(async () => {
  mysqlServer = await startTestMysql();
  warehouse = await openWarehouse({ kind: 'chdb', path: join(await scratchDir('mysql-wh'), 'warehouse') });
});
afterAll(async () => {
  await warehouse?.close();
  await mysqlServer?.stop();
});

function capture(url: string, sourceName: string, extra: Partial<MysqlCaptureOptions> = {}) {
  return runMysqlCapture({
    sourceUrl: url,
    sourceName,
    tables: { kind: 'all' },
    sink: new WarehouseSink(warehouse),
    pii,
    untilCaughtUp: true,
    batchRows: 500,
    ...extra,
  });
}

describe(`native MySQL capture (${MYSQL_SERVER})`, () => {
  it('mirrors a random workload over the awkward types: snapshot, stream, FLUSH BINARY LOGS mid-stream', async () => {
    const { name, url } = await mysqlServer.createDatabase('awkward');
    await execute(url, `${AWKWARD_DDL}; ${KEYLESS_DDL}`);
    const workload = await MysqlWorkload.connect(url, 7);
    try {
      await workload.run(60);
      const first = await capture(url, 'aw');
      expect(first.snapshotRows).toBeGreaterThan(0);
      await workload.run(80);
      await execute(url, 'FLUSH BINARY LOGS');
      await workload.run(80);
      const second = await capture(url, 'aw');
      expect(second.snapshotRows).toBe(0);
      expect(second.streamedChanges).toBeGreaterThan(100);
      await execute(url, 'TRUNCATE TABLE keyless');
      await execute(url, "INSERT INTO keyless VALUES ('after', 1.50, '2024-01-01 00:00:00.123')");
      await workload.run(20);
      await capture(url, 'aw');
      for (const table of ['awkward', 'keyless'])
        await expectMysqlMirrorEqualsSource({
          url,
          database: name,
          table,
          warehouse,
          mirror: `raw.aw_${name}_${table}`,
          exclude: ['password_hash'],
        });
      await expectNoDuplicateVersions(warehouse, `raw.aw_${name}_awkward`, ['id']);
      const columns = await warehouse.query<{ name: string }>(
        `SELECT name FROM system.columns WHERE concat(database, '.', table) = {table:String}`,
        { table: `raw.aw_${name}_awkward` },
      );
      expect(columns.map((column) => column.name)).not.toContain('password_hash');
      expect(await listDeadLetters(warehouse)).toEqual([]);
    } finally {
      await workload.close();
    }
  });

  it('follows ADD, DROP and MODIFY COLUMN mid-stream, decoding each row with its own shape', async () => {
    const { name, url } = await mysqlServer.createDatabase('shapes');
    await execute(
      url,
      "CREATE TABLE course (id INT PRIMARY KEY, title VARCHAR(20), seats SMALLINT, fee DECIMAL(8,2)); INSERT INTO course VALUES (1, 'a', 10, 1.50), (2, 'b', 20, 2.50)",
    );
    await capture(url, 'sh');
    // Written while capture is away: the next run reads rows of three shapes from the binlog, with
    // the catalog already at the last one.
    await execute(
      url,
      "INSERT INTO course VALUES (3, 'c', 30, 3.50); UPDATE course SET seats = 11 WHERE id = 1",
    );
    await execute(url, 'ALTER TABLE course ADD COLUMN rating DECIMAL(3,2) NULL AFTER title');
    await execute(
      url,
      "INSERT INTO course VALUES (4, 'd', 4.25, 40, 4.50); UPDATE course SET rating = 3.75 WHERE id = 2",
    );
    await execute(url, 'ALTER TABLE course DROP COLUMN seats');
    await execute(
      url,
      "INSERT INTO course VALUES (5, 'e', 5.00, 5.50); UPDATE course SET fee = 9.99 WHERE id = 3",
    );
    await execute(url, 'ALTER TABLE course MODIFY COLUMN title VARCHAR(200)');
    await execute(
      url,
      `INSERT INTO course VALUES (6, '${'long title '.repeat(10)}', 1.00, 6.50); DELETE FROM course WHERE id = 4`,
    );
    const result = await capture(url, 'sh');
    expect(result.snapshotRows).toBe(0);
    const mirror = `raw.sh_${name}_course`;
    await expectMysqlMirrorEqualsSource({ url, database: name, table: 'course', warehouse, mirror });
    // The dropped column stays, NULL for rows written after the drop.
    const seats = await warehouse.query<{ id: number; seats: number | null }>(
      `SELECT id, seats FROM ${mirror} FINAL WHERE _is_deleted = 0 ORDER BY id`,
    );
    expect(seats).toEqual([
      { id: 1, seats: 11 },
      { id: 2, seats: 20 },
      { id: 3, seats: null },
      { id: 5, seats: null },
      { id: 6, seats: null },
    ]);
    // Capture keeps following the table as it is now.
    await execute(url, "INSERT INTO course VALUES (7, 'g', 2.00, 7.50)");
    await capture(url, 'sh');
    await expectMysqlMirrorEqualsSource({ url, database: name, table: 'course', warehouse, mirror });
    expect(await listDeadLetters(warehouse)).toEqual([]);
  });

  it('lands rows written before a MODIFY COLUMN with the encoding of their own shape', async () => {
    const { name, url } = await mysqlServer.createDatabase('encodings');
    // FLOAT keeps the table on the envelope path; `at` goes from milliseconds to microseconds in
    // the envelope (Debezium's adaptive precision).
    await execute(url, 'CREATE TABLE reading (id INT PRIMARY KEY, at DATETIME(3), level FLOAT)');
    await capture(url, 'enc');
    await execute(
      url,
      "INSERT INTO reading VALUES (1, '2024-05-01 10:00:00.123', 0.5), (2, '2024-05-02 11:00:00.456', 1.5)",
    );
    await execute(url, 'ALTER TABLE reading MODIFY COLUMN at DATETIME(6)');
    await execute(url, "INSERT INTO reading VALUES (3, '2024-05-03 12:00:00.789012', 2.5)");
    // Both shapes' rows land in one batch, after the mirror took the new shape.
    await capture(url, 'enc');
    await expectMysqlMirrorEqualsSource({
      url,
      database: name,
      table: 'reading',
      warehouse,
      mirror: `raw.enc_${name}_reading`,
    });
  });

  it('follows CREATE, RENAME and DROP TABLE mid-stream: a table that appears is snapshotted and streamed, one gone is emptied', async () => {
    const { name, url } = await mysqlServer.createDatabase('tables');
    await execute(
      url,
      "CREATE TABLE course (id INT PRIMARY KEY, title VARCHAR(20)); INSERT INTO course VALUES (1, 'a'), (2, 'b')",
    );
    const mirror = (table: string) => `raw.tb_${name}_${table}`;
    const live = async (table: string) =>
      Number(
        (
          await warehouse.query<{ n: string }>(
            `SELECT count() AS n FROM ${mirror(table)} FINAL WHERE _is_deleted = 0`,
          )
        )[0]?.n,
      );
    const equal = async (table: string) => {
      const { source, mirror: mirrored } = await readMysqlSourceAndMirror({
        url,
        database: name,
        table,
        warehouse,
        mirror: mirror(table),
      });
      return JSON.stringify(source) === JSON.stringify(mirrored);
    };
    const expectMirrored = (table: string) =>
      expectMysqlMirrorEqualsSource({ url, database: name, table, warehouse, mirror: mirror(table) });
    const logs: string[] = [];
    const stop = new AbortController();
    const streaming = capture(url, 'tb', {
      untilCaughtUp: false,
      signal: stop.signal,
      events: { log: (message) => logs.push(message), warn: (message) => logs.push(message) },
    });
    try {
      await waitFor('the snapshot', async () => (await live('course')) === 2);
      await execute(
        url,
        `INSERT INTO course VALUES (3, 'c');
         CREATE TABLE lesson (course_id INT, position INT, title VARCHAR(20), PRIMARY KEY (course_id, position));
         INSERT INTO lesson VALUES (1, 1, 'x'), (1, 2, 'y')`,
      );
      await waitFor('the created table', () => equal('lesson'));
      await execute(
        url,
        `RENAME TABLE course TO course_v2;
         INSERT INTO course_v2 VALUES (4, 'd'); UPDATE course_v2 SET title = 'A' WHERE id = 1;
         UPDATE lesson SET title = 'X' WHERE position = 1`,
      );
      await waitFor(
        'the renamed table',
        async () => (await live('course')) === 0 && (await equal('course_v2')),
      );
      // Both tables are captured by now, so these rows can only come through the stream, after it
      // read past a table created and dropped again.
      await execute(
        url,
        `CREATE TABLE scratch (id INT PRIMARY KEY); INSERT INTO scratch VALUES (1); DROP TABLE scratch;
         INSERT INTO lesson VALUES (2, 1, 'z'); DELETE FROM course_v2 WHERE id = 2`,
      );
      await waitFor(
        'the stream past the dropped table',
        async () => (await equal('lesson')) && (await equal('course_v2')),
      );
    } finally {
      stop.abort();
      await streaming;
    }
    expect(logs.some((line) => line.startsWith("the database's tables changed"))).toBe(true);
    for (const table of ['lesson', 'course_v2']) await expectMirrored(table);
    await expectNoDuplicateVersions(warehouse, mirror('lesson'), ['course_id', 'position']);
    // The table renamed away has no live row; its history stays in the raw mirror.
    expect(await live('course')).toBe(0);
    const scratch = await warehouse.query<{ n: string }>(
      `SELECT count() AS n FROM system.tables WHERE concat(database, '.', name) = {t:String}`,
      { t: mirror('scratch') },
    );
    if (Number(scratch[0]?.n) > 0) expect(await live('scratch')).toBe(0);
    // A later run starts from the stored position with the tables as they are now: no new snapshot.
    await execute(url, "INSERT INTO lesson VALUES (3, 1, 'w')");
    const again = await capture(url, 'tb', {
      events: { log: (message) => logs.push(message), warn: (message) => logs.push(message) },
    });
    expect(again.snapshotRows, logs.join('\n')).toBe(0);
    await expectMirrored('lesson');
    expect(await listDeadLetters(warehouse)).toEqual([]);
  });

  it('a position purged from the binlog: a clear warning, a new snapshot, and equal mirrors', async () => {
    const { name, url } = await mysqlServer.createDatabase('purged');
    await execute(url, `${AWKWARD_DDL}; ${KEYLESS_DDL}`);
    const workload = await MysqlWorkload.connect(url, 5, { largeRows: false });
    try {
      await workload.run(30);
      await capture(url, 'pu');
      await workload.run(30);
      // MariaDB keeps a file until its binlog checkpoint moved past it: rotate and purge until the
      // files capture read are gone.
      for (let attempt = 0; ; attempt++) {
        await execute(url, 'FLUSH BINARY LOGS');
        const [{ File: current }] = (await execute(url, 'SHOW MASTER STATUS')) as [{ File: string }];
        await execute(mysqlServer.url, `PURGE BINARY LOGS TO '${current}'`);
        const logs = (await execute(url, 'SHOW BINARY LOGS')) as { Log_name: string }[];
        if (logs.length === 1) break;
        if (attempt > 20) throw new Error(`the server kept ${logs.map((log) => log.Log_name).join(', ')}`);
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
      const warnings: string[] = [];
      const result = await capture(url, 'pu', { events: { warn: (message) => warnings.push(message) } });
      expect(result.resnapshots).toBe(1);
      expect(warnings.join('\n')).toMatch(
        /no longer in the server's binary log \(purged\); snapshotting again/,
      );
      await expectMysqlMirrorEqualsSource({
        url,
        database: name,
        table: 'awkward',
        warehouse,
        mirror: `raw.pu_${name}_awkward`,
        exclude: ['password_hash'],
      });
    } finally {
      await workload.close();
    }
  });

  it('a snapshot taken while writers commit loses no change and applies none twice', async () => {
    const { name, url } = await mysqlServer.createDatabase('busy');
    await execute(url, `${AWKWARD_DDL}; ${KEYLESS_DDL}`);
    const workload = await MysqlWorkload.connect(url, 9, { largeRows: false });
    try {
      await workload.run(150);
      let stop = false;
      const writing = (async () => {
        while (!stop) await workload.step();
      })();
      // Small chunks: the snapshot spans many of the writers' commits.
      const stopCapture = new AbortController();
      const running = capture(url, 'busy', {
        untilCaughtUp: false,
        snapshotChunkRows: 20,
        signal: stopCapture.signal,
      });
      // Writers keep committing through the whole snapshot (however long it takes under load) and a
      // moment of streaming after it; stopping during the snapshot would only abort the capture.
      await waitFor('the snapshot to finish', async () => {
        const state = await readCheckpoint(
          warehouse,
          'mysql:busy',
          'snapshot',
          z.object({ done: z.boolean() }),
        );
        return state?.done === true;
      });
      await new Promise((resolve) => setTimeout(resolve, 1000));
      stop = true;
      await writing;
      stopCapture.abort();
      await running;
      await capture(url, 'busy');
      await expectMysqlMirrorEqualsSource({
        url,
        database: name,
        table: 'awkward',
        warehouse,
        mirror: `raw.busy_${name}_awkward`,
        exclude: ['password_hash'],
      });
      await expectNoDuplicateVersions(warehouse, `raw.busy_${name}_awkward`, ['id']);
    } finally {
      await workload.close();
    }
  });
});
