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
});
