// Native MySQL capture against a real (embedded MariaDB, or TRIBUTARY_MYSQL_URL) server and the
// embedded ClickHouse engine: snapshot, then the row binary log, under a random workload over the
// awkward types; the mirrors must equal the source tables value for value.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectNoDuplicateVersions } from '../../test/mirror-equality.ts';
import { expectMysqlMirrorEqualsSource } from '../../test/mysql-mirror-equality.ts';
import { AWKWARD_DDL, KEYLESS_DDL, MysqlWorkload } from '../../test/mysql-workload.ts';
import { execute, MYSQL_SERVER, startTestMysql, type TestMysql } from '../../test/mysql.ts';
import { scratchDir } from '../../test/scratch.ts';
import { listDeadLetters, openWarehouse, type Warehouse } from '../../warehouse/index.ts';
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
          mirror: `raw_aw_${name}_${table}`,
          exclude: ['password_hash'],
        });
      await expectNoDuplicateVersions(warehouse, `raw_aw_${name}_awkward`, ['id']);
      const columns = await warehouse.query<{ name: string }>(
        `SELECT name FROM system.columns WHERE database = currentDatabase() AND table = {table:String}`,
        { table: `raw_aw_${name}_awkward` },
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
    const mirror = `raw_sh_${name}_course`;
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

  it('a position purged from the binlog: a clear warning, a new snapshot, and equal mirrors', async () => {
    const { name, url } = await mysqlServer.createDatabase('purged');
    await execute(url, `${AWKWARD_DDL}`);
    const workload = await MysqlWorkload.connect(url, 5, { largeRows: false });
    try {
      await workload.run(30);
      await capture(url, 'pu');
      await workload.run(30);
      await execute(url, 'FLUSH BINARY LOGS');
      const [{ File: current }] = (await execute(url, 'SHOW MASTER STATUS')) as [{ File: string }];
      await execute(mysqlServer.url, `PURGE BINARY LOGS TO '${current}'`);
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
        mirror: `raw_pu_${name}_awkward`,
        exclude: ['password_hash'],
      });
    } finally {
      await workload.close();
    }
  });

  it('a snapshot taken while writers commit loses no change and applies none twice', async () => {
    const { name, url } = await mysqlServer.createDatabase('busy');
    await execute(url, `${AWKWARD_DDL}`);
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
      await new Promise((resolve) => setTimeout(resolve, 4000));
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
        mirror: `raw_busy_${name}_awkward`,
        exclude: ['password_hash'],
      });
      await expectNoDuplicateVersions(warehouse, `raw_busy_${name}_awkward`, ['id']);
    } finally {
      await workload.close();
    }
  });
});
