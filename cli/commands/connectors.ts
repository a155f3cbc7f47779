// `tributary connectors`: registers Debezium connectors on Kafka Connect (idempotently), publishes
// the captured tables' shapes for the ingest workers, and shows the connectors' state.
import { Kafka, logLevel } from 'kafkajs';
import { z } from 'zod';
import { parseConfig, piiPolicyOptions, postgresUrlSchema } from '../../config/index.ts';
import { mysqlUrlSchema } from '../../config/mysql.ts';
import {
  ConnectClient,
  HEARTBEAT_TABLE,
  mysqlConnector,
  postgresConnector,
  prepareMysqlSource,
  preparePostgresSource,
} from '../../connectors/index.ts';
import {
  CaptureError,
  createPiiPolicy,
  describeSourceTables,
  idempotentProducer,
  publishTableSchemas,
  redactUrl,
} from '../../ingest/index.ts';
import { parseCommandArgs, UsageError } from '../args.ts';

const usage = `Usage: tributary connectors apply --connect-url URL --source postgres://USER:PW@HOST:PORT/DB
                                  [--source-name NAME] [--tables schema.t1,schema.t2] [--brokers HOST:PORT]
       tributary connectors apply --connect-url URL --source mysql://USER:PW@HOST:PORT/DB
                                  --brokers HOST:PORT [--source-name NAME] [--tables t1,t2]
       tributary connectors status --connect-url URL [--name CONNECTOR]

apply    registers the Debezium connector for the source. Re-applying an unchanged configuration
         changes nothing; a changed one is updated.
         Postgres: topics <NAME>.<schema>.<table>, slot and publication debezium_<NAME>; creates on
         the source the publication (with generated columns) and ${HEARTBEAT_TABLE} for
         its heartbeat. With --brokers, the tables' shapes (read from the source catalog) are
         published on tributary.schemas for the ingest workers.
         MySQL/MariaDB: Debezium's MySQL connector, or its MariaDB connector for a MariaDB server
         (topics <NAME>.<database>.<table>, transactions on <NAME>.transaction, which workers skip);
         the server is checked as the native capture checks it (ROW binlog, FULL row image and
         metadata, replication grants). --brokers (as Kafka Connect reaches them) keeps the
         connector's schema history on tributary.schema-history.<NAME>; the workers take the
         tables' shapes from the events' schemas.
status   shows each connector's state and its tasks' states; exit 1 unless all are RUNNING.`;

const spec = {
  usage,
  options: {
    'connect-url': { type: 'string' },
    source: { type: 'string' },
    'source-name': { type: 'string' },
    tables: { type: 'string' },
    name: { type: 'string' },
    brokers: { type: 'string' },
  },
} as const;

const connectUrlSchema = z.url({ error: 'must be the Kafka Connect REST URL, like http://127.0.0.1:8083' });

interface ApplyFlags {
  source?: string;
  'source-name'?: string;
  tables?: string;
  brokers?: string;
}

export const connectorsCommand = {
  async run(argv: string[]): Promise<number> {
    const [action, ...rest] = argv;
    const { values } = parseCommandArgs(rest, spec);
    if (values.help || action === '--help' || action === '-h') {
      console.log(usage);
      return 0;
    }
    if (values['connect-url'] === undefined) throw new UsageError('--connect-url is required', usage);
    const { connectUrl } = parseConfig(z.object({ connectUrl: connectUrlSchema }), {
      connectUrl: values['connect-url'],
    });
    const client = new ConnectClient(connectUrl);
    if (action === 'apply') return apply(client, values);
    if (action === 'status') return status(client, values.name);
    throw new UsageError(action === undefined ? 'say apply or status' : `unknown action "${action}"`, usage);
  },
};

async function apply(client: ConnectClient, flags: ApplyFlags): Promise<number> {
  if (flags.source === undefined) throw new UsageError('--source is required', usage);
  const mysql = /^(mysql|mariadb):/.test(flags.source);
  const { source } = parseConfig(z.object({ source: mysql ? mysqlUrlSchema : postgresUrlSchema }), {
    source: flags.source,
  });
  const sourceName =
    flags['source-name'] ??
    new URL(source).pathname
      .replace(/^\//, '')
      .toLowerCase()
      .replace(/[^a-z0-9_]/g, '_');
  const tables = flags.tables
    ?.split(',')
    .map((table) => table.trim())
    .filter(Boolean);
  const pii = piiPolicyOptions(true);
  if (mysql) return applyMysql(client, { source, sourceName, tables, brokers: flags.brokers, pii });
  const definition = postgresConnector({ sourceUrl: source, sourceName, tables, dropFields: pii.dropFields });
  await preparePostgresSource({
    sourceUrl: source,
    publication: definition.config['publication.name'] ?? '',
    tables,
  }).catch((error: Error) => {
    throw new CaptureError(`cannot prepare ${redactUrl(source)} for Debezium: ${error.message}`, {
      cause: error,
    });
  });
  if (flags.brokers !== undefined) {
    const shapes = await describeSourceTables({
      sourceUrl: source,
      sourceName,
      tables: tables ? { kind: 'list', tables: [...tables, HEARTBEAT_TABLE] } : { kind: 'all' },
      pii: createPiiPolicy(pii),
      warn: (message) => console.error(`warning: ${message}`),
    });
    const kafka = new Kafka({
      clientId: 'tributary-connectors',
      brokers: flags.brokers.split(','),
      logLevel: logLevel.NOTHING,
    });
    const producer = idempotentProducer(kafka);
    await producer.connect();
    await publishTableSchemas(producer, shapes).finally(() => producer.disconnect());
    console.log(`published the shapes of ${shapes.length} table(s) on tributary.schemas`);
  }
  console.log(`${definition.name}: ${await client.apply(definition.name, definition.config)}`);
  return 0;
}

async function applyMysql(
  client: ConnectClient,
  options: {
    source: string;
    sourceName: string;
    tables: string[] | undefined;
    brokers: string | undefined;
    pii: { dropFields: string[] };
  },
): Promise<number> {
  if (options.brokers === undefined)
    throw new UsageError(
      '--brokers is required for a MySQL source: its connector keeps its schema history there',
      usage,
    );
  const server = await prepareMysqlSource(options.source).catch((error: Error) => {
    throw new CaptureError(`cannot use ${redactUrl(options.source)} with Debezium: ${error.message}`, {
      cause: error,
    });
  });
  const definition = mysqlConnector({
    sourceUrl: options.source,
    flavor: server.flavor,
    sourceName: options.sourceName,
    // `db.table` or `table`: the connector captures tables of the URL's database.
    tables: options.tables?.map((table) => table.split('.').at(-1) ?? table),
    dropFields: options.pii.dropFields,
    bootstrapServers: options.brokers,
  });
  console.log(`${definition.name}: ${await client.apply(definition.name, definition.config)}`);
  return 0;
}

async function status(client: ConnectClient, name: string | undefined): Promise<number> {
  const names = name ? [name] : await client.connectors();
  let healthy = true;
  for (const connector of names) {
    const state = await client.status(connector);
    const tasks = state.tasks.map((task) => `task ${task.id} ${task.state}`).join(', ') || 'no tasks';
    console.log(`${state.name}: ${state.connector.state} (${tasks})`);
    healthy &&= state.connector.state === 'RUNNING' && state.tasks.every((task) => task.state === 'RUNNING');
  }
  return healthy ? 0 : 1;
}
