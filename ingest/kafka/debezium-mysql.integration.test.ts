// The Debezium path for MySQL, all real: the embedded MariaDB (or TRIBUTARY_MYSQL_URL) → Debezium's
// MariaDB (or MySQL) connector on Kafka Connect → Kafka → the ingest worker, beside the native
// capture of the same database under another source name. Both mirrors must equal the source, and
// each other row for row: values, deletions and `_version` (only `_ingested_at` differs).
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConnectClient, mysqlConnector, prepareMysqlSource } from '../../connectors/index.ts';
import { startKafka, startKafkaConnect, type RunningConnect, type RunningKafka } from '../../stack/index.ts';
import { expectMysqlMirrorEqualsSource, readMysqlSourceAndMirror } from '../../test/mysql-mirror-equality.ts';
import { AWKWARD_DDL, KEYLESS_DDL, MysqlWorkload } from '../../test/mysql-workload.ts';
import { execute, MYSQL_SERVER, startTestMysql, type TestMysql } from '../../test/mysql.ts';
import { scratchDir } from '../../test/scratch.ts';
import {
  listDeadLetters,
  openWarehouse,
  quoteIdentifier,
  quoteTable,
  type Warehouse,
} from '../../warehouse/index.ts';
import { WarehouseSink } from '../landing/warehouse-sink.ts';
import { runMysqlCapture } from '../mysql/capture.ts';
import { createPiiPolicy, DEFAULT_DROP_FIELDS, DEFAULT_HASH_FIELDS } from '../pii.ts';
import { KafkaSink } from './kafka-sink.ts';
import { runKafkaWorker } from './worker.ts';

let mysqlServer: TestMysql;
let kafka: RunningKafka;
let connect: RunningConnect;
let warehouse: Warehouse;
const pii = createPiiPolicy({
  dropFields: DEFAULT_DROP_FIELDS,
  hashFields: DEFAULT_HASH_FIELDS,
  hashPii: true,
  hashKey: 'debezium-mysql-test-key-0123456789',
});
const TABLES = ['awkward', 'keyless'];

beforeAll(async () => {
  const root = await scratchDir('debezium-mysql');
  // Started side by side: the worker's JVM start and plugin scan is most of this file's time.
  [mysqlServer, kafka] = await Promise.all([startTestMysql(), startKafka({ dataDir: join(root, 'kafka') })]);
  [connect, warehouse] = await Promise.all([
    startKafkaConnect({ bootstrapServers: kafka.bootstrapServers, dataDir: join(root, 'connect') }),
    openWarehouse({ kind: 'chdb', path: join(root, 'warehouse') }),
  ]);
}, 300_000);

afterAll(async () => {
  await warehouse?.close();
  await connect?.stop();
  await kafka?.stop();
  await mysqlServer?.stop();
});

/** Registers Debezium's connector for the database at `url`, its topics named for `sourceName`. */
async function applyConnector(url: string, sourceName: string) {
  const server = await prepareMysqlSource(url);
  const connector = mysqlConnector({
    sourceUrl: url,
    flavor: server.flavor,
    sourceName,
    dropFields: DEFAULT_DROP_FIELDS,
    bootstrapServers: kafka.bootstrapServers,
  });
  return new ConnectClient(connect.url).apply(connector.name, connector.config);
}

/**
 * Each key's newest row, deleted ones included (FINAL would leave those out), without the landing
 * time: what both paths must agree on, version for version.
 */
async function mirrorRows(mirror: string, key: string): Promise<Record<string, unknown>[]> {
  const column = quoteIdentifier(key);
  return warehouse.query(
    `SELECT * EXCEPT (_ingested_at) FROM ${quoteTable(mirror)}
      ORDER BY ${column}, _version DESC, _is_deleted DESC LIMIT 1 BY ${column}`,
  );
}

async function mirrorColumns(mirror: string): Promise<Record<string, unknown>[]> {
  return warehouse.query(
    `SELECT name, type FROM system.columns WHERE concat(database, '.', table) = {table:String} ORDER BY name`,
    { table: mirror },
  );
}

