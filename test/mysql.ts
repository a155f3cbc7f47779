// The MySQL-family server the MySQL tests run against: by default each test file (each test
// worker) starts one embedded MariaDB from Maven Central and every test takes a fresh database on
// it; with TRIBUTARY_MYSQL_URL set (MySQL 8.x or MariaDB 10.6+, see the README), the same tests use
// that server instead. Test titles carry MYSQL_SERVER so every result says what it ran against.
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import mysql from 'mysql2/promise';
import { startMariaDb, type RunningMariaDb } from '../stack/index.ts';
import { scratchDir } from './scratch.ts';

const REAL_MYSQL_URL = process.env.TRIBUTARY_MYSQL_URL;

export const MYSQL_SERVER = REAL_MYSQL_URL ? 'server at TRIBUTARY_MYSQL_URL' : 'embedded MariaDB 11.4';

export interface TestMysql {
  /** A URL with every privilege, on no database. */
  url: string;
  /** A database no other test uses, and its URL. */
  createDatabase(prefix: string): Promise<{ name: string; url: string }>;
  /** Starts a second, private server with extra options (e.g. a STATEMENT binlog); embedded only. */
  startPrivate(serverArgs: string[]): Promise<RunningMariaDb>;
  stop(): Promise<void>;
}

export async function startTestMysql(): Promise<TestMysql> {
  const dirs: string[] = [];
  const privates: RunningMariaDb[] = [];
  let server: RunningMariaDb | undefined;
  if (!REAL_MYSQL_URL) {
    const dir = await scratchDir('mariadb');
    dirs.push(dir);
    server = await startMariaDb({ dataDir: dir });
  }
  const url = REAL_MYSQL_URL ?? (server as RunningMariaDb).url;
  return {
    url,
    async createDatabase(prefix) {
      const name = `${prefix}_${randomBytes(4).toString('hex')}`;
      const connection = await mysql.createConnection({ uri: url });
      try {
        await connection.query(`CREATE DATABASE \`${name}\``);
      } finally {
        await connection.end();
      }
      return { name, url: withDatabase(url, name) };
    },
    async startPrivate(serverArgs) {
      const dir = await scratchDir('mariadb-private');
      dirs.push(dir);
      const started = await startMariaDb({ dataDir: dir, serverArgs });
      privates.push(started);
      return started;
    },
    async stop() {
      for (const running of [...privates, ...(server ? [server] : [])])
        await running.stop().catch(() => undefined);
      for (const dir of dirs) await rm(dir, { recursive: true, force: true });
    },
  };
}

export function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${encodeURIComponent(database)}`;
  return parsed.toString();
}

/** Runs statements on `url`, one connection, multiple statements allowed. */
export async function execute(url: string, sql: string, values?: unknown[]): Promise<unknown> {
  const connection = await mysql.createConnection({ uri: url, multipleStatements: true });
  try {
    const [result] = await connection.query(sql, values);
    return result;
  } finally {
    await connection.end();
  }
}
