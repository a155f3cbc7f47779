// The acceptance check every capture test shares: the mirror's live rows (FINAL, not deleted) equal
// the source table's rows, value for value. Both sides are rendered to text independently of the
// capture code, by Postgres and by ClickHouse themselves.
import type pg from 'pg';
import { expect } from 'vitest';
import { quoteIdentifier, quoteTable, type Warehouse } from '../warehouse/index.ts';

interface ColumnInfo {
  name: string;
  dataType: string;
}

export interface MirrorEqualityOptions {
  client: pg.Client;
  warehouse: Warehouse;
  table: string;
  mirror: string;
  key: string[];
  /** Columns that must not be compared (dropped secrets, hashed PII). */
  exclude?: string[];
}

export async function readSourceAndMirror(
  options: MirrorEqualityOptions,
): Promise<{ source: string[]; mirror: string[] }> {
  const columns = (
    await options.client.query<ColumnInfo>(
      `SELECT column_name AS name, data_type AS "dataType" FROM information_schema.columns
       WHERE table_schema = 'public' AND table_name = $1 ORDER BY ordinal_position`,
      [options.table],
    )
  ).rows.filter((column) => !(options.exclude ?? []).includes(column.name));
  const order = options.key.map((column) => `${quoteIdentifier(column)}`).join(', ');
  const pgSelect = columns
    .map((column) => `${postgresText(column)} AS ${JSON.stringify(column.name)}`)
    .join(', ');
  const sourceRows = await options.client.query({
    text: `SELECT ${pgSelect} FROM ${options.table} ORDER BY ${options.key.map((k) => `"${k}"`).join(', ')}`,
    types: { getTypeParser: () => (value: string) => value } as unknown as pg.CustomTypesConfig,
  });
  const chSelect = columns
    .map((column) => `${clickhouseText(column)} AS ${quoteIdentifier(column.name)}`)
    .join(', ');
  const mirrorRows = await options.warehouse.query<Record<string, string | null>>(
    `SELECT ${chSelect} FROM ${quoteTable(options.mirror)} FINAL WHERE _is_deleted = 0 ORDER BY ${order}`,
  );
  const render = (row: Record<string, unknown>) =>
    JSON.stringify(columns.map((column) => normalise(column, row[column.name])));
  // Sorted here, not by either engine: their collations order text (case, trailing spaces) and
  // numerics kept as text differently.
  return { source: sourceRows.rows.map(render).sort(), mirror: mirrorRows.map(render).sort() };
}

/** `context` (a table shape, a seed) is added to failure messages. */
export async function expectMirrorEqualsSource(options: MirrorEqualityOptions, context = ''): Promise<void> {
  const { source, mirror } = await readSourceAndMirror(options);
  const where = context ? `${options.mirror} (${context})` : options.mirror;
  if (mirror.length !== source.length)
    expect(
      mirror,
      `rows of ${where}: ${mirror.length} in the mirror, ${source.length} in the source`,
    ).toEqual(source);
  for (let index = 0; index < source.length; index++) {
    if (mirror[index] !== source[index])
      expect(mirror[index], `row ${index} of ${where}`).toBe(source[index]);
  }
}

/** No `(key, _version)` pair appears twice in the raw table, even before FINAL collapses versions. */
export async function expectNoDuplicateVersions(
  warehouse: Warehouse,
  mirror: string,
  key: string[],
): Promise<void> {
  const keys = key.map(quoteIdentifier).join(', ');
  const duplicates = await warehouse.query(
    `SELECT ${keys}, _version, count() AS copies FROM ${quoteTable(mirror)} GROUP BY ${keys}, _version HAVING copies > 1 LIMIT 5`,
  );
  expect(duplicates, `duplicate (key, _version) pairs in ${mirror}`).toEqual([]);
}

function postgresText(column: ColumnInfo): string {
  const name = `"${column.name}"`;
  switch (column.dataType) {
    case 'ARRAY':
      return `to_json(${name})::text`;
    case 'boolean':
      return `${name}::text`;
    case 'timestamp without time zone':
      return `to_char(${name}, 'YYYY-MM-DD HH24:MI:SS.US')`;
    case 'timestamp with time zone':
      return `to_char(${name} AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US')`;
    default:
      // format('%s') renders with the type's output function (an inet cast to text would add /32).
      return `CASE WHEN ${name} IS NULL THEN NULL ELSE format('%s', ${name}) END`;
  }
}

function clickhouseText(column: ColumnInfo): string {
  const name = quoteIdentifier(column.name);
  return column.dataType === 'ARRAY' ? `toJSONString(${name})` : `toString(${name})`;
}

function normalise(column: ColumnInfo, value: unknown): unknown {
  if (column.dataType === 'ARRAY') {
    // ClickHouse arrays cannot be NULL: a NULL array is mirrored as an empty one.
    const items = value === null || value === undefined ? [] : (JSON.parse(String(value)) as unknown[]);
    return items.map((item) => (item === null ? null : String(item)));
  }
  if (value === null || value === undefined) return null;
  const text = String(value);
  if (column.dataType === 'numeric') return text.includes('.') ? text.replace(/\.?0+$/, '') : text;
  return text;
}
