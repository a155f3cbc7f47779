// `tributary capture`: captures an existing Postgres database or MongoDB collections into the
// warehouse's raw mirrors, or onto Kafka for the ingest workers.
import {
  captureConfigSchema,
  ConfigError,
  mongoCaptureConfigSchema,
  parseConfig,
  piiPolicyOptions,
} from '../../config/index.ts';
import {
  BATCH_DEFAULTS,
  createPiiPolicy,
  formatLsn,
  KafkaSink,
  runMongoCapture,
  runPostgresCapture,
  WarehouseSink,
  type LandingSink,
  type CollectionSelection,
  type PiiPolicy,
  type TableSelection,
} from '../../ingest/index.ts';
import { mysqlCaptureConfigSchema } from '../../config/mysql.ts';
import { runMysqlCapture } from '../../ingest/index.ts';
import { documentFieldsOf, getPack } from '../../packs/index.ts';
import { openWarehouse, parseWarehouseTarget, type Warehouse } from '../../warehouse/index.ts';
import { intFlag, parseCommandArgs, UsageError } from '../args.ts';

const usage = `Usage: tributary capture --source postgres://USER:PW@HOST:PORT/DB --warehouse DIR|http(s)://URL
                         [--source-name NAME] [--tables schema.t1,schema.t2 | --all-tables]
                         [--until-caught-up] [--keep-pii] [--batch-rows N] [--batch-delay-ms MS]
       tributary capture --source postgres://… --to kafka --brokers HOST:PORT[,HOST:PORT] […]
       tributary capture --source mongodb://HOST:PORT/… (--collections db.c1,db.c2 | --database DB)
                         [--pack NAME] […the options above]
       tributary capture --source mysql://USER:PW@HOST:PORT/DB [--tables db.t1,t2 | --all-tables] […]

Captures every change of the source's tables: an initial snapshot, then the logical replication
stream (a publication and slot named tributary_<NAME> are created if missing). Into the warehouse,
changes land in raw.<NAME>_<table> mirrors; onto Kafka, they are published as Debezium envelopes to
<NAME>.<schema>.<table>, keyed by primary key, for "tributary ingest". Run again later and it
resumes from the last position the destination accepted.

From MongoDB, each collection is snapshotted, then followed by its change stream (updates carry the
whole document); mirrors are raw.<NAME>_<collection> with _id, the document as canonical extended
JSON in doc, and the pack's declared fields as typed columns; topics are <NAME>.<db>.<collection>.
A stream whose resume token has left the oplog is snapshotted again automatically.

From MySQL or MariaDB (binlog_format=ROW, binlog_row_image=FULL, binlog_row_metadata=FULL; a user
with REPLICATION SLAVE, REPLICATION CLIENT or BINLOG MONITOR, and SELECT), the tables are snapshotted
in one consistent transaction, then followed in the row binary log from the position it stood at;
mirrors are raw.<NAME>_<db>_<table>, topics <NAME>.<db>.<table>. A purged position means a new snapshot.

Options:
  --source URL          the Postgres database to capture (wal_level must be logical)
  --warehouse DIR|URL   a directory for the embedded ClickHouse engine, or a ClickHouse HTTP URL
  --to kafka            publish to Kafka instead of writing the warehouse
  --brokers LIST        Kafka bootstrap servers (with --to kafka)
  --source-name NAME    names the mirrors or topics, the slot and the publication (default: the database name)
  --tables LIST         comma-separated tables to capture (default: every table with a primary key)
  --all-tables          capture every table with a primary key (the default)
  --collections LIST    (MongoDB) comma-separated database.collection names to capture
  --database DB         (MongoDB) capture every collection of DB
  --pack NAME           (MongoDB) the pack declaring the collections' typed fields (default learning)
  --until-caught-up     exit 0 once the snapshot is done and the destination reached the WAL
                        position read at start (otherwise stream until SIGINT/SIGTERM)
  --keep-pii            keep email/phone values as they are instead of a keyed hash
  --batch-rows N        land a batch once N changes are buffered (default ${BATCH_DEFAULTS.rows}), or ${BATCH_DEFAULTS.bytes / 1024 / 1024} MiB of them
  --batch-delay-ms MS   …or once the oldest buffered change is MS old (default ${BATCH_DEFAULTS.delayMs})

Environment:
  TRIBUTARY_PII_KEY       HMAC key for email/phone hashes (default: a key in .tributary/pii.key)
  TRIBUTARY_PII_DROP      comma-separated field patterns to drop (default: password*, salt, *_secret, …)
  TRIBUTARY_PII_HASH      comma-separated field patterns to hash (default: email, *_email, phone, …)`;