describe(`Debezium MySQL → Kafka → ingest worker (${MYSQL_SERVER})`, () => {
  it('lands the awkward types into mirrors identical to the native capture’s', async () => {
    const { name: database, url } = await mysqlServer.createDatabase('dbzmy');
    await execute(url, `${AWKWARD_DDL}; ${KEYLESS_DDL}`);
    const workload = await MysqlWorkload.connect(url, 17, { largeRows: false });
    try {
      await workload.run(40);
      expect(await applyConnector(url, 'dbz')).toBe('created');
      expect(await applyConnector(url, 'dbz')).toBe('unchanged');

      const dbzMirror = (table: string) => `raw.dbz_${database}_${table}`;
      const natMirror = (table: string) => `raw.nat_${database}_${table}`;
      // Debezium delivers at its own pace: land what has arrived until its mirrors match the source.
      const landUntilEqual = async () => {
        const deadline = Date.now() + 120_000;
        for (;;) {
          await runKafkaWorker({
            brokers: [kafka.bootstrapServers],
            group: 'debezium-mysql-test',
            topics: new RegExp(`^dbz\\.${database}\\.(awkward|keyless)$`),
            warehouse,
            pii,
            untilIdleSeconds: 2,
            topicRefreshMs: 1000,
          });
          let equal = true;
          for (const table of TABLES) {
            const exists = await warehouse.query(`EXISTS TABLE ${quoteTable(dbzMirror(table))}`);
            if (Object.values(exists[0] ?? {})[0] !== 1) {
              equal = false;
              break;
            }
            const { source, mirror } = await readMysqlSourceAndMirror({
              url,
              database,
              table,
              warehouse,
              mirror: dbzMirror(table),
              exclude: ['password_hash', 'email'],
            });
            equal &&= JSON.stringify(source) === JSON.stringify(mirror);
          }
          if (equal || Date.now() > deadline) return;
        }
      };
      // Snapshots at one log position: Debezium's, landed, then the native capture's, nothing written between.
      await landUntilEqual();
      const native = () =>
        runMysqlCapture({
          sourceUrl: url,
          sourceName: 'nat',
          tables: { kind: 'all' },
          sink: new WarehouseSink(warehouse),
          pii,
          untilCaughtUp: true,
        });
      expect((await native()).snapshotRows).toBeGreaterThan(0);
      // The stream: multi-statement transactions, key updates, deletes, many-row updates.
      await workload.run(80);
      await execute(url, 'UPDATE awkward SET id = id + 100000 WHERE id % 5 = 0');
      await execute(url, 'DELETE FROM awkward WHERE id % 7 = 0');
      await workload.run(20);
      expect((await native()).streamedChanges).toBeGreaterThan(50);
      await landUntilEqual();

      for (const table of TABLES) {
        for (const mirror of [dbzMirror(table), natMirror(table)]) {
          const { source, mirror: rows } = await readMysqlSourceAndMirror({
            url,
            database,
            table,
            warehouse,
            mirror,
            exclude: ['password_hash', 'email'],
          });
          expect(rows, mirror).toEqual(source);
        }
        expect(await mirrorColumns(dbzMirror(table))).toEqual(await mirrorColumns(natMirror(table)));
        const key = table === 'awkward' ? 'id' : '_row_id';
        const nat = await mirrorRows(natMirror(table), key);
        expect(nat.some((row) => Number(row._is_deleted) === 1)).toBe(true);
        const dbz = await mirrorRows(dbzMirror(table), key);
        // Named by key first: a whole-row diff of 500 rows hides which key and version differ.
        const versions = (rows: Record<string, unknown>[]) =>
          rows.map((row) => `${String(row[key])}@${String(row._version)}/${String(row._is_deleted)}`);
        expect(versions(dbz), `${table}: key@_version/_is_deleted`).toEqual(versions(nat));
        expect(dbz).toEqual(nat);
      }
      expect(await listDeadLetters(warehouse)).toEqual([]);
    } finally {
      await workload.close();
    }
  }, 420_000);

  it('rows logged before a MODIFY COLUMN land with their own shape’s encoding, by Debezium and by the native capture over Kafka', async () => {
    const { name: database, url } = await mysqlServer.createDatabase('shapes');
    // `at` goes from milliseconds to microseconds in the envelope (Debezium's adaptive precision);
    // FLOAT keeps the table on the envelope path.
    await execute(url, 'CREATE TABLE reading (id INT PRIMARY KEY, at DATETIME(3), level FLOAT)');
    await execute(url, "INSERT INTO reading VALUES (1, '2024-05-01 10:00:00.123', 0.5)");
    expect(await applyConnector(url, 'dshape')).toBe('created');
    const native = () =>
      runMysqlCapture({
        sourceUrl: url,
        sourceName: 'kshape',
        tables: { kind: 'all' },
        sink: new KafkaSink({ brokers: [kafka.bootstrapServers], pii, partitions: 1 }),
        pii,
        untilCaughtUp: true,
      });
    // Lands what has arrived until Debezium's row `id` is in its mirror (it sends at its own pace).
    const landUntil = async (id: number) => {
      const deadline = Date.now() + 120_000;
      for (;;) {
        await runKafkaWorker({
          brokers: [kafka.bootstrapServers],
          group: 'shapes-test',
          topics: new RegExp(`^(kshape|dshape)\\.${database}\\.reading$`),
          warehouse,
          pii,
          untilIdleSeconds: 2,
          topicRefreshMs: 1000,
        });
        const rows = await warehouse
          .query<{ n: string }>(
            `SELECT count() AS n FROM ${quoteTable(`raw.dshape_${database}_reading`)} WHERE id = {id:Int32}`,
            { id },
          )
          .catch(() => []);
        if (Number(rows[0]?.n ?? 0) > 0) return;
        if (Date.now() > deadline) throw new Error(`Debezium's row ${id} did not arrive in 120 s`);
      }
    };
    await native();
    // The workers know the table in its first shape (Debezium's from its snapshot event).
    await landUntil(1);
    await execute(url, "INSERT INTO reading VALUES (2, '2024-05-02 11:00:00.456', 1.5)");
    await execute(url, 'ALTER TABLE reading MODIFY COLUMN at DATETIME(6)');
    await execute(url, "INSERT INTO reading VALUES (3, '2024-05-03 12:00:00.789012', 2.5)");
    // The native capture's changes of both shapes are on the topic, and the newest shape is the
    // table's, before a worker reads them.
    await native();
    await landUntil(3);
    for (const prefix of ['kshape', 'dshape'])
      await expectMysqlMirrorEqualsSource({
        url,
        database,
        table: 'reading',
        warehouse,
        mirror: `raw.${prefix}_${database}_reading`,
      });
    expect(await listDeadLetters(warehouse)).toEqual([]);
  }, 240_000);
});
