// The MySQL/MariaDB side of capture before any row is read: connecting with the decoding settings
// both the snapshot and the stream share, checking that the server logs what capture needs and
// that the user may read it, and describing the captured tables (columns, keys).
import mysql from 'mysql2/promise';
import { CaptureError } from '../errors.ts';

export type MysqlTableSelection = { kind: 'all' } | { kind: 'list'; tables: string[] };

export interface MysqlCatalogColumn {
  name: string;
  columnType: string;
  charset: string | null;
}

export interface MysqlCatalogTable {
  database: string;
  table: string;
  columns: MysqlCatalogColumn[];
  /** The primary key, or a unique index over NOT NULL columns; empty when the table has neither. */
  key: string[];
}

export interface MysqlServer {
  flavor: 'mariadb' | 'mysql';
  version: string;
}

export interface MysqlConnectionSettings {
  host: string;
  port: number;
  user: string;
  password: string;
  database: string;
}

/** The settings every connection of a capture uses: values come as exact text, instants in UTC. */
export const DECODING_OPTIONS = {
  dateStrings: true,
  supportBigNumbers: true,
  bigNumberStrings: false,
  decimalNumbers: false,
  jsonStrings: true,
  timezone: 'Z',
  charset: 'utf8mb4',
} as const;

export function parseMysqlUrl(url: string): MysqlConnectionSettings {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new CaptureError('--source must be a URL like mysql://USER:PASSWORD@HOST:PORT/DATABASE');
  }
  const database = decodeURIComponent(parsed.pathname.replace(/^\//, ''));
  if (!['mysql:', 'mariadb:'].includes(parsed.protocol) || parsed.hostname === '' || database === '')
    throw new CaptureError('--source must be a URL like mysql://USER:PASSWORD@HOST:PORT/DATABASE');
  return {
    host: parsed.hostname,
    port: parsed.port ? Number(parsed.port) : 3306,
    user: decodeURIComponent(parsed.username),
    password: decodeURIComponent(parsed.password),
    database,
  };
}

export function redactMysqlUrl(url: string): string {
  return url.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@');
}

export async function connectMysql(settings: MysqlConnectionSettings): Promise<mysql.Connection> {
  const where = `${settings.host}:${settings.port}`;
  let connection: mysql.Connection;
  try {
    connection = await mysql.createConnection({ ...settings, ...DECODING_OPTIONS, connectTimeout: 10_000 });
  } catch (error) {
    const { code, message } = error as { code?: string; message: string };
    if (code === 'ER_ACCESS_DENIED_ERROR')
      throw new CaptureError(
        `MySQL at ${where} refused the login of "${settings.user}": check the user and password in --source`,
        { cause: error },
      );
    if (code === 'ER_BAD_DB_ERROR')
      throw new CaptureError(`MySQL at ${where} has no database "${settings.database}": check --source`, {
        cause: error,
      });
    if (code === 'ER_DBACCESS_DENIED_ERROR')
      throw new CaptureError(
        `"${settings.user}" may not use the database "${settings.database}" at ${where}: GRANT SELECT ON \`${settings.database}\`.* TO it`,
        { cause: error },
      );
    throw new CaptureError(`cannot connect to MySQL at ${where}: ${message}`, {
      cause: error,
      retriable: true,
    });
  }
  // Instants are read in UTC, as the binlog decoder reads them.
  await connection.query("SET time_zone = '+00:00'");
  return connection;
}

async function variable(connection: mysql.Connection, name: string): Promise<string | undefined> {
  const [rows] = (await connection.query('SHOW GLOBAL VARIABLES LIKE ?', [name])) as unknown as [
    { Value: string }[],
  ];
  return rows[0]?.Value;
}

/** Refuses a server whose binary log cannot be captured, or a user who may not read it. */
export async function checkBinlogCapture(
  connection: mysql.Connection,
  settings: MysqlConnectionSettings,
): Promise<MysqlServer> {
  const [[row]] = (await connection.query('SELECT VERSION() AS version')) as unknown as [
    { version: string }[],
  ];
  const version = row?.version ?? '';
  const server: MysqlServer = { flavor: /mariadb/i.test(version) ? 'mariadb' : 'mysql', version };
  const required: [string, string, string][] = [
    ['log_bin', 'ON', 'log_bin (start the server with --log-bin)'],
    ['binlog_format', 'ROW', 'binlog_format=ROW'],
    ['binlog_row_image', 'FULL', 'binlog_row_image=FULL'],
    ['binlog_row_metadata', 'FULL', 'binlog_row_metadata=FULL (MySQL 8.0.1+, MariaDB 10.5+)'],
  ];
  for (const [name, expected, fix] of required) {
    const value = (await variable(connection, name))?.toUpperCase();
    if (value !== expected)
      throw new CaptureError(
        `the server's ${name} is ${value ?? 'not available'}, capture needs ${fix}: ` +
          `SET GLOBAL ${name === 'log_bin' ? 'is not possible for log_bin' : `${name}=${expected}`} or set it in the server's configuration`,
      );
  }
  const [grantRows] = (await connection.query('SHOW GRANTS')) as unknown as [Record<string, string>[]];
  const grants = grantRows
    .map((grant) => Object.values(grant)[0] ?? '')
    .join('\n')
    .toUpperCase();
  const global = grants
    .split('\n')
    .filter((line) => / ON \*\.\* /.test(line))
    .join('\n');
  const allPrivileges = /GRANT ALL PRIVILEGES ON \*\.\*/.test(global);
  const replicationSlave = allPrivileges || /REPLICATION SLAVE|REPLICATION REPLICA/.test(global);
  const readsPosition = allPrivileges || /REPLICATION CLIENT|BINLOG MONITOR|SUPER/.test(global);
  if (!replicationSlave || !readsPosition)
    throw new CaptureError(
      `"${settings.user}" may not read the binary log: GRANT REPLICATION SLAVE, ` +
        `${server.flavor === 'mariadb' ? 'BINLOG MONITOR' : 'REPLICATION CLIENT'}, SELECT ON *.* TO '${settings.user}'@'…' ` +
        '(as an administrator), then run capture again',
    );
  return server;
}

export async function readMysqlCatalog(
  connection: mysql.Connection,
  database: string,
  selection: MysqlTableSelection,
  /** A listed table that does not exist (any more) is left out instead of refused. */
  { skipMissing = false }: { skipMissing?: boolean } = {},
): Promise<MysqlCatalogTable[]> {
  const [tableRows] = (await connection.query(
    "SELECT TABLE_NAME AS name FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_TYPE = 'BASE TABLE' ORDER BY TABLE_NAME",
    [database],
  )) as unknown as [{ name: string }[]];
  const present = new Set(tableRows.map((row) => row.name));
  let names: string[];
  if (selection.kind === 'all') names = [...present];
  else {
    names = selection.tables.map((name) => {
      const dot = name.indexOf('.');
      const [schema, table] = dot < 0 ? [database, name] : [name.slice(0, dot), name.slice(dot + 1)];
      if (schema !== database)
        throw new CaptureError(
          `table ${name} is not in the database of --source (${database}): capture one database per source`,
        );
      return table;
    });
    const missing = names.filter((name) => !present.has(name));
    if (skipMissing) names = names.filter((name) => present.has(name));
    else if (missing.length > 0)
      throw new CaptureError(
        `table ${missing.map((name) => `${database}.${name}`).join(', ')} does not exist (or the user may not see it): check --tables`,
      );
  }
  const tables: MysqlCatalogTable[] = [];
  for (const table of names) {
    const [columnRows] = (await connection.query(
      `SELECT COLUMN_NAME AS name, COLUMN_TYPE AS columnType, CHARACTER_SET_NAME AS charset
         FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION`,
      [database, table],
    )) as unknown as [MysqlCatalogColumn[]];
    const [indexRows] = (await connection.query(
      `SELECT s.INDEX_NAME AS indexName, s.COLUMN_NAME AS columnName, c.IS_NULLABLE AS nullable
         FROM information_schema.STATISTICS s
         JOIN information_schema.COLUMNS c
           ON c.TABLE_SCHEMA = s.TABLE_SCHEMA AND c.TABLE_NAME = s.TABLE_NAME AND c.COLUMN_NAME = s.COLUMN_NAME
        WHERE s.TABLE_SCHEMA = ? AND s.TABLE_NAME = ? AND s.NON_UNIQUE = 0
        ORDER BY s.INDEX_NAME = 'PRIMARY' DESC, s.INDEX_NAME, s.SEQ_IN_INDEX`,
      [database, table],
    )) as unknown as [{ indexName: string; columnName: string; nullable: string }[]];
    const indexes = new Map<string, { columns: string[]; nullable: boolean }>();
    for (const row of indexRows) {
      const index = indexes.get(row.indexName) ?? { columns: [], nullable: false };
      index.columns.push(row.columnName);
      index.nullable ||= row.nullable === 'YES';
      indexes.set(row.indexName, index);
    }
    const key = [...indexes.values()].find((index) => !index.nullable)?.columns ?? [];
    tables.push({
      database,
      table,
      columns: columnRows.map((column) => ({ ...column, charset: column.charset ?? null })),
      key,
    });
  }
  return tables;
}
