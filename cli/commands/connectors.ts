// `tributary connectors`: registers Debezium connectors on Kafka Connect (idempotently) and shows
// their state.
import pg from 'pg';
import { parseConfig, piiPolicyOptions, postgresUrlSchema } from '../../config/index.ts';
import { ConnectClient, HEARTBEAT_TABLE, postgresConnector } from '../../connectors/index.ts';
import { CaptureError, redactUrl } from '../../ingest/index.ts';
import { z } from 'zod';
import { parseCommandArgs, UsageError } from '../args.ts';

const usage = `Usage: tributary connectors apply --connect-url URL --source postgres://USER:PW@HOST:PORT/DB
                                  [--source-name NAME] [--tables schema.t1,schema.t2]
       tributary connectors status --connect-url URL [--name CONNECTOR]

apply    registers the Debezium Postgres connector for the source (topics <NAME>.<schema>.<table>,
         slot and publication debezium_<NAME>), creating ${HEARTBEAT_TABLE} on the source for its
         heartbeat. Re-applying an unchanged configuration changes nothing; a changed one is updated.
status   shows each connector's state and its tasks' states.`;

const spec = {
  usage,
  options: {
    'connect-url': { type: 'string' },
    source: { type: 'string' },
    'source-name': { type: 'string' },
    tables: { type: 'string' },
    name: { type: 'string' },
  },
} as const;

const connectUrlSchema = z.url({ error: 'must be the Kafka Connect REST URL, like http://127.0.0.1:8083' });

export const connectorsCommand = {
  async run(argv: string[]): Promise<number> {
    const [action, ...rest] = argv;
    const { values } = parseCommandArgs(rest, spec);
    if (values.help || action === '--help' || action === '-h') {
      console.log(usage);
      return 0;
    }
    if (values['connect-url'] === undefined) throw new UsageError('--connect-url is required', usage);
    const client = new ConnectClient(
      parseConfig(z.object({ connectUrl: connectUrlSchema }), { connectUrl: values['connect-url'] })
        .connectUrl,
    );
    if (action === 'apply') return apply(client, values);
    if (action === 'status') return status(client, values.name);
    throw new UsageError(action === undefined ? 'say apply or status' : `unknown action "${action}"`, usage);
  },
};

async function apply(
  client: ConnectClient,
  values: { source?: string; 'source-name'?: string; tables?: string },
): Promise<number> {
  if (values.source === undefined) throw new UsageError('--source is required', usage);
  const { source } = parseConfig(z.object({ source: postgresUrlSchema }), { source: values.source });
  const sourceName =
    values['source-name'] ??
    new URL(source).pathname
      .replace(/^\//, '')
      .toLowerCase()
      .replace(/[^a-z0-9_]/g, '_');
  await ensureHeartbeatTable(source);
  const definition = postgresConnector({
    sourceUrl: source,
    sourceName,
    tables: values.tables
      ?.split(',')
      .map((table) => table.trim())
      .filter(Boolean),
    dropFields: piiPolicyOptions(true).dropFields,
  });
  const outcome = await client.apply(definition.name, definition.config);
  console.log(`${definition.name}: ${outcome}`);
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

/** Debezium's heartbeat action query writes here, so an idle database still advances the slot. */
async function ensureHeartbeatTable(source: string): Promise<void> {
  const client = new pg.Client({ connectionString: source });
  try {
    await client.connect();
    await client.query(
      `CREATE TABLE IF NOT EXISTS ${HEARTBEAT_TABLE} (id int PRIMARY KEY, beat_at timestamptz NOT NULL)`,
    );
  } catch (error) {
    throw new CaptureError(`cannot prepare ${redactUrl(source)} for Debezium: ${(error as Error).message}`, {
      cause: error,
    });
  } finally {
    await client.end().catch(() => undefined);
  }
}