const spec = {
  usage,
  options: {
    source: { type: 'string' },
    warehouse: { type: 'string' },
    to: { type: 'string' },
    brokers: { type: 'string' },
    'source-name': { type: 'string' },
    tables: { type: 'string' },
    'all-tables': { type: 'boolean' },
    collections: { type: 'string' },
    database: { type: 'string' },
    pack: { type: 'string' },
    'until-caught-up': { type: 'boolean' },
    'keep-pii': { type: 'boolean' },
    'batch-rows': { type: 'string' },
    'batch-delay-ms': { type: 'string' },
  },
} as const;

export const captureCommand = {
  async run(argv: string[]): Promise<number> {
    const { values } = parseCommandArgs(argv, spec);
    if (values.help) {
      console.log(usage);
      return 0;
    }
    if (values.tables !== undefined && values['all-tables'])
      throw new UsageError('use either --tables or --all-tables, not both', usage);
    if (values.source === undefined) throw new UsageError('--source is required', usage);
    const toKafka = values.to === 'kafka';
    if (values.to !== undefined && !toKafka)
      throw new UsageError(`--to must be kafka, got "${values.to}"`, usage);
    if (toKafka && values.brokers === undefined) throw new UsageError('--to kafka needs --brokers', usage);
    if (!toKafka && values.warehouse === undefined) throw new UsageError('--warehouse is required', usage);
    const settings = {
      destination: toKafka
        ? { kind: 'kafka', brokers: values.brokers?.split(',').map((broker) => broker.trim()) }
        : { kind: 'warehouse', warehouse: values.warehouse },
      untilCaughtUp: values['until-caught-up'] ?? false,
      keepPii: values['keep-pii'] ?? false,
      batchRows: intFlag('batch-rows', values['batch-rows'], BATCH_DEFAULTS.rows, usage),
      batchDelayMs: intFlag('batch-delay-ms', values['batch-delay-ms'], BATCH_DEFAULTS.delayMs, usage),
    };
    if (/^mongodb(\+srv)?:/.test(values.source)) return captureMongo(values, settings);
    if (/^(mysql|mariadb):/.test(values.source)) return captureMysql(values, settings);
    if (values.collections !== undefined || values.database !== undefined)
      throw new UsageError('--collections and --database are for a mongodb:// source', usage);
    const tables: TableSelection =
      values.tables !== undefined
        ? {
            kind: 'list',
            tables: splitList(values.tables),
          }
        : { kind: 'all' };
    const config = parseConfig(captureConfigSchema, {
      source: values.source,
      sourceName: values['source-name'] ?? defaultSourceName(values.source),
      tables,
      ...settings,
    });
    return withDestination(config, async (sink, pii, signal) => {
      const result = await runPostgresCapture({
        sourceUrl: config.source,
        sourceName: config.sourceName,
        tables: config.tables,
        sink,
        pii,
        untilCaughtUp: config.untilCaughtUp,
        batchRows: config.batchRows,
        batchDelayMs: config.batchDelayMs,
        signal,
        events: logEvents,
      });
      console.error(
        `done: ${result.snapshotRows} snapshot rows, ${result.streamedChanges} streamed changes, ` +
          `${result.deadLetters} dead letters, confirmed up to ${formatLsn(result.confirmedLsn)}`,
      );
    });
  },
};

const logEvents = {
  log: (message: string) => console.error(message),
  warn: (message: string) => console.error(`warning: ${message}`),
};

