// Starts a single-node Apache Kafka (KRaft: broker and controller in one JVM) on loopback ports;
// started again on the same data directory and ports, it keeps its topics and offsets.
import { randomBytes } from 'node:crypto';
import { access, mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { findFreePort } from './free-port.ts';
import {
  runJavaTool,
  startJavaService,
  writeJavaProperties,
  type JavaPropertyValue,
} from './java-service.ts';
import { ensureStackArtifacts } from './maven-artifacts.ts';

export interface KafkaOptions {
  /** Config, topic data and `kafka.log`; reused (not re-formatted) when it already holds a broker. */
  dataDir: string;
  /** Client port; defaults to a free one. Pass the previous ports to restart a broker in place. */
  port?: number;
  /** KRaft controller port; defaults to a free one. */
  controllerPort?: number;
  /** Broker log lines (attached mode only); they also go to `<dataDir>/kafka.log`. */
  onLog?: (line: string) => void;
  /** Outlive this process, as `tributary stack up` needs; otherwise it dies with this process. */
  detached?: boolean;
  /** Default 120 s: a cold JVM on a busy two-core machine. */
  startTimeoutMs?: number;
}

export interface RunningKafka {
  /** `127.0.0.1:PORT`, for clients. */
  bootstrapServers: string;
  port: number;
  controllerPort: number;
  pid: number;
  logFile: string;
  stop(): Promise<void>;
}

export const KAFKA_MAIN_CLASS = 'kafka.Kafka';
/** Room for a 5 MB change event (a large TOASTed value or document) and its envelope. */
export const KAFKA_MAX_MESSAGE_BYTES = 8 * 1024 * 1024;

export async function startKafka(options: KafkaOptions): Promise<RunningKafka> {
  const dataDir = resolve(options.dataDir);
  const { kafkaClasspath } = await ensureStackArtifacts();
  const port = options.port ?? (await findFreePort());
  let controllerPort = options.controllerPort ?? (await findFreePort());
  while (controllerPort === port) controllerPort = await findFreePort();
  const logDir = join(dataDir, 'data');
  const config = join(dataDir, 'server.properties');
  await mkdir(dataDir, { recursive: true });
  await writeJavaProperties(config, serverProperties(port, controllerPort, logDir));
  // Formatting writes the cluster id into the log dir; a formatted dir is left as it is, which also
  // saves a JVM start when a test restarts the broker.
  if (!(await exists(join(logDir, 'meta.properties'))))
    await runJavaTool(kafkaClasspath, 'kafka.tools.StorageTool', [
      'format',
      '-t',
      newClusterId(),
      '-c',
      config,
    ]);
  const service = await startJavaService({
    name: 'Kafka broker',
    classpath: kafkaClasspath,
    mainClass: KAFKA_MAIN_CLASS,
    args: [config],
    maxHeap: '512m',
    // A produce request of a capture's batch is several MB: in G1's 1 MB regions at this heap every
    // one is a humongous allocation, and the broker spent 11–18 µs of CPU per 730-byte message
    // (100k in sends of 5,000, 2026-12-05) against 4–7 µs with the parallel collector, whose
    // pauses a single local broker can afford.
    jvmOptions: ['-XX:+UseParallelGC'],
    logFile: join(dataDir, 'kafka.log'),
    detached: options.detached ?? false,
    onLog: options.onLog,
  });
  const bootstrapServers = `127.0.0.1:${port}`;
  await service.waitUntilReady(() => kafkaAnswers(bootstrapServers), options.startTimeoutMs ?? 120_000);
  return {
    bootstrapServers,
    port,
    controllerPort,
    pid: service.pid,
    logFile: service.logFile,
    stop: service.stop,
  };
}

/** Whether a broker at `bootstrapServers` answers a metadata request. */
export async function kafkaAnswers(bootstrapServers: string): Promise<boolean> {
  const admin = new Kafka({
    clientId: 'tributary-stack-probe',
    brokers: [bootstrapServers],
    logLevel: logLevel.NOTHING,
    connectionTimeout: 1_000,
    requestTimeout: 2_000,
    retry: { retries: 0 },
  }).admin();
  try {
    await admin.connect();
    await admin.listTopics();
    return true;
  } catch {
    return false;
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

function serverProperties(
  port: number,
  controllerPort: number,
  logDir: string,
): Record<string, JavaPropertyValue> {
  return {
    'process.roles': 'broker,controller',
    'node.id': 1,
    // A static voter set (not --standalone's dynamic one, which records the controller's address in
    // the log): the broker then restarts fine on other ports.
    'controller.quorum.voters': `1@127.0.0.1:${controllerPort}`,
    listeners: `PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}`,
    'advertised.listeners': `PLAINTEXT://127.0.0.1:${port}`,
    'listener.security.protocol.map': 'PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
    'controller.listener.names': 'CONTROLLER',
    'inter.broker.listener.name': 'PLAINTEXT',
    'log.dirs': logDir,
    'num.partitions': 1,
    // One broker: every internal topic has one replica.
    'offsets.topic.replication.factor': 1,
    'transaction.state.log.replication.factor': 1,
    'transaction.state.log.min.isr': 1,
    'share.coordinator.state.topic.replication.factor': 1,
    'share.coordinator.state.topic.min.isr': 1,
    // Fewer than the default 50: creating them delays the first consumer group by seconds.
    'offsets.topic.num.partitions': 5,
    // Consumers join at once instead of waiting 3 s for more members that will never come.
    'group.initial.rebalance.delay.ms': 0,
    'auto.create.topics.enable': true,
    'message.max.bytes': KAFKA_MAX_MESSAGE_BYTES,
    'replica.fetch.max.bytes': KAFKA_MAX_MESSAGE_BYTES,
  };
}

/** 16 random bytes in base64url (22 characters), as Kafka's own `random-uuid` prints them. */
function newClusterId(): string {
  // A leading "-" would be read as an option by the storage tool's argument parser.
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}
