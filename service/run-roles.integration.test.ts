// `tributary run` split into its roles, each its own process, from one config file: Kafka transport,
// the warehouse over ClickHouse's HTTP protocol. The ClickHouse server is stood in for by
// `tributary sql serve` (the embedded engine behind the same protocol), not a real clickhouse-server.
// One `capture`, two `ingest` (one consumer group), one `transform`, one `jobs`; the learning
// simulator writes Postgres and MongoDB meanwhile, and one ingest is SIGKILLed half-way. Then: every
// mirror equals its source with no (key, _version) twice, the marts equal the Postgres oracle after
// a transform pass, the scheduler recorded its runs, and SIGTERM stops every other role with exit 0.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MongoClient } from 'mongodb';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LEARNING_SCHEMA_SQL, learningPack } from '../packs/learning/index.ts';
import { createCollections } from '../packs/learning/simulator.ts';
import { hashPassword } from '../sql/index.ts';
import { findFreePort, startKafka, type RunningKafka } from '../stack/index.ts';
import { exited, type Exit } from '../test/child-process.ts';
import { loadDocumentsIntoPostgres } from '../test/learning-oracle.ts';
import { dailyUserMetricsOracle, DAU_ORACLE, expectSameRows, type Row } from '../test/mart-oracle.ts';
import {
  expectMirrorEqualsSource,
  expectNoDuplicateVersions,
  readSourceAndMirror,
} from '../test/mirror-equality.ts';
import { MONGO_SERVER, startTestMongo, uniqueDatabaseName, type TestMongo } from '../test/mongo.ts';
import { createTestDatabase, dropTestDatabase } from '../test/postgres.ts';
import { scratchDir } from '../test/scratch.ts';
import { waitFor } from '../test/wait.ts';
import { mirrorTable, openWarehouse, quoteTable, RAW_DATABASE, type Warehouse } from '../warehouse/index.ts';

const TRIBUTARY = new URL('../bin/tributary.js', import.meta.url).pathname;
const PASSWORD = 'roles-pipeline-pw';
/** The collections the learning write-back fills: left out of capture. */
const WRITTEN = ['daily_user_metrics', 'content_performance', 'ab_test_results', 'system_analytics'];

let dir: string;
let postgresUrl: string;
let mongo: TestMongo;
let kafka: RunningKafka;
let sqlServer: { child: ChildProcess; exit: Promise<Exit> } | undefined;
let warehouseUrl: string;
const database = uniqueDatabaseName('learning');

beforeAll(async () => {
  dir = await scratchDir('run-roles');
  [postgresUrl, mongo, kafka] = await Promise.all([
    createTestDatabase('roles'),
    startTestMongo(),
    startKafka({ dataDir: join(dir, 'kafka') }),
  ]);
  const warehouseDir = join(dir, 'warehouse');
  mkdirSync(warehouseDir);
  const users = join(dir, 'sql-users.json');
  writeFileSync(
    users,
    JSON.stringify({
      users: [{ name: 'pipeline', password_sha256_hex: hashPassword(PASSWORD), readonly: false }],
    }),
  );
  const port = await findFreePort();
  const child = spawn(
    process.execPath,
    [TRIBUTARY, 'sql', 'serve', '--warehouse', warehouseDir, '--port', String(port), '--users', users],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  sqlServer = { child, exit: exited(child) };
  warehouseUrl = `http://127.0.0.1:${port}`;
  await waitFor('the SQL endpoint', async () => (await fetch(`${warehouseUrl}/ping`)).ok, 60_000);
}, 240_000);

afterAll(async () => {
  if (sqlServer) {
    sqlServer.child.kill('SIGTERM');
    await sqlServer.exit;
  }
  await kafka?.stop();
  await mongo?.stop();
  if (postgresUrl) await dropTestDatabase(postgresUrl);
});

interface RoleProcess {
  role: string;
  child: ChildProcess;
  exit: Promise<Exit>;
  /** The role's /healthz, /readyz and /metrics, once it listens. */
  url: Promise<string>;
  /** What it logged so far. */
  log(): string;
}

function startRole(role: string, config: string): RoleProcess {
  const child = spawn(process.execPath, [TRIBUTARY, 'run', '--config', config, '--role', role], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, ROLES_TEST_PG: postgresUrl, ROLES_TEST_WAREHOUSE_PASSWORD: PASSWORD },
  });
  const exit = exited(child);
  let log = '';
  // Every role listens on port 0 (one config file for all): the role says where in its log.
  const url = new Promise<string>((resolve, reject) => {
    child.stderr?.on('data', (chunk: Buffer) => {
      log += chunk.toString();
      const found = /\/metrics on (http:\/\/\S+)/.exec(log);
      if (found?.[1]) resolve(found[1]);
    });
    void exit.then((ended) => reject(new Error(`role ${role} exited before listening: ${ended.stderr}`)));
  });
  url.catch(() => undefined);
  return { role, child, exit, url, log: () => log };
}

