// Debezium connector configurations: the static part lives in debezium-*.json beside this file;
// this module adds what depends on the source (connection, names, tables, excluded secret columns).
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { DEBEZIUM_CONNECTORS } from '../stack/kafka-connect.ts';

const staticConfigSchema = z.record(z.string(), z.string());
const loadStatic = (file: string) =>
  staticConfigSchema.parse(JSON.parse(readFileSync(new URL(file, import.meta.url), 'utf8')));

export interface ConnectorDefinition {
  name: string;
  config: Record<string, string>;
}

export interface PostgresConnectorOptions {
  sourceUrl: string;
  /** Topic prefix: topics are `<sourceName>.<schema>.<table>`, as the native capture names them. */
  sourceName: string;
  /** `schema.table` names; all tables when absent. */
  tables?: string[];
  /** Field-name globs that must never leave the source (the PII policy's drop list). */
  dropFields: string[];
}

/** The source-side table Debezium's heartbeat writes to, so an idle database still moves the slot. */
export const HEARTBEAT_TABLE = 'public.tributary_heartbeat';

export function postgresConnector(options: PostgresConnectorOptions): ConnectorDefinition {
  const url = new URL(options.sourceUrl);
  const config: Record<string, string> = {
    ...loadStatic('./debezium-postgres.json'),
    'database.hostname': url.hostname,
    'database.port': url.port || '5432',
    'database.user': decodeURIComponent(url.username),
    'database.password': decodeURIComponent(url.password),
    'database.dbname': url.pathname.replace(/^\//, ''),
    'topic.prefix': options.sourceName,
    'slot.name': `debezium_${options.sourceName}`,
    'publication.name': `debezium_${options.sourceName}`,
    'column.exclude.list': columnExcludeList(options.dropFields),
  };
  if (options.tables)
    config['table.include.list'] = [...options.tables, HEARTBEAT_TABLE].map(escapeRegex).join(',');
  return { name: `${options.sourceName}-postgres`, config };
}

export interface MysqlConnectorOptions {
  sourceUrl: string;
  /** MariaDB servers take Debezium's MariaDB connector; its events name connector "mariadb". */
  flavor: 'mysql' | 'mariadb';
  /** Topic prefix: topics are `<sourceName>.<database>.<table>`, as the native capture names them. */
  sourceName: string;
  /** Table names of the URL's database; all its tables when absent. */
  tables?: string[];
  dropFields: string[];
  /** The brokers the connector keeps its schema history on (as Kafka Connect reaches them). */
  bootstrapServers: string;
}

/**
 * Debezium's MySQL (or MariaDB) connector with the converters of the Postgres one, set so its
 * events carry what the native capture's carry: decimals as text, unsigned BIGINT exact (a JSON
 * number; the worker keeps those beyond 2^53 as text), binary strings base64.
 */
export function mysqlConnector(options: MysqlConnectorOptions): ConnectorDefinition {
  const url = new URL(options.sourceUrl);
  const database = decodeURIComponent(url.pathname.replace(/^\//, ''));
  const config: Record<string, string> = {
    'connector.class': DEBEZIUM_CONNECTORS[options.flavor],
    ...loadStatic('./debezium-mysql.json'),
    'database.hostname': url.hostname,
    'database.port': url.port || '3306',
    'database.user': decodeURIComponent(url.username),
    'database.password': decodeURIComponent(url.password),
    'database.server.id': String(replicaServerId(options.sourceName)),
    'database.include.list': escapeRegex(database),
    'topic.prefix': options.sourceName,
    // The connector's own record of the tables' DDL, which it replays on restart to decode the
    // binlog; `tributary.` topics are never consumed as changes.
    'schema.history.internal.kafka.bootstrap.servers': options.bootstrapServers,
    'schema.history.internal.kafka.topic': `tributary.schema-history.${options.sourceName}`,
    'column.exclude.list': columnExcludeList(options.dropFields),
  };
  if (options.tables)
    config['table.include.list'] = options.tables
      .map((table) => escapeRegex(`${database}.${table}`))
      .join(',');
  return { name: `${options.sourceName}-${options.flavor}`, config };
}

/**
 * A replica's server id is unique per source server: one derived from the source name keeps it
 * stable across re-applies, away from the small ids real replicas take and from the native
 * capture's (0x7f000000 and up).
 */
function replicaServerId(sourceName: string): number {
  let hash = 0;
  for (const char of sourceName) hash = (Math.imul(hash, 31) + char.charCodeAt(0)) >>> 0;
  return 0x60000000 + (hash % 0x0fffffff);
}

/** Debezium matches `schema.table.column` against these regexes; secrets are excluded in every table. */
export function columnExcludeList(dropFields: string[]): string {
  const columns = dropFields.map((glob) => glob.split('*').map(escapeRegex).join('[^.]*'));
  return `(?i)[^.]+\\.[^.]+\\.(${columns.join('|')})`;
}

function escapeRegex(text: string): string {
  return text.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
}
