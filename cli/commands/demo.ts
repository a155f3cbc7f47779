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
  WarehouseSink,
  type MongoCaptureResult,
} from '../../ingest/index.ts';
import { documentFieldsOf, getPack, type SourcePack } from '../../packs/index.ts';
import { startEmbeddedPostgres, startMongoStandIn, type RunningMongo } from '../../stack/index.ts';
import { migrate, openWarehouse, quoteIdentifier, type Warehouse } from '../../warehouse/index.ts';
import { intFlag, parseCommandArgs } from '../args.ts';
import { formatTable, ProgressDisplay } from '../progress.ts';

const usage = `Usage: tributary demo [--pack learning] [--users N] [--days D] [--seed S] [--data-dir DIR]
                      [--no-mongo]

Starts an embedded Postgres and, for the pack's documents, the MongoDB stand-in (mongo-java-server,
in memory; the first run fetches it with Maven), creates the pack's schema and runs its simulator;
once a third of the days are written, capture starts (snapshot, then streaming) into the embedded
ClickHouse warehouse at DIR/warehouse. Ends with the rows of every source table and collection next
to the rows of its mirror.

Options:
  --pack NAME      source pack to simulate (default: learning)
  --users N        simulated users (default: 300)
  --days D         simulated days of history (default: 30)
  --seed S         simulator seed; the same seed gives the same data (default: 42)
  --data-dir DIR   where Postgres and the warehouse live (default: .data/demo; wiped at start)
  --no-mongo       leave the pack's MongoDB side out (no Java needed)`;

