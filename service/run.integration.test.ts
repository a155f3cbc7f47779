// `tributary run` end to end, as a user runs it: one config file, the learning simulator writing
// Postgres and MongoDB while the service captures, transforms and writes back; a SIGTERM half-way
// exits 0 and a restart resumes without loss or duplicate (mirrors equal their sources, no
// (key, version) twice); /metrics parses as Prometheus text with non-zero lag; the online store it
// keeps holds every user's vector, each equal to an export as of the instant it was computed, and
// its feature server serves them; a config with wrong fields gets one line per field and exit 2.
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MongoClient } from 'mongodb';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LEARNING_SCHEMA_SQL, learningPack } from '../packs/learning/index.ts';
import { getOnlineFeatures } from '../features/index.ts';
import { learningFeatures } from '../packs/learning/features.ts';
import { findFreePort, startRedis, type RunningRedis } from '../stack/index.ts';
import { exportedVectors, expectSameVector } from '../test/feature-vectors.ts';
import { exited, type Exit } from '../test/child-process.ts';
import { expectMirrorEqualsSource, expectNoDuplicateVersions } from '../test/mirror-equality.ts';
import { startTestMongo, uniqueDatabaseName, type TestMongo } from '../test/mongo.ts';
import { createTestDatabase, dropTestDatabase } from '../test/postgres.ts';
import { scratchDir } from '../test/scratch.ts';
import { mirrorTable, openWarehouse, quoteTable } from '../warehouse/index.ts';

const TRIBUTARY = new URL('../bin/tributary.js', import.meta.url).pathname;
let dir: string;
let postgresUrl: string;
let mongo: TestMongo;
let database: string;
let redis: RunningRedis;

beforeAll(async () => {
  dir = await scratchDir('service');
  redis = await startRedis({ dataDir: dir });
  postgresUrl = await createTestDatabase('service');
  mongo = await startTestMongo();
  database = uniqueDatabaseName('learning');
});
afterAll(async () => {
  await redis?.stop();
  await mongo?.stop();
  if (postgresUrl) await dropTestDatabase(postgresUrl);
});

interface Service {
  child: ChildProcess;
  exit: Promise<Exit>;
}

function startService(config: string): Service {
  const child = spawn(process.execPath, [TRIBUTARY, 'run', '--config', config], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  return { child, exit: exited(child) };
}

async function waitUntil<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs = 120_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
}

async function ready(url: string): Promise<true | undefined> {
  const response = await fetch(`${url}/readyz`);
  return response.status === 200 ? true : undefined;
}

type Family = { name: string; metrics: { labels?: Record<string, string>; value?: string }[] };

