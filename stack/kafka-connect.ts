// Starts a Kafka Connect worker (distributed mode, one member) with the Debezium Postgres, MongoDB,
// MySQL and MariaDB connectors on its plugin path; its state lives in topics named after its data
// directory.
import { createHash } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { findFreePort } from './free-port.ts';
import { startJavaService, writeJavaProperties, type JavaPropertyValue } from './java-service.ts';
import { KAFKA_MAX_MESSAGE_BYTES } from './kafka.ts';
import { ensureStackArtifacts } from './maven-artifacts.ts';

export interface KafkaConnectOptions {
  /** The broker the worker keeps its configs, offsets and statuses in (and connectors write to). */
  bootstrapServers: string;
  /** Worker config and `connect.log`; the same directory means the same Connect cluster. */
  dataDir: string;
  /** REST port; defaults to a free one. */
  port?: number;
  /** Worker log lines (attached mode only); they also go to `<dataDir>/connect.log`. */
  onLog?: (line: string) => void;
  /** Outlive this process, as `tributary stack up` needs; otherwise it dies with this process. */
  detached?: boolean;
  /** Default 180 s: scanning the plugins takes 20–60 s on a two-core machine. */
  startTimeoutMs?: number;
}

export interface RunningConnect {
  /** REST API: `http://127.0.0.1:PORT`. */
  url: string;
  port: number;
  pid: number;
  logFile: string;
  stop(): Promise<void>;
}

export const CONNECT_MAIN_CLASS = 'org.apache.kafka.connect.cli.ConnectDistributed';
export const DEBEZIUM_CONNECTORS = {
  postgres: 'io.debezium.connector.postgresql.PostgresConnector',
  mongodb: 'io.debezium.connector.mongodb.MongoDbConnector',
  mysql: 'io.debezium.connector.mysql.MySqlConnector',
  mariadb: 'io.debezium.connector.mariadb.MariaDbConnector',
} as const;

export async function startKafkaConnect(options: KafkaConnectOptions): Promise<RunningConnect> {
  const dataDir = resolve(options.dataDir);
  const { kafkaClasspath, pluginPath } = await ensureStackArtifacts();
  const port = options.port ?? (await findFreePort());
  const url = `http://127.0.0.1:${port}`;
  const config = join(dataDir, 'connect-distributed.properties');
  await mkdir(dataDir, { recursive: true });
  await writeJavaProperties(config, workerProperties(options.bootstrapServers, dataDir, port, pluginPath));
  const service = await startJavaService({
    name: 'Kafka Connect worker',
    classpath: kafkaClasspath,
    mainClass: CONNECT_MAIN_CLASS,
    args: [config],
    maxHeap: '768m',
    logFile: join(dataDir, 'connect.log'),
    detached: options.detached ?? false,
    onLog: options.onLog,
  });
  await service.waitUntilReady(() => connectAnswers(url), options.startTimeoutMs ?? 180_000);
  return { url, port, pid: service.pid, logFile: service.logFile, stop: service.stop };
}

/**
 * Whether the worker at `url` has finished starting (GET /health, which answers 503 until it has
 * joined its group and read its config topic) and offers the Debezium Postgres connector.
 */
export async function connectAnswers(url: string): Promise<boolean> {
  const health = await fetch(`${url}/health`, { signal: AbortSignal.timeout(2_000) }).catch(() => undefined);
  if (!health?.ok) return false;
  const plugins = await fetch(`${url}/connector-plugins`, { signal: AbortSignal.timeout(2_000) });
  if (!plugins.ok) return false;
  return ((await plugins.json()) as { class: string }[]).some(
    (plugin) => plugin.class === DEBEZIUM_CONNECTORS.postgres,
  );
}

function workerProperties(
  bootstrapServers: string,
  dataDir: string,
  port: number,
  pluginPath: string,
): Record<string, JavaPropertyValue> {
  // Two workers on one broker (two test files, the CLI's stack and a test) must not join each
  // other's group or read each other's connectors.
  const cluster = `tributary-connect-${createHash('sha256').update(dataDir).digest('hex').slice(0, 10)}`;
  return {
    'bootstrap.servers': bootstrapServers,
    'group.id': cluster,
    listeners: `http://127.0.0.1:${port}`,
    'rest.advertised.host.name': '127.0.0.1',
    'rest.advertised.port': port,
    'plugin.path': pluginPath,
    // Kafka's and Debezium's jars all ship ServiceLoader manifests: reading them skips a reflection
    // scan of every class (5 s and a few hundred MB of heap here).
    'plugin.discovery': 'service_load',
    'key.converter': 'org.apache.kafka.connect.json.JsonConverter',
    'value.converter': 'org.apache.kafka.connect.json.JsonConverter',
    'key.converter.schemas.enable': false,
    'value.converter.schemas.enable': false,
    'config.storage.topic': `_${cluster}-configs`,
    'config.storage.replication.factor': 1,
    'offset.storage.topic': `_${cluster}-offsets`,
    'offset.storage.replication.factor': 1,
    'offset.storage.partitions': 5,
    'status.storage.topic': `_${cluster}-status`,
    'status.storage.replication.factor': 1,
    'status.storage.partitions': 1,
    // Source records and their offsets are committed in one transaction (KIP-618), so a worker killed
    // between the two replays nothing: without it Debezium is at least once, and the events after
    // the last offset flush reach the topics again at new offsets.
    'exactly.once.source.support': 'enabled',
    // Source offsets (Debezium's LSN) reach Kafka within a second, so a restart replays little.
    'offset.flush.interval.ms': 1_000,
    // A restarted worker is a new group member: without this its old tasks wait 5 minutes before
    // they are handed to it.
    'scheduled.rebalance.max.delay.ms': 0,
    // Debezium's producer must send what the broker accepts: large TOASTed values and documents.
    'producer.max.request.size': KAFKA_MAX_MESSAGE_BYTES,
  };
}