async function captureMongo(
  values: { source?: string; collections?: string; database?: string; pack?: string; 'source-name'?: string },
  settings: Record<string, unknown>,
): Promise<number> {
  if ((values.collections === undefined) === (values.database === undefined))
    throw new UsageError('a mongodb:// source needs either --collections or --database', usage);
  const source = values.source ?? '';
  const collections: CollectionSelection =
    values.collections !== undefined
      ? { kind: 'list', collections: splitList(values.collections) }
      : { kind: 'database', database: values.database ?? '' };
  const config = parseConfig(mongoCaptureConfigSchema, {
    source,
    sourceName: values['source-name'] ?? defaultMongoSourceName(collections),
    collections,
    pack: values.pack ?? 'learning',
    ...settings,
  });
  const pack = getPack(config.pack);
  return withDestination(config, async (sink, pii, signal) => {
    const result = await runMongoCapture({
      sourceUrl: config.source,
      sourceName: config.sourceName,
      collections: config.collections,
      sink,
      pii,
      documentFields: documentFieldsOf(pack),
      untilCaughtUp: config.untilCaughtUp,
      batchRows: config.batchRows,
      batchDelayMs: config.batchDelayMs,
      signal,
      events: logEvents,
    });
    console.error(
      `done: ${result.snapshotDocuments} snapshot documents, ${result.streamedChanges} streamed changes, ` +
        `${result.deadLetters} dead letters, ${result.resnapshots} re-snapshots`,
    );
  });
}

async function captureMysql(
  values: {
    source?: string;
    tables?: string;
    collections?: string;
    database?: string;
    'source-name'?: string;
  },
  settings: Record<string, unknown>,
): Promise<number> {
  if (values.collections !== undefined || values.database !== undefined)
    throw new UsageError('--collections and --database are for a mongodb:// source', usage);
  const source = values.source ?? '';
  const config = parseConfig(mysqlCaptureConfigSchema, {
    source,
    sourceName: values['source-name'] ?? defaultSourceName(source),
    tables:
      values.tables !== undefined ? { kind: 'list', tables: splitList(values.tables) } : { kind: 'all' },
    ...settings,
  });
  return withDestination(config, async (sink, pii, signal) => {
    const result = await runMysqlCapture({
      sourceUrl: config.source,
      sourceName: config.sourceName,
      tables: config.tables,
      sink,
      pii,
      untilCaughtUp: config.untilCaughtUp,
      batchRows: config.batchRows,
      batchDelayMs: config.batchDelayMs,
      signal,
      events: logEvents,
    });
    console.error(
      `done: ${result.snapshotRows} snapshot rows, ${result.streamedChanges} streamed changes, ` +
        `${result.deadLetters} dead letters, ${result.resnapshots} re-snapshots, position ${result.position}`,
    );
  });
}

/** Opens the destination, stops on SIGINT/SIGTERM, and closes what it opened. */
async function withDestination(
  config: {
    keepPii: boolean;
    destination: { kind: 'kafka'; brokers: string[] } | { kind: 'warehouse'; warehouse: string };
  },
  capture: (sink: LandingSink, pii: PiiPolicy, signal: AbortSignal) => Promise<void>,
): Promise<number> {
  const pii = createPiiPolicy(piiPolicyOptions(config.keepPii));
  let warehouse: Warehouse | undefined;
  let sink: LandingSink;
  if (config.destination.kind === 'kafka') {
    sink = new KafkaSink({ brokers: config.destination.brokers, pii });
  } else {
    warehouse = await openWarehouse(parseWarehouseTarget(config.destination.warehouse));
    sink = new WarehouseSink(warehouse);
  }
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    await capture(sink, pii, stop.signal);
    return 0;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await warehouse?.close();
  }
}

function splitList(value: string): string[] {
  return value
    .split(',')
    .map((name) => name.trim())
    .filter(Boolean);
}

/** The database name, as for Postgres; with several databases in --collections, "mongo". */
function defaultMongoSourceName(collections: CollectionSelection): string {
  const databases =
    collections.kind === 'database'
      ? [collections.database]
      : [...new Set(collections.collections.map((name) => name.split('.')[0] ?? ''))];
  const name = databases.length === 1 ? (databases[0] ?? '') : 'mongo';
  return (
    name
      .toLowerCase()
      .replace(/[^a-z0-9_]/g, '_')
      .replace(/^[^a-z]+/, '') || 'mongo'
  );
}

function defaultSourceName(source: string): string {
  try {
    const database = new URL(source).pathname.replace(/^\//, '') || 'postgres';
    return (
      database
        .toLowerCase()
        .replace(/[^a-z0-9_]/g, '_')
        .replace(/^[^a-z]+/, '') || 'source'
    );
  } catch {
    throw new ConfigError('--source must be a URL like postgres://USER:PASSWORD@HOST:PORT/DATABASE');
  }
}
