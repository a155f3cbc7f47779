// Reads what capture needs from the source catalog: server settings, the tables to capture, their
// columns, types and row keys. Refuses, with a message saying how to fix it, what it cannot capture.
import pg from 'pg';
import { CaptureError } from '../errors.ts';
import type { PgTypeInfo } from './pg-types.ts';

export interface CatalogColumn {
  name: string;
  type: PgTypeInfo;
  typeOid: number;
  generated: boolean;
  /** The source's `COMMENT ON COLUMN`, if any. */
  comment?: string;
}

export interface CatalogTable {
  oid: number;
  schema: string;
  table: string;
  /** The source's `COMMENT ON TABLE`, if any. */
  comment?: string;
  columns: CatalogColumn[];
  key: string[];
  /** `REPLICA IDENTITY FULL`: updates and deletes log the whole old row. */
  fullIdentity: boolean;
  /** How rows are identified: by key columns, or (no key) by the whole row or the insert's position. */
  rowIdentity: 'key' | 'row' | 'append';
}

/** `all` may leave tables out (`table` or `schema.table`): those a write-back fills, for one. */
export type TableSelection =
  { kind: 'all'; exclude?: readonly string[] } | { kind: 'list'; tables: string[] };

/** Connection options every Tributary session sets so text output is in the formats the decoders expect. */
export const SESSION_OPTIONS =
  '-c TimeZone=UTC -c DateStyle=ISO -c IntervalStyle=postgres -c extra_float_digits=3';

export async function connectSource(url: string, extra: Partial<pg.ClientConfig> = {}): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url, options: SESSION_OPTIONS, ...extra });
  try {
    await client.connect();
  } catch (error) {
    const parsed = safeUrl(url);
    throw new CaptureError(`cannot connect to the source ${parsed}: ${(error as Error).message}`, {
      retriable: true,
      cause: error,
    });
  }
  return client;
}

export function redactUrl(url: string): string {
  return safeUrl(url);
}

function safeUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '<invalid URL>';
  }
}

export async function checkLogicalReplication(client: pg.Client): Promise<{ serverVersion: number }> {
  const result = await client.query<{ wal_level: string; version: string }>(
    "SELECT current_setting('wal_level') AS wal_level, current_setting('server_version_num') AS version",
  );
  const row = result.rows[0];
  if (row?.wal_level !== 'logical') {
    throw new CaptureError(
      `the source has wal_level=${row?.wal_level ?? 'unknown'}, but change capture needs wal_level=logical: ` +
        "run ALTER SYSTEM SET wal_level = 'logical' and restart Postgres",
    );
  }
  return { serverVersion: Number(row.version) };
}

const TABLES_SQL = `
SELECT c.oid, n.nspname AS schema, c.relname AS table, c.relreplident AS identity,
       obj_description(c.oid, 'pg_class') AS comment
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p')
  AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'
ORDER BY n.nspname, c.relname`;

const COLUMNS_SQL = `
SELECT a.attrelid AS oid, a.attname::text AS name, a.atttypid AS type_oid, a.atttypmod AS typmod,
       a.attgenerated <> '' AS generated, t.typname::text AS type_name, t.typcategory AS category,
       et.typname::text AS element_name, col_description(a.attrelid, a.attnum) AS comment
FROM pg_attribute a
JOIN pg_type t ON t.oid = a.atttypid
LEFT JOIN pg_type et ON et.oid = t.typelem AND t.typcategory = 'A'
WHERE a.attrelid = ANY($1::oid[]) AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attrelid, a.attnum`;

const KEYS_SQL = `
SELECT i.indrelid AS oid, array_agg(a.attname::text ORDER BY k.ord) AS key
FROM pg_index i
JOIN pg_class c ON c.oid = i.indrelid
CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord)
JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
WHERE i.indrelid = ANY($1::oid[])
  AND ((c.relreplident IN ('d', 'f') AND i.indisprimary) OR (c.relreplident = 'i' AND i.indisreplident))
GROUP BY i.indrelid`;

