// What a source needs before its Debezium connector starts. Postgres: the heartbeat table Debezium
// writes to, and the connector's publication, created here so it streams generated columns too
// (Postgres 18's publish_generated_columns; Debezium's own autocreate does not set it).
import pg from 'pg';
import {
  checkBinlogCapture,
  connectMysql,
  parseMysqlUrl,
  type MysqlServer,
} from '../ingest/mysql/catalog.ts';
import { HEARTBEAT_TABLE } from './connector-config.ts';

export interface PrepareOptions {
  sourceUrl: string;
  publication: string;
  /** `schema.table` names; every table when absent. */
  tables?: string[];
}

export async function preparePostgresSource(options: PrepareOptions): Promise<void> {
  const client = new pg.Client({ connectionString: options.sourceUrl });
  await client.connect();
  try {
    await client.query(
      `CREATE TABLE IF NOT EXISTS ${HEARTBEAT_TABLE} (id int PRIMARY KEY, beat_at timestamptz NOT NULL)`,
    );
    const exists = await client.query('SELECT 1 FROM pg_publication WHERE pubname = $1', [
      options.publication,
    ]);
    if (exists.rowCount !== 0) return;
    const version = Number(
      (await client.query<{ v: string }>("SELECT current_setting('server_version_num') AS v")).rows[0]?.v ??
        0,
    );
    const target = options.tables
      ? `FOR TABLE ${[...options.tables, HEARTBEAT_TABLE]
          .map((name) =>
            name
              .split('.')
              .map((part) => pg.escapeIdentifier(part))
              .join('.'),
          )
          .join(', ')}`
      : 'FOR ALL TABLES';
    const generated = version >= 180000 ? " WITH (publish_generated_columns = 'stored')" : '';
    await client.query(
      `CREATE PUBLICATION ${pg.escapeIdentifier(options.publication)} ${target}${generated}`,
    );
  } finally {
    await client.end();
  }
}

/**
 * What a MySQL source needs before its Debezium connector starts: nothing is created there, but
 * the server must log what the connector reads (the native capture's checks), and its flavor picks
 * the connector.
 */
export async function prepareMysqlSource(sourceUrl: string): Promise<MysqlServer> {
  const settings = parseMysqlUrl(sourceUrl);
  const connection = await connectMysql(settings);
  try {
    return await checkBinlogCapture(connection, settings);
  } finally {
    await connection.end();
  }
}
