// The stack `tributary stack up` leaves running: Kafka, Connect, the MongoDB stand-in and MariaDB detached from the CLI, recorded
// in <dir>/stack.json so that `status` and `down` find them again by PID.
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { StackError } from './errors.ts';
import { CONNECT_MAIN_CLASS, connectAnswers, startKafkaConnect } from './kafka-connect.ts';
import { KAFKA_MAIN_CLASS, kafkaAnswers, startKafka } from './kafka.ts';
import { MARIADB_PROGRAM, mariaDbAnswers, startMariaDb } from './mariadb.ts';
import { MONGO_LAUNCHER, mongoAnswers, startMongoStandIn } from './mongo.ts';
import { isRunning, isRunningProgram, stopProcess } from './processes.ts';

const serviceAtUrl = z.object({
  pid: z.number().int(),
  port: z.number().int(),
  url: z.string(),
  logFile: z.string(),
});

const stackRecordSchema = z.object({
  kafka: z
    .object({
      pid: z.number().int(),
      port: z.number().int(),
      controllerPort: z.number().int(),
      bootstrapServers: z.string(),
      logFile: z.string(),
    })
    .optional(),
  connect: serviceAtUrl.optional(),
  mongo: serviceAtUrl.optional(),
  mysql: serviceAtUrl.optional(),
});
export type StackRecord = z.infer<typeof stackRecordSchema>;

export type ServiceName = 'kafka' | 'connect' | 'mongo' | 'mysql';

export interface ServiceState {
  service: ServiceName;
  pid: number;
  /** Bootstrap servers or REST URL. */
  address: string;
  state: 'answering' | 'not answering' | 'not running';
}

export interface StoppedService {
  service: ServiceName;
  pid: number;
  outcome: 'stopped' | 'was not running' | 'pid now runs another program: left alone';
}

/**
 * Starts what is asked for and not already running: the broker (on the ports it had before, so a
 * running Connect finds it again), Connect (which needs the broker), the MongoDB stand-in.
 * Resolves once each answers.
 */
export async function startDetachedStack(options: {
  dataDir: string;
  kafka: boolean;
  connect: boolean;
  mongo: boolean;
  mysql?: boolean;
  log?: (message: string) => void;
}): Promise<StackRecord> {
  const dataDir = resolve(options.dataDir);
  const log = options.log ?? (() => undefined);
  const record: StackRecord = { ...(await readStackRecord(dataDir)) };
  // Recorded after each start: an `up` interrupted later still leaves what runs to `down`.
  if (options.kafka || options.connect) {
    record.kafka = await ensureKafka(dataDir, record.kafka, log);
    await writeStackRecord(dataDir, record);
  }
  if (options.connect && record.kafka) {
    record.connect = await ensureConnect(dataDir, record.kafka.bootstrapServers, record.connect, log);
    await writeStackRecord(dataDir, record);
  }
  if (options.mongo) {
    record.mongo = await ensureMongo(dataDir, record.mongo, log);
    await writeStackRecord(dataDir, record);
  }
  if (options.mysql) {
    record.mysql = await ensureMysql(dataDir, record.mysql, log);
    await writeStackRecord(dataDir, record);
  }
  return record;
}

async function ensureMongo(
  dataDir: string,
  previous: StackRecord['mongo'],
  log: (message: string) => void,
): Promise<NonNullable<StackRecord['mongo']>> {
  if (previous && isRunningProgram(previous.pid, MONGO_LAUNCHER)) {
    log(`mongo stand-in already running (pid ${previous.pid})`);
    return previous;
  }
  const { pid, port, url, logFile } = await startMongoStandIn({
    dataDir: join(dataDir, 'mongo'),
    port: previous?.port,
    detached: true,
  });
  log(`mongo stand-in (mongo-java-server, in memory) started (pid ${pid}, log ${logFile})`);
  return { pid, port, url, logFile };
}

async function ensureMysql(
  dataDir: string,
  previous: StackRecord['mysql'],
  log: (message: string) => void,
): Promise<NonNullable<StackRecord['mysql']>> {
  if (previous && isRunningProgram(previous.pid, MARIADB_PROGRAM)) {
    log(`mariadb already running (pid ${previous.pid})`);
    return previous;
  }
  // Its data stays in the data directory: a restart keeps databases and binary logs.
  const { pid, port, url, logFile } = await startMariaDb({
    dataDir: join(dataDir, 'mysql'),
    port: previous?.port,
    detached: true,
  });
  log(`mariadb started (pid ${pid}, log ${logFile})`);
  return { pid, port, url, logFile };
}

