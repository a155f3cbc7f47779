// `tributary init`: writes a commented starter config (YAML, so the comments can stay).
import { existsSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { databaseSource, getPack, type SourcePack } from '../../packs/index.ts';
import { parseCommandArgs, UsageError } from '../args.ts';

const usage = `Usage: tributary init [--pack NAME] [--file tributary.config.yaml] [--force]

Writes a commented starter config for "tributary run": the pack's sources (one per Postgres or
MySQL database of the product and, when the pack has documents, MongoDB), the direct transport, an embedded warehouse, the transform and
write-back jobs, and the service's endpoints. Secrets are read from the environment (\${PGPASSWORD}).

Options:
  --pack NAME   the source pack the config starts from (default: learning)
  --file PATH   where to write it (default: tributary.config.yaml)
  --force       overwrite an existing file`;

const spec = {
  usage,
  options: { pack: { type: 'string' }, file: { type: 'string' }, force: { type: 'boolean' } },
} as const;

export function starterConfig(packName: string): string {
  const pack = getPack(packName);
  // With "tributary run --role capture" (or all), the sync runs beside this source's capture.
  const sync = pack.sync
    ? `    # The pack's sync from the captures (this one and the pack's Postgres one), idempotent and in
    # order per member, with a reconciliation pass for what drifted anyway; remove "sync" to turn off:
    # ${pack.sync.description}.
    sync:
      reconcileEveryMinutes: 60
      # amqpUrl: amqp://\${RABBITMQ_USER:-guest}:\${RABBITMQ_PASSWORD}@127.0.0.1:5672   # its domain events to RabbitMQ too
`
    : '';
  const mongo = pack.mongo
    ? `
  # The pack's documents: every collection of the database is captured, except the ones
  # Tributary's write-back fills (set "exclude" to choose yourself).
  - kind: mongo
    name: ${pack.name}
    url: mongodb://\${MONGO_HOST:-127.0.0.1}:27017/?replicaSet=rs0
    database: ${pack.mongo.database}
    pack: ${pack.name}
${sync}`
    : '';
  return `# Tributary pipeline config: "tributary config check" validates it and tries each source;
# "tributary run" runs it. \${NAME} is replaced by the environment variable NAME (\${NAME:-default}
# when unset), so no password needs to sit in this file.

sources:
${pack.postgres.map(({ service }) => postgresSource(pack, service)).join('')}${(pack.mysql?.databases ?? []).map(({ service, database }) => mysqlSource(pack, service, database)).join('')}${mongo}
# direct: captures write the warehouse themselves. kafka: captures publish Debezium envelopes and
# "tributary run --role ingest" processes (one consumer group) land them.
transport:
  kind: direct
  # kind: kafka
  # brokers: [127.0.0.1:9092]
  # group: tributary

# An embedded ClickHouse directory (one process at a time), or a ClickHouse server:
#   url: https://clickhouse.example:8443
#   user: tributary
#   password: \${CLICKHOUSE_PASSWORD}
warehouse:
  dir: .data/warehouse

# Packs whose marts are built; "source" names the capture whose mirrors the mapping reads.
packs:
  - name: ${pack.name}
    source: ${pack.name}

# Scheduled jobs (node-cron: five fields, or six with seconds first). catchUp says what happens to
# times missed while no scheduler ran: all, latest (default) or none. Kinds: transform, writeback,
# sql (your own SELECT into a table; {as_of:Date} is the run's day), report, export.
jobs:
  - name: transform-full-nightly
    cron: "30 2 * * *"
    timezone: UTC
    kind: transform
    options: { pack: ${pack.name}, full: true }
  - name: writeback-${pack.name}
    cron: "0 3 * * *"
    timezone: UTC
    kind: writeback
    catchUp: latest
    retries: 3
    options: { pack: ${pack.name}${writebackStores(pack)} }

scheduler: {}
  # control: postgres://…   # leases and run history shared by several schedulers

service:
  host: 127.0.0.1          # /healthz, /readyz, /metrics
  port: 9464
  shutdownSeconds: 30
  transformEverySeconds: 5

# Email, phone and the like are hashed with a key kept outside the warehouse (keyFile, created on
# first use); passwords and secrets are dropped. keep: true stores them as they are.
pii:
  keep: false
  keyFile: .tributary/pii.key
`;
}

/** A Postgres database with wal_level=logical, one per service of the product. */
function postgresSource(pack: SourcePack, service: string): string {
  const name = databaseSource(pack, pack.name, service);
  return `  # A Postgres database with wal_level=logical. Its tables land in raw.${name}_<table>; a slot and
  # a publication named tributary_${name} are created on first run.
  - kind: postgres
    name: ${name}
    url: postgres://\${PGUSER:-postgres}:\${PGPASSWORD}@\${PGHOST:-127.0.0.1}:5432/${name}
    tables: all            # or a list: [public.users, public.lessons]
    pack: ${pack.name}
`;
}

/** A MySQL/MariaDB database (binlog_format=ROW, binlog_row_image=FULL), one per service. */
function mysqlSource(pack: SourcePack, service: string, database: string): string {
  const name = databaseSource(pack, pack.name, service);
  return `  # MySQL/MariaDB with binlog_format=ROW, binlog_row_image=FULL, binlog_row_metadata=FULL and a user
  # with REPLICATION SLAVE, REPLICATION CLIENT (MariaDB: BINLOG MONITOR) and SELECT. Its tables land
  # in raw.${name}_${database}_<table>.
  - kind: mysql
    name: ${name}
    url: mysql://\${MYSQL_USER:-tributary}:\${MYSQL_PASSWORD}@\${MYSQL_HOST:-127.0.0.1}:3306/${database}
    tables: all            # or a list: [${database}.some_table]
    pack: ${pack.name}
`;
}

/**
 * The stores a write-back job names: the one Postgres database and the documents' MongoDB. A
 * pack's MySQL services are found by their sources' names, so they need no option.
 */
function writebackStores(pack: SourcePack): string {
  const postgres = pack.postgres.length === 1 ? `, postgres: ${pack.name}` : '';
  return `${postgres}${pack.mongo ? `, mongo: ${pack.name}` : ''}`;
}

export const initCommand = {
  async run(argv: string[]): Promise<number> {
    const { values } = parseCommandArgs(argv, spec);
    if (values.help) {
      console.log(usage);
      return 0;
    }
    const file = resolve(values.file ?? 'tributary.config.yaml');
    if (existsSync(file) && !values.force)
      throw new UsageError(`${file} exists; pass --force to overwrite it`, usage);
    writeFileSync(file, starterConfig(values.pack ?? 'learning'));
    console.log(`wrote ${file}: edit the sources, then "tributary config check" and "tributary run"`);
    return 0;
  },
};