/** The logs' ends, for a failure message. */
function logsOf(roles: RoleProcess[]): string {
  return roles
    .map((role) => `--- ${role.role} (pid ${role.child.pid}):\n${role.log().slice(-2500)}`)
    .join('\n');
}

/**
 * Transform passes the role finished, of every mode: the sum of the duration histogram's `_count`
 * samples. Read from the text itself: parse-prometheus-text-format drops a histogram's labels and
 * counts, so it saw 0 passes however many ran.
 */
async function transformPasses(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const counts = text.matchAll(/^tributary_transform_duration_seconds_count(?:\{[^}]*\})? (\d+)$/gm);
  return [...counts].reduce((sum, [, count]) => sum + Number(count), 0);
}

/** The source's tables with their primary keys, and the columns each mirror left out (dropped secrets). */
async function mirroredTables(
  client: pg.Client,
  warehouse: Warehouse,
): Promise<{ table: string; mirror: string; key: string[]; exclude: string[] }[]> {
  const { rows } = await client.query<{ table: string; key: string[]; columns: string[] }>(
    `SELECT c.relname AS table,
       array_agg(a.attname::text ORDER BY array_position(i.indkey, a.attnum)) AS key,
       (SELECT array_agg(column_name::text) FROM information_schema.columns
        WHERE table_schema = 'public' AND table_name = c.relname) AS columns
     FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace
     JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = ANY(i.indkey)
     WHERE i.indisprimary AND n.nspname = 'public' AND c.relname NOT LIKE 'oracle_%'
     GROUP BY c.relname ORDER BY c.relname`,
  );
  const mirrored = await warehouse.query<{ mirror: string; name: string }>(
    "SELECT concat(database, '.', table) AS mirror, name FROM system.columns WHERE database = {raw:String} AND startsWith(table, 'learning_')",
    { raw: RAW_DATABASE },
  );
  return rows.map(({ table, key, columns }) => {
    const mirror = mirrorTable('learning', table);
    const kept = new Set(mirrored.filter((column) => column.mirror === mirror).map((column) => column.name));
    return { table, mirror, key, exclude: columns.filter((column) => !kept.has(column)) };
  });
}

async function liveDocuments(warehouse: Warehouse, collection: string): Promise<number> {
  const [row] = await warehouse.query<{ n: string }>(
    `SELECT count() AS n FROM ${quoteTable(mirrorTable('learning', collection))} FINAL WHERE _is_deleted = 0`,
  );
  return Number(row?.n);
}

