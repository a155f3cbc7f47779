// The official ClickHouse JDBC driver (0.10.0, on client-v2) against the SQL endpoint: metadata,
// a parameterised query, every mart read, and the errors a read-only analyst gets.
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ensureJdbcCheck, runJdbcCheck } from '../test/jdbc-client.ts';
import { scratchDir } from '../test/scratch.ts';
import { migrate, openWarehouse, type Warehouse } from '../warehouse/index.ts';
import { hashPassword, startSqlEndpoint, type SqlEndpoint } from './index.ts';

let warehouse: Warehouse;
let endpoint: SqlEndpoint;
let classpath: string;
let marts: string[];

beforeAll(async () => {
  classpath = await ensureJdbcCheck();
  warehouse = await openWarehouse({ kind: 'chdb', path: join(await scratchDir('sql-jdbc'), 'warehouse') });
  await migrate(warehouse);
  marts = (
    await warehouse.query<{ name: string }>(
      "SELECT name FROM system.tables WHERE database = 'analytics' AND name LIKE 'mart\\_%' ORDER BY name",
    )
  ).map((table) => table.name);
  // Random rows of each mart's own shape: the driver must read every column type the marts use.
  for (const mart of marts)
    await warehouse.command(`INSERT INTO ${mart} SELECT * FROM generateRandom() LIMIT 20`);
  endpoint = await startSqlEndpoint({
    warehouse,
    port: 0,
    users: [{ name: 'analyst', password_sha256_hex: hashPassword('analyst-pw') }],
  });
}, 600_000);
afterAll(async () => {
  await endpoint?.close();
  await warehouse?.close();
});

it('connects, reads metadata and every mart, and reports errors', async () => {
  // compress=0: the driver's default is ClickHouse's own LZ4 block framing, which the endpoint does not speak.
  const lines = await runJdbcCheck(
    classpath,
    `jdbc:clickhouse:${endpoint.url}/analytics?compress=0`,
    'analyst',
    'analyst-pw',
  );
  expect(lines[0]).toMatch(/^ok connected/);
  expect(lines).toContain(`ok tables ${marts.join(',')}`);
  expect(lines.find((line) => line.startsWith('ok columns mart_dau'))).toMatch(/day:Date/);
  expect(lines.find((line) => line.startsWith('ok parameterised'))).toMatch(/^ok parameterised \d+/);
  for (const mart of marts) expect(lines).toContain(`ok read ${mart} 20`);
  expect(lines.find((line) => line.startsWith('ok error bad query'))).toMatch(/Code: 62/);
  expect(lines.find((line) => line.startsWith('ok error write'))).toMatch(/Code: 164/);
  expect(lines.find((line) => line.startsWith('ok error bookkeeping'))).toMatch(/Code: 497/);
});
