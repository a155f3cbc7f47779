// `tributary demo`: the whole embedded slice on a simulated product. Embedded Postgres (and the
// MongoDB stand-in for the pack's documents), the pack's schema, the simulator writing history
// while both captures snapshot and then stream into chDB.
import { rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { MongoClient } from 'mongodb';
import pg from 'pg';
import { demoConfigSchema, parseConfig, piiPolicyOptions } from '../../config/index.ts';
import {
  createPiiPolicy,
  mirrorTableName,
  runMongoCapture,
  startPostgresCapture,
  TeeSink,
  WarehouseSink,
  type LandingSink,
  type CaptureEvents,
  type CaptureResult,
  type MongoCaptureResult,
} from '../../ingest/index.ts';
import type { MysqlCaptureEvents } from '../../ingest/mysql/index.ts';
import {
  databaseSource,
  documentFieldsOf,
  getPack,
  type RunningPackSync,
  type SourcePack,
} from '../../packs/index.ts';
import { startEmbeddedPostgres, startMongoStandIn, type RunningMongo } from '../../stack/index.ts';
import { runTransforms, type TransformResult } from '../../transforms/index.ts';
import { migrate, openWarehouse, quoteTable, type Warehouse } from '../../warehouse/index.ts';
import { startDashboards } from '../../dashboards/index.ts';
import { intFlag, parseCommandArgs } from '../args.ts';
import { untilSignalled } from './dashboards.ts';
import { startDemoMysql, type DemoMysql } from './demo-mysql.ts';
import { formatTable, ProgressDisplay } from '../progress.ts';

const usage = `Usage: tributary demo [--pack learning] [--users N] [--days D] [--seed S] [--data-dir DIR]
                      [--no-mongo] [--no-serve]

Starts an embedded Postgres (and an embedded MariaDB for a pack on MySQL, e.g. courses) and, for the
pack's documents, the MongoDB stand-in (mongo-java-server, in memory; the first run fetches it with
Maven), creates the pack's schema and runs its simulator;
once a third of the days are written, capture starts (snapshot, then streaming) into the embedded
ClickHouse warehouse at DIR/warehouse. Ends with the rows of every source table and collection next
to the rows of its mirror. A pack that keeps copies in step from its captures (postbook's
denormalized names) runs that sync while capturing, and the demo checks every copy at the end.

Options:
  --pack NAME      source pack to simulate (default: learning)
  --users N        simulated users (default: 1000)
  --days D         simulated days of history (default: 30)
  --seed S         simulator seed; the same seed gives the same data (default: 42)
  --data-dir DIR   where Postgres and the warehouse live (default: .data/demo; wiped at start)
  --no-mongo       leave the pack's MongoDB side out (no Java needed)
  --no-serve       do not serve the dashboards at the end (they are served until Ctrl-C only when
                   stdout is a terminal; scripts and CI never wait on them)`;

const spec = {
  usage,
  options: {
    pack: { type: 'string' },
    users: { type: 'string' },
    days: { type: 'string' },
    seed: { type: 'string' },
    'data-dir': { type: 'string' },
    'no-mongo': { type: 'boolean' },
    'no-serve': { type: 'boolean' },
  },
} as const;

export const demoCommand = {
  async run(argv: string[]): Promise<number> {
    const { values } = parseCommandArgs(argv, spec);
    if (values.help) {
      console.log(usage);
      return 0;
    }
    const config = parseConfig(demoConfigSchema, {
      pack: values.pack ?? 'learning',
      users: intFlag('users', values.users, 1000, usage),
      days: intFlag('days', values.days, 30, usage),
      seed: intFlag('seed', values.seed, 42, usage),
      dataDir: resolve(values['data-dir'] ?? '.data/demo'),
    });
    const pack = getPack(config.pack);
    const progress = new ProgressDisplay();
    const startedAt = Date.now();
    await rm(join(config.dataDir, 'postgres'), { recursive: true, force: true });
    await rm(join(config.dataDir, 'warehouse'), { recursive: true, force: true });

    progress.log(`starting embedded Postgres in ${join(config.dataDir, 'postgres')}`);
    const postgres = await startEmbeddedPostgres({ dataDir: join(config.dataDir, 'postgres') });
    let mongo: RunningMongo | undefined;
    let mysqlSide: DemoMysql | undefined;
    // Interrupted, the demo still stops its servers before leaving.
    const interrupt = () =>
      void Promise.allSettled([postgres.stop(), mongo?.stop(), mysqlSide?.stop()]).finally(() =>
        process.exit(130),
      );
    process.once('SIGINT', interrupt);
    process.once('SIGTERM', interrupt);
    const warehouse = await openWarehouse({ kind: 'chdb', path: join(config.dataDir, 'warehouse') });
    // One database per service of the product, each captured as its own source.
    const databases = await Promise.all(
      pack.postgres.map(async (database) => {
        const source = databaseSource(pack, pack.name, database.service);
        const url = await postgres.createDatabase(source);
        return { ...database, source, url, client: new pg.Client({ connectionString: url }) };
      }),
    );
    let mongoClient: MongoClient | undefined;
    let sync: RunningPackSync | undefined;
    // What runs in the background; on a failure it is stopped before the servers it reads go away.
    const stopBackground = new AbortController();
    const background: Promise<unknown>[] = [];
    let backgroundFailure: unknown;
    const watch = (task: Promise<unknown>) =>
      background.push(
        task.catch((error: unknown) => {
          backgroundFailure ??= error;
          stopBackground.abort();
        }),
      );
    try {
      if (pack.mongo && !values['no-mongo']) {
        progress.log('starting the MongoDB stand-in (mongo-java-server, in memory)');
        mongo = await startMongoStandIn({ dataDir: join(config.dataDir, 'mongo') });
        mongoClient = new MongoClient(mongo.url);
        await mongoClient.connect();
      }
      if (pack.mysql) {
        progress.log(`starting embedded MariaDB in ${join(config.dataDir, 'mariadb')}`);
        mysqlSide = await startDemoMysql(pack, join(config.dataDir, 'mariadb'));
      }
      // Both captures write the warehouse: its tables exist before either starts.
      await migrate(warehouse);
      for (const database of databases) {
        await database.client.connect();
        await database.client.query(database.schemaSql);
      }
      progress.log(`pack "${pack.name}": ${pack.description}`);
      if (pack.sync && mongoClient) {
        sync = await pack.sync.open({
          mongo: mongoClient.db(pack.mongo?.database ?? pack.name),
          postgres: Object.fromEntries(databases.map((database) => [database.service, database.client])),
        });
        progress.log(`sync from the captures: ${pack.sync.description}`);
      }
      // Every capture lands in the warehouse; the pack's sync follows what landed.
      const following = sync;
      const sink = (): LandingSink =>
        following
          ? new TeeSink(new WarehouseSink(warehouse), (changes) => following.follow(changes))
          : new WarehouseSink(warehouse);

      let captured = 0;
      let snapshotRows = 0;
      let captures:
        | { result: Promise<unknown>; catchUpAndStop(): Promise<Omit<CaptureResult, 'confirmedLsn'>> }[]
        | undefined;
      const stopDocuments = new AbortController();
      stopBackground.signal.addEventListener('abort', () => stopDocuments.abort());
      let documentCapture: Promise<MongoCaptureResult> | undefined;
      const captureDocuments = (untilCaughtUp: boolean, signal?: AbortSignal) =>
        runMongoCapture({
          sourceUrl: mongo?.url ?? '',
          sourceName: pack.name,
          collections: { kind: 'database', database: pack.mongo?.database ?? pack.name },
          sink: sink(),
          pii: createPiiPolicy(piiPolicyOptions(false)),
          documentFields: documentFieldsOf(pack),
          untilCaughtUp,
          signal,
          events: {
            warn: (message) => progress.log(`warning: ${message}`),
            landed: ({ changes }) => {
              captured += changes;
              progress.update({
                label: 'stream',
                detail: `${captured.toLocaleString('en-US')} changes landed`,
              });
            },
          },
        });
      const startCapture = () => {
        if (mongo) {
          documentCapture = captureDocuments(false, stopDocuments.signal);
          watch(documentCapture);
        }
        // Postgres and MySQL captures report alike.
        const events: CaptureEvents & MysqlCaptureEvents = {
          log: (message) => progress.log(message),
          warn: (message) => progress.log(`warning: ${message}`),
          snapshotProgress: (_table, rows) => {
            snapshotRows += rows;
            progress.update({
              label: 'snapshot',
              detail: `${snapshotRows.toLocaleString('en-US')} rows`,
            });
          },
          landed: ({ changes }) => {
            captured += changes;
            progress.update({
              label: 'stream',
              detail: `${captured.toLocaleString('en-US')} changes landed`,
            });
          },
        };
        const started = databases.map(({ url, source }) =>
          startPostgresCapture({
            sourceUrl: url,
            sourceName: source,
            tables: { kind: 'all', exclude: pack.writeback?.tables ?? [] },
            sink: sink(),
            pii: createPiiPolicy(piiPolicyOptions(false)),
            untilCaughtUp: false,
            signal: stopBackground.signal,
            events,
          }),
        );
        const all = [
          ...started,
          ...(mysqlSide?.startCaptures({
            sink,
            pii: createPiiPolicy(piiPolicyOptions(false)),
            signal: stopBackground.signal,
            events,
          }) ?? []),
        ];
        for (const capture of all) watch(capture.result);
        return all;
      };
      // Marts follow the data as it lands: an incremental transform run whenever the last is done.
      const transformRuns = new Map<TransformResult['mode'], number>();
      const transform = async () => {
        const run = await runTransforms({
          warehouse,
          pack: pack.name,
          mapping: pack.mapping(pack.name),
          marts: pack.marts,
        });
        transformRuns.set(run.mode, (transformRuns.get(run.mode) ?? 0) + 1);
        return run;
      };
      const transforming = repeatWhileRunning(stopBackground.signal, async () => {
        if (captures) await transform();
      });
      watch(transforming.done);
      const summary = await pack.simulate(
        Object.fromEntries(databases.map((database) => [database.service, database.client])),
        {
          users: config.users,
          days: config.days,
          seed: config.seed,
          mongo: mongoClient?.db(pack.mongo?.database ?? pack.name),
          mysql: mysqlSide?.connections,
          onProgress: (done, total) => {
            progress.update({ label: 'simulate', fraction: done / total, detail: `day ${done}/${total}` });
            // A third of the history exists before capture starts: the snapshot has real work to do.
            if (!captures && done >= Math.ceil(total / 3)) captures = startCapture();
          },
        },
      );
      captures ??= startCapture();
      transforming.stop();
      await Promise.allSettled([transforming.done]);
      if (backgroundFailure) throw backgroundFailure;
      progress.log(`simulation done: ${summary.statements.toLocaleString('en-US')} statements; catching up…`);
      const results = [];
      for (const capture of captures) results.push(await capture.catchUpAndStop());
      const result = {
        snapshotRows: results.reduce((sum, each) => sum + each.snapshotRows, 0),
        streamedChanges: results.reduce((sum, each) => sum + each.streamedChanges, 0),
        deadLetters: results.reduce((sum, each) => sum + each.deadLetters, 0),
      };
      let documents: MongoCaptureResult | undefined;
      if (mongo) {
        // The streaming document capture stops where it is; a last run resumes there and catches up.
        stopDocuments.abort();
        const streamed = await documentCapture;
        const last = await captureDocuments(true);
        documents = {
          snapshotDocuments: (streamed?.snapshotDocuments ?? 0) + last.snapshotDocuments,
          streamedChanges: (streamed?.streamedChanges ?? 0) + last.streamedChanges,
          deadLetters: (streamed?.deadLetters ?? 0) + last.deadLetters,
          resnapshots: (streamed?.resnapshots ?? 0) + last.resnapshots,
        };
      }
      const transformed = await transform();
      progress.finish();
      const comparison: CountComparison = { rows: [], allEqual: true };
      for (const database of databases) {
        const tables = await compareCounts(
          database.client,
          warehouse,
          database.source,
          pack.writeback?.tables ?? [],
        );
        comparison.rows.push(
          ...tables.rows.map(([table, ...rest]) => [
            databases.length === 1 ? (table ?? '') : `${database.service}.${table ?? ''}`,
            ...rest,
          ]),
        );
        comparison.allEqual &&= tables.allEqual;
      }
      for (const database of mysqlSide?.databases ?? []) {
        const counts = await mysqlSide?.tableCounts(database);
        const tables = await compareWithMirrors(
          warehouse,
          database.source,
          (counts ?? []).map(({ table, rows }) => ({
            label: `${database.service}.${table}`,
            name: table,
            schema: database.database,
            count: async () => rows,
          })),
        );
        comparison.rows.push(...tables.rows);
        comparison.allEqual &&= tables.allEqual;
      }
      if (mongoClient) {
        const collections = await compareCollectionCounts(mongoClient, warehouse, pack);
        comparison.rows.push(...collections.rows);
        comparison.allEqual &&= collections.allEqual;
      }
      console.log(`\n${formatTable(['source table', 'source rows', 'mirror rows', ''], comparison.rows)}\n`);
      if (sync) {
        // Checked against the sources, not assumed from the sync having run.
        const { checked, drifted } = await sync.verify();
        comparison.allEqual &&= drifted.length === 0;
        console.log(
          drifted.length === 0
            ? `denormalized copies: all ${checked.toLocaleString('en-US')} equal their member's names now (checked against Auth and the profiles)`
            : `denormalized copies: ${drifted.length} of ${checked.toLocaleString('en-US')} differ from their member's names, e.g.\n  ${drifted.slice(0, 5).join('\n  ')}`,
        );
      }
      console.log(
        `snapshot ${result.snapshotRows.toLocaleString('en-US')} rows, streamed ${result.streamedChanges.toLocaleString('en-US')} changes, ` +
          `${result.deadLetters} dead letters, in ${((Date.now() - startedAt) / 1000).toFixed(1)} s`,
      );
      if (documents)
        console.log(
          `documents: snapshot ${documents.snapshotDocuments.toLocaleString('en-US')}, streamed ` +
            `${documents.streamedChanges.toLocaleString('en-US')} changes, ${documents.deadLetters} dead letters ` +
            '(from the mongo-java-server stand-in, not a real mongod)',
        );
      console.log(
        `transforms: ${[...transformRuns].map(([mode, runs]) => `${runs} ${mode}`).join(', ')} run(s) as data landed, the last in ${transformed.seconds.toFixed(2)} s`,
      );
      await printMarts(warehouse, pack);
      console.log(`warehouse: ${join(config.dataDir, 'warehouse')} (query it with the chdb engine)`);
      if (!values['no-serve'] && process.stdout.isTTY === true) {
        // Ctrl-C now stops the dashboards; the servers are stopped on the way out as always.
        process.off('SIGINT', interrupt);
        process.off('SIGTERM', interrupt);
        await serveDashboards(warehouse);
      } else
        console.log(
          `dashboards: node bin/tributary.js dashboards --warehouse ${join(config.dataDir, 'warehouse')} (then http://127.0.0.1:8080/overview)`,
        );
      return comparison.allEqual ? 0 : 1;
    } finally {
      stopBackground.abort();
      await Promise.allSettled(background);
      await Promise.allSettled(databases.map((database) => database.client.end()));
      await sync?.close().catch(() => undefined);
      await mongoClient?.close().catch(() => undefined);
      await warehouse.close();
      await mongo?.stop();
      await mysqlSide?.stop();
      await postgres.stop();
      process.off('SIGINT', interrupt);
      process.off('SIGTERM', interrupt);
    }
  },
};

/**
 * Runs `task` again and again (a second apart) until stopped. `done` settles after the run in
 * progress, and rejects with the first failure, which also ends the repetition.
 */
function repeatWhileRunning(
  signal: AbortSignal,
  task: () => Promise<void>,
): { stop(): void; done: Promise<void> } {
  let stopped = false;
  signal.addEventListener('abort', () => (stopped = true));
  const done = (async () => {
    while (!stopped) {
      await task();
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  })();
  // Observed here so an early failure is not an unhandled rejection before `done` is awaited.
  done.catch(() => (stopped = true));
  return { stop: () => (stopped = true), done };
}

/** What the marts say: the last week's DAU, the retention curve, the A/B results, the pack's headline. */
async function printMarts(warehouse: Warehouse, { name: pack, headline }: SourcePack): Promise<void> {
  const dau = await warehouse.query<{
    day: string;
    dau: string;
    wau: string;
    mau: string;
    stickiness: number;
  }>(
    `SELECT toString(day) AS day, dau, wau, mau, stickiness FROM mart_dau WHERE pack = {pack:String} ORDER BY day DESC LIMIT 7`,
    { pack },
  );
  console.log(
    `\n${formatTable(
      ['day', 'DAU', 'WAU', 'MAU', 'DAU/MAU'],
      dau.reverse().map((row) => [row.day, row.dau, row.wau, row.mau, row.stickiness.toFixed(2)]),
    )}`,
  );
  // The overall curve weights cohorts by size, over the cohorts old enough for each period.
  const retention = await warehouse.query<{
    period: number;
    cohorts: string;
    rate: number;
    unbounded: number;
  }>(
    `SELECT period, count() AS cohorts, sum(retained) / sum(cohort_size) AS rate,
        sum(unbounded_retained) / sum(cohort_size) AS unbounded
     FROM mart_retention WHERE pack = {pack:String} AND cohort_kind = 'first_activity' AND grain = 'day'
       AND period IN (0, 1, 3, 7, 14, 21, 28)
     GROUP BY period ORDER BY period`,
    { pack },
  );
  console.log(
    `\n${formatTable(
      ['day N', 'cohorts', 'retained on day N', 'on day N or later'],
      retention.map((row) => [
        String(row.period),
        row.cohorts,
        `${(row.rate * 100).toFixed(1)}%`,
        `${(row.unbounded * 100).toFixed(1)}%`,
      ]),
    )}`,
  );
  const ab = await warehouse.query<Record<string, number | string | null>>(
    `SELECT experiment, metric, n, control_mean, mean, rel_lift, ci_low, ci_high, p_value, cuped_ci_low, cuped_ci_high,
        srm_flag, msprt_p_value, decision
     FROM mart_ab_results WHERE pack = {pack:String} AND control_mean IS NOT NULL ORDER BY experiment, metric`,
    { pack },
  );
  const percent = (value: unknown) => (typeof value === 'number' ? `${(value * 100).toFixed(1)}%` : '');
  console.log(
    `\n${formatTable(
      [
        'experiment',
        'metric',
        'n (treated)',
        'control',
        'treatment',
        'lift',
        '95% CI',
        'p',
        'CUPED 95% CI',
        'SRM',
        'always-valid p',
        'decision',
      ],
      ab.map((row) => [
        String(row.experiment),
        String(row.metric),
        String(row.n),
        Number(row.control_mean).toFixed(3),
        Number(row.mean).toFixed(3),
        percent(row.rel_lift),
        `${percent(row.ci_low)} … ${percent(row.ci_high)}`,
        Number(row.p_value).toPrecision(2),
        `${percent(row.cuped_ci_low)} … ${percent(row.cuped_ci_high)}`,
        row.srm_flag ? 'MISMATCH' : 'ok',
        Number(row.msprt_p_value).toPrecision(2),
        String(row.decision),
      ]),
    )}\n`,
  );
  if (!headline) return;
  const rows = await warehouse.query<Record<string, unknown>>(headline.sql, { pack });
  const columns = Object.keys(rows[0] ?? {});
  console.log(
    `${headline.title}\n${formatTable(
      columns,
      rows.map((row) => columns.map((column) => formatCell(row[column]))),
    )}\n`,
  );
}

/** Numbers to at most three decimals; everything else as text. */
function formatCell(value: unknown): string {
  if (typeof value === 'number')
    return Number.isInteger(value) ? value.toLocaleString('en-US') : value.toFixed(3);
  return value === null || value === undefined ? '' : String(value);
}

/** Serves the dashboards on 127.0.0.1:8080 (a free port when that is taken) until Ctrl-C. */
async function serveDashboards(warehouse: Warehouse): Promise<void> {
  const server = await startDashboards({ warehouse, host: '127.0.0.1', port: 8080 }).catch(() =>
    startDashboards({ warehouse, host: '127.0.0.1', port: 0 }),
  );
  console.log(`\nDashboards: ${server.url}/overview  (Ctrl-C to stop)`);
  await untilSignalled();
  await server.close();
}

interface CountComparison {
  rows: string[][];
  allEqual: boolean;
}

/** One line per source table or collection: its rows next to its mirror's live rows. */
async function compareWithMirrors(
  warehouse: Warehouse,
  source: string,
  /** `schema`: a MySQL table's database (Postgres tables are in `public`). */
  sources: { label: string; name: string; schema?: string; count: () => Promise<number> }[],
): Promise<CountComparison> {
  const comparison: CountComparison = { rows: [], allEqual: true };
  for (const { label, name, schema, count } of sources) {
    const sourceCount = await count();
    const mirror = mirrorTableName(source, schema ?? 'public', name);
    const mirrorRows = await warehouse.query<{ n: string }>(
      `SELECT count() AS n FROM ${quoteTable(mirror)} FINAL WHERE _is_deleted = 0`,
    );
    const mirrorCount = Number(mirrorRows[0]?.n ?? 0);
    const equal = mirrorCount === sourceCount;
    comparison.allEqual &&= equal;
    comparison.rows.push([
      label,
      sourceCount.toLocaleString('en-US'),
      mirrorCount.toLocaleString('en-US'),
      equal ? 'ok' : 'DIFFERS',
    ]);
  }
  return comparison;
}

async function compareCollectionCounts(
  client: MongoClient,
  warehouse: Warehouse,
  pack: SourcePack,
): Promise<CountComparison> {
  const database = client.db(pack.mongo?.database ?? pack.name);
  return compareWithMirrors(
    warehouse,
    pack.name,
    (pack.mongo?.collections ?? []).map((spec) => ({
      label: `${spec.name} (mongo)`,
      name: spec.name,
      count: () => database.collection(spec.name).countDocuments(),
    })),
  );
}

async function compareCounts(
  client: pg.Client,
  warehouse: Warehouse,
  source: string,
  /** Tables the pack writes back: not captured, so not compared. */
  written: readonly string[],
): Promise<CountComparison> {
  const tables = await client.query<{ table: string }>(
    "SELECT tablename AS table FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename",
  );
  return compareWithMirrors(
    warehouse,
    source,
    tables.rows
      .filter(({ table }) => !written.includes(table))
      .map(({ table }) => ({
        label: table,
        name: table,
        count: async () =>
          Number(
            (await client.query(`SELECT count(*) AS n FROM ${pg.escapeIdentifier(table)}`)).rows[0]?.n ?? 0,
          ),
      })),
  );
}