describe(`tributary run as separate role processes, Kafka transport, warehouse over HTTP (sql serve standing in for a ClickHouse server; documents from the ${MONGO_SERVER})`, () => {
  it('capture, two ingest, transform and jobs: mirrors equal the sources across a SIGKILLed ingest, marts equal the oracle, SIGTERM exits 0', async () => {
    const config = join(dir, 'tributary.config.json');
    writeFileSync(
      config,
      JSON.stringify({
        sources: [
          { kind: 'postgres', name: 'learning', url: '${ROLES_TEST_PG}', pack: 'learning' },
          { kind: 'mongo', name: 'learning', url: mongo.url, database, pack: 'learning' },
        ],
        transport: { kind: 'kafka', brokers: [kafka.bootstrapServers], group: 'roles' },
        warehouse: { url: warehouseUrl, user: 'pipeline', password: '${ROLES_TEST_WAREHOUSE_PASSWORD}' },
        packs: [{ name: 'learning' }],
        jobs: [
          {
            name: 'active_days',
            cron: '*/3 * * * * *',
            kind: 'sql',
            catchUp: 'none',
            options: {
              sql: "SELECT count() AS days FROM mart_dau WHERE pack = 'learning'",
              table: 'job_active_days',
            },
          },
        ],
        service: { port: 0, transformEverySeconds: 2, shutdownSeconds: 60 },
        pii: { keep: true, keyFile: 'pii.key' },
      }),
    );
    const client = new pg.Client({ connectionString: postgresUrl });
    await client.connect();
    await client.query(LEARNING_SCHEMA_SQL);
    const mongoClient = new MongoClient(mongo.url);
    await mongoClient.connect();
    // The application's collections exist before the pipeline starts, as its tables do.
    await createCollections(mongoClient.db(database));
    const warehouse = await openWarehouse({
      kind: 'http',
      url: `http://pipeline:${PASSWORD}@${warehouseUrl.slice('http://'.length)}`,
    });
    const roles = ['capture', 'ingest', 'ingest', 'transform', 'jobs'].map((role) => startRole(role, config));
    const [capture, ingestA, ingestB, transform, jobs] = roles as [
      RoleProcess,
      RoleProcess,
      RoleProcess,
      RoleProcess,
      RoleProcess,
    ];
    try {
      for (const role of roles) {
        const url = await role.url;
        await waitFor(`role ${role.role} to be ready`, async () => (await fetch(`${url}/readyz`)).ok);
      }
      // The simulator writes while every role runs; half-way one ingest is killed outright, and the
      // group hands its partitions to the other.
      let killed: Promise<Exit> | undefined;
      await learningPack.simulate(
        { learning: client },
        {
          users: 16,
          days: 6,
          seed: 21,
          mongo: mongoClient.db(database),
          onProgress: (done) => {
            if (done === 3 && !killed) {
              ingestA.child.kill('SIGKILL');
              killed = ingestA.exit;
            }
          },
        },
      );
      expect((await killed)?.signal).toBe('SIGKILL');

      const collections = (await mongoClient.db(database).listCollections({}, { nameOnly: true }).toArray())
        .map((collection) => collection.name)
        .filter((name) => !WRITTEN.includes(name));
      expect(collections).toContain('user_interactions');
      let behind = '';
      const caughtUp = async () => {
        for (const table of await mirroredTables(client, warehouse)) {
          const { source, mirror } = await readSourceAndMirror({ client, warehouse, ...table });
          behind = `${table.mirror}: ${mirror.length} rows for ${source.length}`;
          if (source.join('\n') !== mirror.join('\n')) return false;
        }
        for (const collection of collections) {
          const [landed, documents] = [
            await liveDocuments(warehouse, collection),
            await mongoClient.db(database).collection(collection).countDocuments(),
          ];
          behind = `${mirrorTable('learning', collection)}: ${landed} documents for ${documents}`;
          if (landed !== documents) return false;
        }
        return true;
      };
      await waitFor('every mirror to equal its source', caughtUp, 240_000, 1000).catch((error: unknown) => {
        throw new Error(`${(error as Error).message}; last seen ${behind}\n${logsOf(roles)}`);
      });
      const tables = await mirroredTables(client, warehouse);
      expect(tables.length).toBeGreaterThan(10);
      for (const table of tables) {
        await expectMirrorEqualsSource({ client, warehouse, ...table });
        await expectNoDuplicateVersions(warehouse, table.mirror, table.key);
      }
      for (const collection of collections)
        await expectNoDuplicateVersions(warehouse, mirrorTable('learning', collection), ['_id']);

      // A transform pass that started after everything landed, then the marts against the oracle.
      const transformUrl = await transform.url;
      const passes = await transformPasses(transformUrl);
      await waitFor(
        'two more transform passes',
        async () => (await transformPasses(transformUrl)) >= passes + 2,
        120_000,
        500,
      ).catch((error: unknown) => {
        throw new Error(`${(error as Error).message}\n${logsOf(roles)}`);
      });
      const [jobRuns] = await warehouse.query<{ n: string }>(
        "SELECT count() AS n FROM tributary.job_runs FINAL WHERE job = 'active_days' AND status = 'succeeded'",
      );
      expect(Number(jobRuns?.n)).toBeGreaterThan(0);

      for (const role of [capture, ingestB, transform, jobs]) {
        role.child.kill('SIGTERM');
        const exit = await role.exit;
        expect(exit.code, `${role.role}: ${exit.stderr}`).toBe(0);
      }

      await loadDocumentsIntoPostgres({ postgres: client, mongoClient, mongoDatabase: database });
      const views = learningPack.mapping('learning').viewEventTypes;
      const mart = (sql: string) => warehouse.query<Row>(sql);
      const oracle = async (sql: string) => (await client.query(sql)).rows as Row[];
      expectSameRows(
        await mart(`SELECT toString(day) AS day, user_id, events, sessions, active_seconds, content_views,
            completions, score_sum, score_count, value FROM mart_daily_user_metrics WHERE pack = 'learning'`),
        await oracle(dailyUserMetricsOracle(views)),
        ['day', 'user_id'],
      );
      expectSameRows(
        await mart(
          "SELECT toString(day) AS day, dau, wau, mau, stickiness FROM mart_dau WHERE pack = 'learning'",
        ),
        await oracle(DAU_ORACLE),
        ['day'],
      );
    } finally {
      for (const role of roles)
        if (role.child.exitCode === null && role.child.signalCode === null) role.child.kill('SIGKILL');
      await Promise.all(roles.map((role) => role.exit));
      await warehouse.close();
      await mongoClient.close();
      await client.end();
    }
  });
});