export interface CatalogReport {
  tables: CatalogTable[];
}

export async function readCatalog(client: pg.Client, selection: TableSelection): Promise<CatalogReport> {
  const all = (
    await client.query<{
      oid: number;
      schema: string;
      table: string;
      identity: string;
      comment: string | null;
    }>(TABLES_SQL)
  ).rows;
  const byName = new Map(all.map((row) => [`${row.schema}.${row.table}`, row]));
  const excluded = new Set(selection.kind === 'all' ? (selection.exclude ?? []) : []);
  let chosen = all.filter((row) => !excluded.has(row.table) && !excluded.has(`${row.schema}.${row.table}`));
  if (selection.kind === 'list') {
    chosen = selection.tables.map((name) => {
      const qualified = name.includes('.') ? name : `public.${name}`;
      const row = byName.get(qualified);
      if (!row) throw new CaptureError(`table ${qualified} does not exist in the source (check --tables)`);
      return row;
    });
  }
  const oids = chosen.map((row) => row.oid);
  const columns = (await client.query(COLUMNS_SQL, [oids])).rows;
  const keys = new Map(
    (await client.query<{ oid: number; key: string[] }>(KEYS_SQL, [oids])).rows.map((row) => [
      row.oid,
      row.key,
    ]),
  );
  const tables: CatalogTable[] = [];
  for (const row of chosen) {
    const key = keys.get(row.oid) ?? [];
    // Without a key a row is named by its whole old row (FULL), or, insert-only, by its position.
    const rowIdentity = key.length > 0 ? 'key' : row.identity === 'f' ? 'row' : 'append';
    tables.push({
      oid: row.oid,
      schema: row.schema,
      table: row.table,
      ...(row.comment !== null && { comment: row.comment }),
      key,
      fullIdentity: row.identity === 'f',
      rowIdentity,
      columns: columns
        .filter((column) => column.oid === row.oid)
        .map((column) => ({
          name: column.name,
          typeOid: column.type_oid,
          generated: column.generated,
          ...(column.comment !== null && { comment: column.comment as string }),
          type: {
            name: column.type_name,
            category: column.category,
            elementName: column.element_name ?? undefined,
            typmod: column.typmod,
          },
        })),
    });
  }
  return { tables };
}

/**
 * The source's comments on one table and its columns (`COMMENT ON`), for a table whose shape the
 * replication stream announced: it carries no comments.
 */
export async function readComments(
  client: pg.Client,
  schema: string,
  table: string,
): Promise<{ table?: string; columns: Map<string, string> }> {
  const result = await client.query<{ name: string | null; comment: string }>(
    `SELECT NULL AS name, obj_description(c.oid, 'pg_class') AS comment
     FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $2
     UNION ALL
     SELECT a.attname::text, col_description(a.attrelid, a.attnum)
     FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = $1 AND c.relname = $2 AND a.attnum > 0 AND NOT a.attisdropped`,
    [schema, table],
  );
  const rows = result.rows.filter((row) => row.comment !== null);
  const own = rows.find((row) => row.name === null)?.comment;
  return {
    ...(own !== undefined && { table: own }),
    columns: new Map(rows.flatMap((row) => (row.name === null ? [] : [[row.name, row.comment] as const]))),
  };
}

/** Type names by OID, for columns announced by the replication stream after a schema change. */
export async function readTypes(
  client: pg.Client,
  oids: number[],
): Promise<Map<number, Omit<PgTypeInfo, 'typmod'>>> {
  const result = await client.query(
    `SELECT t.oid, t.typname AS name, t.typcategory AS category, et.typname::text AS element_name
     FROM pg_type t LEFT JOIN pg_type et ON et.oid = t.typelem AND t.typcategory = 'A'
     WHERE t.oid = ANY($1::oid[])`,
    [oids],
  );
  return new Map(
    result.rows.map((row) => [
      row.oid,
      { name: row.name, category: row.category, elementName: row.element_name ?? undefined },
    ]),
  );
}