async function ensureKafka(
  dataDir: string,
  previous: StackRecord['kafka'] | undefined,
  log: (message: string) => void,
): Promise<StackRecord['kafka']> {
  if (previous && isRunningProgram(previous.pid, KAFKA_MAIN_CLASS)) {
    log(`kafka already running (pid ${previous.pid})`);
    return previous;
  }
  const { pid, port, controllerPort, bootstrapServers, logFile } = await startKafka({
    dataDir: join(dataDir, 'kafka'),
    port: previous?.port,
    controllerPort: previous?.controllerPort,
    detached: true,
  });
  log(`kafka started (pid ${pid}, log ${logFile})`);
  return { pid, port, controllerPort, bootstrapServers, logFile };
}

async function ensureConnect(
  dataDir: string,
  bootstrapServers: string,
  previous: StackRecord['connect'],
  log: (message: string) => void,
): Promise<NonNullable<StackRecord['connect']>> {
  if (previous && isRunningProgram(previous.pid, CONNECT_MAIN_CLASS)) {
    log(`connect already running (pid ${previous.pid})`);
    return previous;
  }
  const { pid, port, url, logFile } = await startKafkaConnect({
    bootstrapServers,
    dataDir: join(dataDir, 'connect'),
    port: previous?.port,
    detached: true,
  });
  log(`connect started (pid ${pid}, log ${logFile})`);
  return { pid, port, url, logFile };
}

export async function readStackRecord(dataDir: string): Promise<StackRecord | undefined> {
  const file = recordFile(dataDir);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return undefined;
  }
  let parsed: StackRecord;
  try {
    parsed = stackRecordSchema.parse(JSON.parse(text));
  } catch (error) {
    throw new StackError(
      `${file} is not a stack record Tributary wrote; stop the processes it names by hand and delete it`,
      { cause: error },
    );
  }
  return parsed;
}

export async function stackStatus(record: StackRecord): Promise<ServiceState[]> {
  return Promise.all(
    services(record).map(async ({ service, pid, address, mainClass, answers }) => ({
      service,
      pid,
      address,
      state: !isRunningProgram(pid, mainClass)
        ? ('not running' as const)
        : (await answers())
          ? ('answering' as const)
          : ('not answering' as const),
    })),
  );
}

/** Stops Connect, then the broker (a worker whose broker is gone spends its shutdown waiting). */
export async function stopDetachedStack(dataDir: string): Promise<StoppedService[] | undefined> {
  const record = await readStackRecord(resolve(dataDir));
  if (!record) return undefined;
  const stopped: StoppedService[] = [];
  for (const { service, pid, mainClass } of services(record).reverse()) {
    if (isRunningProgram(pid, mainClass)) {
      await stopProcess(pid);
      stopped.push({ service, pid, outcome: 'stopped' });
    } else {
      const outcome = isRunning(pid) ? 'pid now runs another program: left alone' : 'was not running';
      stopped.push({ service, pid, outcome });
    }
  }
  await rm(recordFile(resolve(dataDir)), { force: true });
  return stopped;
}

/** The broker first: the order `status` lists them in (`down` goes the other way). */
function services(record: StackRecord) {
  const { kafka, connect, mongo, mysql } = record;
  return [
    ...(kafka
      ? [
          {
            service: 'kafka' as const,
            pid: kafka.pid,
            address: kafka.bootstrapServers,
            mainClass: KAFKA_MAIN_CLASS,
            answers: () => kafkaAnswers(kafka.bootstrapServers),
          },
        ]
      : []),
    ...(connect
      ? [
          {
            service: 'connect' as const,
            pid: connect.pid,
            address: connect.url,
            mainClass: CONNECT_MAIN_CLASS,
            answers: () => connectAnswers(connect.url),
          },
        ]
      : []),
    ...(mongo
      ? [
          {
            service: 'mongo' as const,
            pid: mongo.pid,
            address: mongo.url,
            mainClass: MONGO_LAUNCHER,
            answers: () => mongoAnswers(mongo.url),
          },
        ]
      : []),
    ...(mysql
      ? [
          {
            service: 'mysql' as const,
            pid: mysql.pid,
            address: mysql.url,
            mainClass: MARIADB_PROGRAM,
            answers: () => mariaDbAnswers(mysql.url),
          },
        ]
      : []),
  ];
}

function recordFile(dataDir: string): string {
  return join(dataDir, 'stack.json');
}

/** Written to a temporary file and renamed: a reader never sees half a record. */
async function writeStackRecord(dataDir: string, record: StackRecord): Promise<void> {
  await mkdir(dataDir, { recursive: true });
  const file = recordFile(dataDir);
  await writeFile(`${file}.tmp`, `${JSON.stringify(record, null, 2)}\n`);
  await rename(`${file}.tmp`, file);
}
