// Starts the MongoDB stand-in: mongo-java-server (in memory, oplog enabled) from its Maven jars,
// launched through a one-file Java program. No real mongod exists for this machine kind; the
// stand-in speaks the wire protocol and serves collection change streams, which is what the
// native capture needs. It keeps nothing across restarts.
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MongoClient } from 'mongodb';
import { findFreePort } from './free-port.ts';
import { startJavaService } from './java-service.ts';
import { ensureStackArtifacts } from './maven-artifacts.ts';

export interface MongoStandInOptions {
  /** Holds `mongo.log`. */
  dataDir: string;
  /** Defaults to a free port; pass the previous one to restart in place (empty, oplog included). */
  port?: number;
  detached?: boolean;
  onLog?: (line: string) => void;
  startTimeoutMs?: number;
  /**
   * The JVM's maximum heap (default `4g`). Everything lives in it, the oplog's copy of each write
   * too: a million documents written twice need about 8 GB, or the collector takes all the time.
   */
  maxHeap?: string;
}

export interface RunningMongo {
  /** A connection string for the official driver. */
  url: string;
  port: number;
  pid: number;
  logFile: string;
  stop(): Promise<void>;
}

/** Run by `java` from source; its name is what `stack down` checks a recorded pid against. */
export const MONGO_LAUNCHER = fileURLToPath(new URL('./java/MongoStandIn.java', import.meta.url));

export async function startMongoStandIn(options: MongoStandInOptions): Promise<RunningMongo> {
  const dataDir = resolve(options.dataDir);
  const { mongoClasspath } = await ensureStackArtifacts();
  const port = options.port ?? (await findFreePort());
  const service = await startJavaService({
    name: 'MongoDB stand-in (mongo-java-server)',
    classpath: mongoClasspath,
    mainClass: MONGO_LAUNCHER,
    args: [String(port)],
    // Everything lives in the heap (documents, indexes, the oplog); the demo's default run needs
    // about 2 GB, and a starved JVM stops answering the driver's heartbeats.
    maxHeap: options.maxHeap ?? '4g',
    logFile: join(dataDir, 'mongo.log'),
    detached: options.detached ?? false,
    onLog: options.onLog,
  });
  const url = mongoStandInUrl(port);
  await service.waitUntilReady(() => mongoAnswers(url), options.startTimeoutMs ?? 60_000);
  return { url, port, pid: service.pid, logFile: service.logFile, stop: service.stop };
}

/** The stand-in is a single server, not a replica set: the driver must connect to it directly. */
export function mongoStandInUrl(port: number): string {
  return `mongodb://127.0.0.1:${port}/?directConnection=true`;
}

export async function mongoAnswers(url: string): Promise<boolean> {
  const client = new MongoClient(url, { serverSelectionTimeoutMS: 1_000, connectTimeoutMS: 1_000 });
  try {
    await client.connect();
    await client.db('admin').command({ ping: 1 });
    return true;
  } catch {
    return false;
  } finally {
    await client.close().catch(() => undefined);
  }
}