describe('tributary run', () => {
  it('captures, transforms and writes back; stops on SIGTERM with exit 0 and resumes without loss or duplicate', async () => {
    const port = await findFreePort();
    const url = `http://127.0.0.1:${port}`;
    const [dashboardsPort, sqlPort, featuresPort] = [
      await findFreePort(),
      await findFreePort(),
      await findFreePort(),
    ];
    const client = new pg.Client({ connectionString: postgresUrl });
    await client.connect();
    const mongoClient = new MongoClient(mongo.url);
    await mongoClient.connect();
    try {
      await client.query(LEARNING_SCHEMA_SQL);
      const config = join(dir, 'tributary.config.json');
      writeFileSync(
        config,
        JSON.stringify({
          sources: [
            { kind: 'postgres', name: 'learning', url: '${SERVICE_TEST_PG}', pack: 'learning' },
            { kind: 'mongo', name: 'learning', url: mongo.url, database, pack: 'learning' },
          ],
          warehouse: { dir: 'warehouse' },
          packs: [{ name: 'learning' }],
          jobs: [
            {
              name: 'writeback',
              cron: '*/4 * * * * *',
              kind: 'writeback',
              catchUp: 'latest',
              options: { pack: 'learning', postgres: 'learning', mongo: 'learning' },
            },
          ],
          service: { port, transformEverySeconds: 2, shutdownSeconds: 60 },
          dashboards: { port: dashboardsPort },
          sql: { port: sqlPort },
          features: { onlineStore: redis.url, serve: { port: featuresPort } },
          pii: { keep: true, keyFile: 'pii.key' },
        }),
      );
      process.env.SERVICE_TEST_PG = postgresUrl;
      let service = startService(config);
      await waitUntil('the first service to be ready', () => ready(url));
      let restarted: Promise<void> | undefined;
      let firstExit: Exit | undefined;
      await learningPack.simulate(
        { learning: client },
        {
          users: 25,
          days: 6,
          seed: 13,
          mongo: mongoClient.db(database),
          onProgress: (done) => {
            // Half-way: SIGTERM while the simulator keeps writing, then start again.
            if (done === 3 && !restarted) {
              service.child.kill('SIGTERM');
              restarted = service.exit.then((exit) => {
                firstExit = exit;
                service = startService(config);
              });
            }
          },
        },
      );
      await restarted;
      expect(firstExit?.code, firstExit?.stderr).toBe(0);
      expect(firstExit?.stderr).toContain('stopping: landing what is in flight');
      await waitUntil('the restarted service to be ready', () => ready(url));

      // Caught up: the slot confirmed the current WAL position, and the write-back (which resets
      // lapsed streaks in Postgres, captured like any change) has nothing left to write.
      const caughtUp = async () => {
        const [{ lsn }] = (await client.query<{ lsn: string }>('SELECT pg_current_wal_lsn()::text AS lsn'))
          .rows as [{ lsn: string }];
        await waitUntil('the slot to confirm the last change', async () => {
          const { rows } = await client.query<{ done: boolean }>(
            "SELECT confirmed_flush_lsn >= $1::pg_lsn AS done FROM pg_replication_slots WHERE slot_name = 'tributary_learning'",
            [lsn],
          );
          return rows[0]?.done ? true : undefined;
        });
      };
      const lastStreakWrite = async () =>
        String(
          (await client.query<{ at: string }>('SELECT max(updated_at)::text AS at FROM user_streaks')).rows[0]
            ?.at,
        );
      for (let quiet = false; !quiet;) {
        const before = await lastStreakWrite();
        await caughtUp();
        // Longer than the write-back's interval: a write-back ran meanwhile.
        await new Promise((resolve) => setTimeout(resolve, 6000));
        quiet = (await lastStreakWrite()) === before;
      }
      await caughtUp();
      const documents = await waitUntil('write-back documents', async () =>
        (await mongoClient.db(database).collection('daily_user_metrics').countDocuments()) > 0
          ? true
          : undefined,
      );
      expect(documents).toBe(true);
      // The readers the embedded warehouse admits only through this process: dashboards and SQL.
      const overview = await fetch(`http://127.0.0.1:${dashboardsPort}/`);
      expect(overview.status).toBe(200);
      expect(await overview.text()).toContain('<html');
      const sqlUrl = `http://127.0.0.1:${sqlPort}`;
      expect(await (await fetch(`${sqlUrl}/ping`)).text()).toBe('Ok.\n');
      const served = await fetch(
        `${sqlUrl}/?query=${encodeURIComponent('SELECT count() FROM mart_dau WHERE pack = {pack:String}')}&param_pack=learning`,
      );
      expect(served.status, await served.clone().text()).toBe(200);
      expect(Number(await served.text())).toBeGreaterThan(0);
      // The feature server the service runs over the online store it keeps.
      const featuresUrl = `http://127.0.0.1:${featuresPort}/v1/packs/learning`;
      const catalogue = (await (await fetch(`${featuresUrl}/features`)).json()) as { name: string }[];
      expect(catalogue.map((entry) => entry.name)).toContain('activity_count_90d');
      const userIds = (
        await client.query<{ id: string }>('SELECT id::text AS id FROM users ORDER BY id LIMIT 3')
      ).rows.map((row) => row.id);
      const someUsers = await waitUntil('vectors in the online store', async () => {
        const response = await fetch(`${featuresUrl}/online-features`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ ids: userIds }),
        });
        const body = (await response.json()) as { vectors: unknown[] };
        return response.status === 200 && body.vectors.some((vector) => vector !== null) ? body : undefined;
      });
      expect(someUsers.vectors).toHaveLength(3);
      const metricsText = await (await fetch(`${url}/metrics`)).text();
      const families = parsePrometheusTextFormat(metricsText) as Family[];
      const family = (name: string) => families.find((candidate) => candidate.name === name);
      const lag = family('tributary_lag_seconds')?.metrics ?? [];
      expect(lag.map((metric) => metric.labels?.source)).toContain('learning');
      expect(lag.every((metric) => Number(metric.value) > 0)).toBe(true);
      const landed = (family('tributary_changes_total')?.metrics ?? []).filter(
        (metric) => metric.labels?.stage === 'landed',
      );
      expect(landed.length).toBeGreaterThan(0);
      expect(family('tributary_postgres_slot_retained_wal_bytes')?.metrics[0]?.labels?.slot).toBe(
        'tributary_learning',
      );
      expect(
        (family('tributary_job_runs_total')?.metrics ?? []).some(
          (metric) => metric.labels?.status === 'succeeded',
        ),
      ).toBe(true);
      expect(family('tributary_transform_duration_seconds')).toBeDefined();
      const refreshed = family('tributary_online_store_last_refresh_timestamp_seconds')?.metrics ?? [];
      expect(refreshed.map((metric) => metric.labels?.pack)).toEqual(['learning']);
      expect(Number(refreshed[0]?.value) * 1000).toBeGreaterThan(Date.now() - 600_000);
      const written = family('tributary_online_store_vectors_written_total')?.metrics ?? [];
      expect(written.some((metric) => metric.labels?.entity === 'user' && Number(metric.value) > 0)).toBe(
        true,
      );
      service.child.kill('SIGTERM');
      const last = await service.exit;
      expect(last.code, last.stderr).toBe(0);
    } finally {
      await mongoClient.close();
      await client.end().catch(() => undefined);
    }

    const warehouse = await openWarehouse({ kind: 'chdb', path: join(dir, 'warehouse') });
    const check = new pg.Client({ connectionString: postgresUrl });
    await check.connect();
    const documentsClient = new MongoClient(mongo.url);
    await documentsClient.connect();
    try {
      const tables = await check.query<{ table: string; key: string[] }>(
        `SELECT c.relname AS table, array_agg(a.attname::text ORDER BY array_position(i.indkey, a.attnum)) AS key
         FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace
         JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = ANY(i.indkey)
         WHERE i.indisprimary AND n.nspname = 'public' GROUP BY c.relname ORDER BY c.relname`,
      );
      expect(tables.rows.length).toBeGreaterThan(10);
      for (const { table, key } of tables.rows) {
        const mirror = mirrorTable('learning', table);
        const mirrored = new Set(
          (
            await warehouse.query<{ name: string }>(
              `SELECT name FROM system.columns WHERE concat(database, '.', table) = {t:String}`,
              { t: mirror },
            )
          ).map((column) => column.name),
        );
        const { rows } = await check.query<{ column_name: string }>(
          "SELECT column_name FROM information_schema.columns WHERE table_schema = 'public' AND table_name = $1",
          [table],
        );
        // Dropped secrets (password hashes, tokens) have no mirror column.
        const exclude = rows.map((row) => row.column_name).filter((column) => !mirrored.has(column));
        await expectMirrorEqualsSource({ client: check, warehouse, table, mirror, key, exclude });
        await expectNoDuplicateVersions(warehouse, mirror, key);
      }
      // Documents: every captured collection has its mirror with the collection's count, and the
      // collections the write-back fills were left out of capture.
      const collections = (
        await documentsClient.db(database).listCollections({}, { nameOnly: true }).toArray()
      ).map((c) => c.name);
      expect(collections).toContain('daily_user_metrics');
      for (const collection of collections) {
        const mirror = mirrorTable('learning', collection);
        const [exists] = await warehouse.query<{ n: string }>(
          `SELECT count() AS n FROM system.tables WHERE concat(database, '.', name) = {m:String}`,
          { m: mirror },
        );
        if (
          ['daily_user_metrics', 'content_performance', 'ab_test_results', 'system_analytics'].includes(
            collection,
          )
        ) {
          expect(Number(exists?.n), `${collection} must not be captured`).toBe(0);
          continue;
        }
        const [live] = await warehouse.query<{ n: string }>(
          `SELECT count() AS n FROM ${quoteTable(mirror)} FINAL WHERE _is_deleted = 0`,
        );
        expect(Number(live?.n), mirror).toBe(
          await documentsClient.db(database).collection(collection).countDocuments(),
        );
        await expectNoDuplicateVersions(warehouse, mirror, ['_id']);
      }
      // The online store holds every user's vector, each as an export as of the instant it was
      // computed (only changed vectors are rewritten, so instants differ between users).
      const now = await exportedVectors(warehouse, {
        pack: 'learning',
        asOf: new Date().toISOString(),
        dir,
        name: 'now',
      });
      const ids = [...now.keys()];
      expect(ids.length).toBeGreaterThan(10);
      const stored = await getOnlineFeatures({ pack: 'learning', from: redis.url, ids });
      expect(ids.filter((_, index) => stored[index] === undefined)).toEqual([]);
      const instants = [...new Set(stored.map((vector) => String(vector?.timestamp)))];
      for (const instant of instants) {
        const asOf = `${instant.replace(' ', 'T')}Z`;
        const exported = await exportedVectors(warehouse, {
          pack: 'learning',
          asOf,
          dir,
          name: `at-${instants.indexOf(instant)}`,
        });
        stored.forEach((vector, index) => {
          if (vector?.timestamp === instant)
            expectSameVector(vector, exported.get(ids[index] as string), learningFeatures);
        });
      }
      // The marts were built from what landed.
      const [marts] = await warehouse.query<{ n: string }>(
        "SELECT count() AS n FROM mart_daily_user_metrics WHERE pack = 'learning'",
      );
      expect(Number(marts?.n)).toBeGreaterThan(0);
    } finally {
      await documentsClient.close();
      await check.end();
      await warehouse.close();
    }
  });

  it('refuses a config with wrong fields: one line per field, exit 2', async () => {
    const config = join(dir, 'bad.yaml');
    writeFileSync(
      config,
      [
        'sources:',
        '  - kind: postgres',
        '    name: App',
        '    url: mysql://somewhere',
        'warehouse:',
        '  dir: ""',
        'service:',
        '  port: 70000',
        'jobs:',
        '  - name: nightly',
        '    cron: "0 3 * * *"',
        '    kind: transform',
        '    catchUp: sometimes',
        '',
      ].join('\n'),
    );
    const child = spawn(process.execPath, [TRIBUTARY, 'run', '--config', config], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    const exit = await exited(child);
    expect(exit.code).toBe(2);
    expect(exit.stderr.trim().split('\n')).toEqual([
      'tributary: sources[0].name: must start with a letter and use only a-z, 0-9 and _ (it names mirrors, slots and jobs)',
      'tributary: sources[0].url: must be a URL like postgres://USER:PASSWORD@HOST:PORT/DATABASE',
      'tributary: warehouse.dir: is required',
      'tributary: jobs[0].catchUp: Invalid option: expected one of "all"|"latest"|"none"',
      'tributary: service.port: Too big: expected number to be <=65535',
    ]);
  });
});
