// Debezium connector configurations: the static part lives in debezium-*.json beside this file;
// this module adds what depends on the source (connection, names, tables, excluded secret columns).
import { readFileSync } from 'node:fs';
import { z } from 'zod';

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

/** Debezium matches `schema.table.column` against these regexes; secrets are excluded in every table. */
export function columnExcludeList(dropFields: string[]): string {
  const columns = dropFields.map((glob) => glob.split('*').map(escapeRegex).join('[^.]*'));
  return `(?i)[^.]+\\.[^.]+\\.(${columns.join('|')})`;
}

function escapeRegex(text: string): string {
  return text.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
}
