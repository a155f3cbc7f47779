// The project's own `--warehouse http://…` path, end to end against the SQL endpoint: the HTTP
// Warehouse (@clickhouse/client) migrates a fresh warehouse, a Postgres capture lands through it
// (checkpoints, dedup tokens, mirror DDL, TOAST reads), the mirror equals the source, and a
// read-only user of the same client reads but cannot write.
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createPiiPolicy, runPostgresCapture, WarehouseSink } from '../ingest/index.ts';
import { expectMirrorEqualsSource, expectNoDuplicateVersions } from '../test/mirror-equality.ts';
import { createTestDatabase } from '../test/postgres.ts';
import { scratchDir } from '../test/scratch.ts';
import {
  loadMigrations,
  migrate,
  openWarehouse,
  WarehouseError,
  type Warehouse,
} from '../warehouse/index.ts';
import { hashPassword, startSqlEndpoint, type SqlEndpoint } from './index.ts';

let endpoint: SqlEndpoint;
let writer: Warehouse;
let writerUrl: string;
let source: pg.Client;
let sourceUrl: string;

const pii = createPiiPolicy({
  dropFields: [],
  hashFields: [],
  hashPii: false,
  hashKey: 'http-warehouse-key-0123',
});

beforeAll(async () => {
  const dir = join(await scratchDir('sql-http'), 'warehouse');
  endpoint = await startSqlEndpoint({
    warehouse: dir,
    port: 0,
    users: [
      { name: 'pipeline', password_sha256_hex: hashPassword('pipeline-pw'), readonly: false },
      { name: 'analyst', password_sha256_hex: hashPassword('analyst-pw') },
    ],
  });
  const url = new URL(endpoint.url);
  url.username = 'pipeline';
  url.password = 'pipeline-pw';
  writerUrl = url.toString();
  writer = await openWarehouse({ kind: 'http', url: writerUrl });
  sourceUrl = await createTestDatabase('sqlhttp');
  source = new pg.Client({ connectionString: sourceUrl });
  await source.connect();
}, 120_000);
afterAll(async () => {
  await source?.end();
  await writer?.close();
  await endpoint?.close();
});

it('migrates, captures and reads through the HTTP warehouse against the endpoint', async () => {
  // Three clients at once, as the processes of a split deployment start: under the migration lock
  // each migration is applied once, and no lock is left.
  const others = [1, 2].map(() => openWarehouse({ kind: 'http', url: writerUrl }));
  const clients = [writer, ...(await Promise.all(others))];
  const applied = await Promise.all(clients.map((client) => migrate(client)));
  await Promise.all(clients.slice(1).map((client) => client.close()));
  const versions = (await loadMigrations()).map((migration) => migration.version);
  expect(applied.flat().sort((a, b) => a - b)).toEqual(versions);
  const [lock] = await writer.query<{ n: string }>(
    "SELECT count() AS n FROM system.tables WHERE database = 'tributary' AND name = 'migration_lock'",
  );
  expect(Number(lock?.n)).toBe(0);
  expect(await migrate(writer)).toEqual([]); // a second run finds every migration applied
  const tables = await writer.query<{ name: string }>(
    "SELECT name FROM system.tables WHERE database = 'analytics' AND name LIKE 'mart_%' ORDER BY name",
  );
  expect(tables.map((table) => table.name)).toContain('mart_dau');

  await source.query(`CREATE TABLE orders (
    id bigint PRIMARY KEY, customer text NOT NULL, amount numeric(12,2), placed_at timestamptz,
    note text, tags text[])`);
  await source.query(`INSERT INTO orders
    SELECT g, 'customer ' || (g % 7), g * 1.25, '2026-01-01'::timestamptz + g * interval '1 hour',
           CASE WHEN g % 3 = 0 THEN NULL ELSE repeat('n', g) END, ARRAY['t' || g, NULL]
    FROM generate_series(1, 200) g`);
  const capture = () =>
    runPostgresCapture({
      sourceUrl,
      sourceName: 'shop',
      tables: { kind: 'all' },
      sink: new WarehouseSink(writer),
      pii,
      untilCaughtUp: true,
    });
  await capture();
  await source.query(`UPDATE orders SET amount = amount + 1, note = 'changed' WHERE id % 10 = 0`);
  await source.query(`DELETE FROM orders WHERE id > 190`);
  await source.query(`INSERT INTO orders (id, customer, tags) VALUES (500, 'it''s new', '{}')`);
  await capture();
  const options = {
    client: source,
    warehouse: writer,
    table: 'orders',
    mirror: 'raw.shop_orders',
    key: ['id'],
  };
  await expectMirrorEqualsSource(options);
  await expectNoDuplicateVersions(writer, 'raw.shop_orders', ['id']);

  // Bound parameters and Decimal/Int64 exactness through the client.
  const [row] = await writer.query<{ amount: string; customer: string }>(
    'SELECT amount, customer FROM raw.shop_orders FINAL WHERE id = {id:Int64} AND _is_deleted = 0',
    { id: 500 },
  );
  expect(row).toEqual({ amount: null, customer: "it's new" });
  const exported = await writer.queryBytes(
    'SELECT id FROM raw.shop_orders FINAL WHERE _is_deleted = 0 ORDER BY id',
    'CSV',
  );
  expect(exported.toString().trim().split('\n')).toHaveLength(191);

  // The same client as a read-only analyst: reads the mirror, cannot write or read bookkeeping.
  const url = new URL(endpoint.url);
  url.username = 'analyst';
  url.password = 'analyst-pw';
  const analyst = await openWarehouse({ kind: 'http', url: url.toString() });
  try {
    const [count] = await analyst.query<{ n: string }>(
      'SELECT count() AS n FROM raw.shop_orders FINAL WHERE _is_deleted = 0',
    );
    expect(count).toEqual({ n: '191' });
    const refusedWrite = await analyst
      .insert('raw.shop_orders', [{ id: 1 }])
      .catch((error: unknown) => error);
    expect(refusedWrite).toBeInstanceOf(WarehouseError);
    expect((refusedWrite as WarehouseError).clickhouseCode).toBe(164);
    const refusedRead = await analyst
      .query('SELECT * FROM tributary.checkpoints')
      .catch((error: unknown) => error);
    expect((refusedRead as WarehouseError).clickhouseCode).toBe(497);
  } finally {
    await analyst.close();
  }
});