const spec = {
  usage,
  options: {
    pack: { type: 'string' },
    users: { type: 'string' },
    days: { type: 'string' },
    seed: { type: 'string' },
    'data-dir': { type: 'string' },
    'no-mongo': { type: 'boolean' },
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
      users: intFlag('users', values.users, 300, usage),
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
    // Interrupted, the demo still stops its servers before leaving.
    const interrupt = () =>
      void Promise.allSettled([postgres.stop(), mongo?.stop()]).finally(() => process.exit(130));
    process.once('SIGINT', interrupt);
    process.once('SIGTERM', interrupt);
    const warehouse = await openWarehouse({ kind: 'chdb', path: join(config.dataDir, 'warehouse') });
    const sourceUrl = await postgres.createDatabase(pack.name);
    const client = new pg.Client({ connectionString: sourceUrl });
    let mongoClient: MongoClient | undefined;
    try {
      if (pack.mongo && !values['no-mongo']) {
        progress.log('starting the MongoDB stand-in (mongo-java-server, in memory)');
        mongo = await startMongoStandIn({ dataDir: join(config.dataDir, 'mongo') });
        mongoClient = new MongoClient(mongo.url);
        await mongoClient.connect();
      }
      // Both captures write the warehouse: its tables exist before either starts.
      await migrate(warehouse);
      await client.connect();
      await client.query(pack.postgresSchemaSql);
      progress.log(`pack "${pack.name}": ${pack.description}`);

      let captured = 0;
      let snapshotRows = 0;
      let capture: ReturnType<typeof startPostgresCapture> | undefined;
      const stopDocuments = new AbortController();
      let documentCapture: Promise<MongoCaptureResult> | undefined;
      const captureDocuments = (untilCaughtUp: boolean, signal?: AbortSignal) =>
        runMongoCapture({
          sourceUrl: mongo?.url ?? '',
          sourceName: pack.name,
          collections: { kind: 'database', database: pack.mongo?.database ?? pack.name },
          sink: new WarehouseSink(warehouse),
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
        if (mongo) documentCapture = captureDocuments(false, stopDocuments.signal);
        return startPostgresCapture({
          sourceUrl,
          sourceName: pack.name,
          tables: { kind: 'all' },
          sink: new WarehouseSink(warehouse),
          pii: createPiiPolicy(piiPolicyOptions(false)),
          untilCaughtUp: false,
          events: {
            log: (message) => progress.log(message),
            warn: (message) => progress.log(`warning: ${message}`),
            snapshotProgress: (_table, rows) => {
              snapshotRows += rows;
              progress.update({ label: 'snapshot', detail: `${snapshotRows.toLocaleString('en-US')} rows` });
            },
            landed: ({ changes }) => {
              captured += changes;
              progress.update({
                label: 'stream',
                detail: `${captured.toLocaleString('en-US')} changes landed`,
              });
            },
          },
        });
      };
      const summary = await pack.simulate(client, {
        users: config.users,
        days: config.days,
        seed: config.seed,
        mongo: mongoClient?.db(pack.mongo?.database ?? pack.name),
        onProgress: (done, total) => {
          progress.update({ label: 'simulate', fraction: done / total, detail: `day ${done}/${total}` });
          // A third of the history exists before capture starts: the snapshot has real work to do.
          if (!capture && done >= Math.ceil(total / 3)) capture = startCapture();
        },
      });
      capture ??= startCapture();
      progress.log(`simulation done: ${summary.statements.toLocaleString('en-US')} statements; catching up…`);
      const result = await capture.catchUpAndStop();
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
      progress.finish();
      const comparison = await compareCounts(client, warehouse, pack.name);
      if (mongoClient) {
        const collections = await compareCollectionCounts(mongoClient, warehouse, pack);
        comparison.rows.push(...collections.rows);
        comparison.allEqual &&= collections.allEqual;
      }
      console.log(`\n${formatTable(['source table', 'source rows', 'mirror rows', ''], comparison.rows)}\n`);
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
      console.log(`warehouse: ${join(config.dataDir, 'warehouse')} (query it with the chdb engine)`);
      return comparison.allEqual ? 0 : 1;
    } finally {
      await client.end().catch(() => undefined);
      await mongoClient?.close().catch(() => undefined);
      await warehouse.close();
      await mongo?.stop();
      await postgres.stop();
      process.off('SIGINT', interrupt);
      process.off('SIGTERM', interrupt);
    }
  },
};

async function compareCollectionCounts(
  client: MongoClient,
  warehouse: Warehouse,
  pack: SourcePack,
): Promise<{ rows: string[][]; allEqual: boolean }> {
  const rows: string[][] = [];
  let allEqual = true;
  const database = pack.mongo?.database ?? pack.name;
  for (const spec of pack.mongo?.collections ?? []) {
    const sourceCount = await client.db(database).collection(spec.name).countDocuments();
    const mirror = mirrorTableName(pack.name, 'public', spec.name);
    const mirrorRows = await warehouse.query<{ n: string }>(
      `SELECT count() AS n FROM ${quoteIdentifier(mirror)} FINAL WHERE _is_deleted = 0`,
    );
    const mirrorCount = Number(mirrorRows[0]?.n ?? 0);
    const equal = mirrorCount === sourceCount;
    allEqual &&= equal;
    rows.push([
      `${spec.name} (mongo)`,
      sourceCount.toLocaleString('en-US'),
      mirrorCount.toLocaleString('en-US'),
      equal ? 'ok' : 'DIFFERS',
    ]);
  }
  return { rows, allEqual };
}

async function compareCounts(
  client: pg.Client,
  warehouse: Warehouse,
  source: string,
): Promise<{ rows: string[][]; allEqual: boolean }> {
  const tables = await client.query<{ table: string }>(
    "SELECT tablename AS table FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename",
  );
  const rows: string[][] = [];
  let allEqual = true;
  for (const { table } of tables.rows) {
    const sourceCount = Number(
      (await client.query(`SELECT count(*) AS n FROM ${pg.escapeIdentifier(table)}`)).rows[0]?.n ?? 0,
    );
    const mirror = mirrorTableName(source, 'public', table);
    const mirrorRows = await warehouse.query<{ n: string }>(
      `SELECT count() AS n FROM ${quoteIdentifier(mirror)} FINAL WHERE _is_deleted = 0`,
    );
    const mirrorCount = Number(mirrorRows[0]?.n ?? 0);
    const equal = mirrorCount === sourceCount;
    allEqual &&= equal;
    rows.push([
      table,
      sourceCount.toLocaleString('en-US'),
      mirrorCount.toLocaleString('en-US'),
      equal ? 'ok' : 'DIFFERS',
    ]);
  }
  return { rows, allEqual };
}
