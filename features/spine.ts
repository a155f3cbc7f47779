// The spine of an export: the (entity, timestamp) rows features are computed for. Either every
// entity known at one instant (`--as-of`), or a file (Parquet, Arrow or CSV) of `entity_id,
// timestamp` rows, loaded into a scratch table and checked before anything is computed: a bad
// spine is a clear error, never a silent empty or wrong file.
import { createHash, randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { access } from 'node:fs/promises';
import { extname } from 'node:path';
import { TributaryError } from '../errors/index.ts';
import { bookkeepingTable, quoteString, quoteTable as q, type Warehouse } from '../warehouse/index.ts';
import type { Entity } from './registry.ts';
import { SPINE_COLUMNS } from './sql.ts';

export class SpineError extends TributaryError {}

export type SpineFormat = 'Parquet' | 'Arrow' | 'CSVWithNames';

export function spineFormat(path: string): SpineFormat {
  const extension = extname(path).toLowerCase();
  if (extension === '.parquet') return 'Parquet';
  if (['.arrow', '.feather', '.ipc'].includes(extension)) return 'Arrow';
  if (extension === '.csv') return 'CSVWithNames';
  throw new SpineError(
    `cannot tell the spine's format from "${path}": name it .parquet, .arrow (.feather, .ipc) or .csv`,
  );
}

export interface Spine {
  table: string;
  rows: number;
  /** sha256 of the spine file, or undefined for an as-of spine. */
  sha256?: string;
  /** Rows left out because their entity was unknown at their timestamp (with dropUnknown). */
  unknownDropped: number;
  /** One row per entity, numbered in entity id order (an as-of spine). */
  entityOrdered: boolean;
  drop(): Promise<void>;
}

/**
 * Ordered by entity: each pass reads its range of entities' spine rows, in every part of its query
 * (a file spine's pass read the whole spine 11 times: bench:features (b), 0.85 of the pass's CPU).
 */
async function createSpineTable(warehouse: Warehouse): Promise<string> {
  const table = bookkeepingTable(`spine_${randomUUID().replaceAll('-', '')}`);
  await warehouse.command(
    `CREATE TABLE ${q(table)} (${SPINE_COLUMNS}) ENGINE = MergeTree ORDER BY (entity_id, row_no)`,
  );
  return table;
}

function spineOf(
  warehouse: Warehouse,
  table: string,
  rows: number,
  unknownDropped: number,
  entityOrdered: boolean,
  sha256?: string,
): Spine {
  return {
    table,
    rows,
    unknownDropped,
    entityOrdered,
    ...(sha256 ? { sha256 } : {}),
    drop: () => warehouse.command(`DROP TABLE IF EXISTS ${q(table)}`),
  };
}

/**
 * An entity's dimension as a spine needs it: `id`, `user_key` (the facts' key of a user; 0 for
 * content, whose facts are matched by id) and `known_from`, the entity's first appearance (a user's
 * signup, a content's creation; content without a creation time is never known).
 */
const ENTITY_DIMENSIONS: Record<Entity, { select: string; appeared: string }> = {
  user: {
    select:
      'SELECT user_id AS id, user_key, signup_at AS known_from FROM dim_users WHERE pack = {pack:String}',
    appeared: 'had signed up',
  },
  content: {
    select: `SELECT content_id AS id, toUInt32(0) AS user_key, assumeNotNull(created_at) AS known_from FROM dim_content
             WHERE pack = {pack:String} AND created_at IS NOT NULL`,
    appeared: 'had been created',
  },
};

/** Every entity of the pack known before `asOf` (a user who had signed up), at `asOf`. */
export async function asOfSpine(
  warehouse: Warehouse,
  pack: string,
  asOf: string,
  entity: Entity,
): Promise<Spine> {
  const table = await createSpineTable(warehouse);
  const dimension = ENTITY_DIMENSIONS[entity];
  try {
    await warehouse.command(
      `INSERT INTO ${q(table)}
       SELECT rowNumberInAllBlocks(), id, user_key, {asOf:DateTime64(3, 'UTC')}, known_from
       FROM (SELECT id, user_key, known_from FROM (${dimension.select})
             WHERE known_from < {asOf:DateTime64(3, 'UTC')} ORDER BY id)`,
      { pack, asOf },
    );
    const rows = await count(warehouse, `SELECT count() AS n FROM ${q(table)}`);
    if (rows === 0)
      throw new SpineError(
        `no ${pack} ${entity} ${dimension.appeared} before ${asOf}: run \`tributary transform\` first, or pick a later --as-of`,
      );
    return spineOf(warehouse, table, rows, 0, true);
  } catch (error) {
    await warehouse.command(`DROP TABLE IF EXISTS ${q(table)}`);
    throw error;
  }
}

async function count(warehouse: Warehouse, sql: string, params?: Record<string, unknown>): Promise<number> {
  const [row] = await warehouse.query<{ n: string }>(sql, params);
  return Number(row?.n ?? 0);
}

async function sha256Of(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

const ENTITY_TYPES = /^(String|FixedString\(\d+\)|UUID|U?Int(8|16|32|64|128|256))$/;
const TIME_TYPES = /^(DateTime64\(\d(, '[^']*')?\)|DateTime(\('[^']*'\))?|Date|Date32)$/;

/** A type without its Nullable and LowCardinality wrappers. */
function bareType(type: string): string {
  const inner = /^(?:Nullable|LowCardinality)\((.*)\)$/.exec(type);
  return inner ? bareType(inner[1] as string) : type;
}

export interface FileSpineOptions {
  pack: string;
  entity: Entity;
  path: string;
  /** Leave out rows whose entity is unknown at their timestamp (reported) instead of failing. */
  dropUnknown: boolean;
  /** The data's time span: spine timestamps must lie within it. */
  dataRange: { first: string; last: string };
}

/** Loads and checks a spine file; the checks name the rows at fault and what to do. */
export async function fileSpine(warehouse: Warehouse, options: FileSpineOptions): Promise<Spine> {
  if (warehouse.target.kind !== 'chdb')
    throw new SpineError(
      'spine files are read by the embedded engine; with a ClickHouse server, load the spine into a table there and export with --as-of per timestamp',
    );
  const format = spineFormat(options.path);
  try {
    await access(options.path);
  } catch {
    throw new SpineError(`the spine file ${options.path} does not exist or cannot be read`);
  }
  const source = `file(${quoteString(options.path)}, ${quoteString(format)}${
    format === 'CSVWithNames' ? `, 'entity_id String, timestamp String'` : ''
  })`;
  let columns: { name: string; type: string }[];
  try {
    columns =
      format === 'CSVWithNames'
        ? await csvHeader(warehouse, options.path)
        : await warehouse.query<{ name: string; type: string }>(`DESCRIBE TABLE ${source}`);
  } catch (error) {
    throw new SpineError(`cannot read the spine ${options.path} as ${format}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  const entity = columns.find((column) => column.name === 'entity_id');
  const time = columns.find((column) => column.name === 'timestamp');
  if (!entity || !time)
    throw new SpineError(
      `the spine must have the columns entity_id and timestamp; ${options.path} has ${columns.map((column) => column.name).join(', ') || 'none'}`,
    );
  if (!ENTITY_TYPES.test(bareType(entity.type)))
    throw new SpineError(`the spine's entity_id must be text or an integer, not ${entity.type}`);
  const isTime = TIME_TYPES.test(bareType(time.type));
  if (!isTime && bareType(time.type) !== 'String')
    throw new SpineError(
      `the spine's timestamp must be a timestamp, a date or ISO-8601 text (e.g. 2026-10-01T12:00:00Z), not ${time.type}`,
    );
  const parsedTime = isTime
    ? `toDateTime64(timestamp, 3, 'UTC')`
    : `parseDateTime64BestEffortOrNull(timestamp, 3, 'UTC')`;
  const sha256 = await sha256Of(options.path);
  const staging = bookkeepingTable(`spine_file_${randomUUID().replaceAll('-', '')}`);
  const table = await createSpineTable(warehouse);
  try {
    await warehouse.command(
      `CREATE TABLE ${q(staging)} ENGINE = MergeTree ORDER BY line AS
       SELECT toUInt64(rowNumberInAllBlocks() + 1) AS line, ifNull(toString(entity_id), '') AS entity_id,
         ${parsedTime} AS ts, toString(timestamp) AS timestamp_text
       FROM ${source}`,
      undefined,
      { input_format_parquet_preserve_order: 1, max_threads: 1 },
    );
    await checkRows(warehouse, staging, options);
    const dimension = ENTITY_DIMENSIONS[options.entity];
    const known = `SELECT line, s.entity_id AS entity_id, d.user_key AS user_key, s.ts AS ts, d.known_from AS known_from
      FROM ${q(staging)} AS s
      INNER JOIN (${dimension.select}) AS d ON d.id = s.entity_id
      WHERE d.known_from < s.ts`;
    const total = await count(warehouse, `SELECT count() AS n FROM ${q(staging)}`);
    const knownRows = await count(warehouse, `SELECT count() AS n FROM (${known})`, { pack: options.pack });
    const unknown = total - knownRows;
    if (unknown > 0 && !options.dropUnknown) {
      const examples = await warehouse.query<{ line: string; entity_id: string }>(
        `SELECT line, entity_id FROM ${q(staging)} WHERE line NOT IN (SELECT line FROM (${known})) ORDER BY line LIMIT 3`,
        { pack: options.pack },
      );
      throw new SpineError(
        `${unknown} of ${total} spine rows name a ${options.entity} that is unknown or ${dimension.appeared.replace('had', 'had not')} by its timestamp (e.g. row ${examples
          .map((row) => `${row.line}: "${row.entity_id}"`)
          .join(', row ')}); fix the spine, or pass --drop-unknown to leave them out`,
      );
    }
    if (knownRows === 0)
      throw new SpineError(
        `none of the ${total} spine rows names an entity known at its timestamp: nothing to export`,
      );
    await warehouse.command(
      `INSERT INTO ${q(table)} SELECT line, entity_id, user_key, ts, known_from FROM (${known})`,
      { pack: options.pack },
    );
    return spineOf(warehouse, table, knownRows, unknown, false, sha256);
  } catch (error) {
    await warehouse.command(`DROP TABLE IF EXISTS ${q(table)}`);
    throw error;
  } finally {
    await warehouse.command(`DROP TABLE IF EXISTS ${q(staging)}`);
  }
}

/** A CSV spine's header line, as columns (CSV is read as text; the checks then parse it). */
async function csvHeader(warehouse: Warehouse, path: string): Promise<{ name: string; type: string }[]> {
  const [row] = await warehouse.query<{ line: string }>(
    `SELECT line FROM file(${quoteString(path)}, 'LineAsString', 'line String') LIMIT 1`,
  );
  if (!row) throw new SpineError(`the spine ${path} is empty`);
  return row.line.split(',').map((name) => ({ name: name.trim().replace(/^"|"$/g, ''), type: 'String' }));
}

async function checkRows(warehouse: Warehouse, staging: string, options: FileSpineOptions): Promise<void> {
  const table = q(staging);
  const [summary] = await warehouse.query<{
    rows: string;
    no_entity: string;
    bad_time: string;
    first_bad: string;
    early: string;
    late: string;
  }>(
    `SELECT count() AS rows, countIf(entity_id = '') AS no_entity, countIf(ts IS NULL) AS bad_time,
       minIf(line, ts IS NULL OR entity_id = '') AS first_bad,
       countIf(ts < {first:DateTime64(3, 'UTC')}) AS early, countIf(ts > {last:DateTime64(3, 'UTC')}) AS late
     FROM ${table}`,
    options.dataRange,
  );
  const rows = Number(summary?.rows ?? 0);
  if (rows === 0) throw new SpineError(`the spine ${options.path} has no rows`);
  if (Number(summary?.no_entity) > 0 || Number(summary?.bad_time) > 0)
    throw new SpineError(
      `${summary?.no_entity} spine rows have no entity_id and ${summary?.bad_time} a timestamp that is missing or not a timestamp (first at row ${summary?.first_bad})`,
    );
  const [duplicate] = await warehouse.query<{ entity_id: string; ts: string; n: string }>(
    `SELECT entity_id, toString(ts) AS ts, count() AS n FROM ${table} GROUP BY entity_id, ts HAVING n > 1 ORDER BY n DESC LIMIT 1`,
  );
  if (duplicate) {
    const duplicates = await count(
      warehouse,
      `SELECT sum(n - 1) AS n FROM (SELECT count() AS n FROM ${table} GROUP BY entity_id, ts HAVING n > 1)`,
    );
    throw new SpineError(
      `the spine repeats ${duplicates} (entity_id, timestamp) rows (e.g. "${duplicate.entity_id}" at ${duplicate.ts}, ${duplicate.n} times): each row must be unique, so remove the repeats`,
    );
  }
  if (Number(summary?.early) > 0 || Number(summary?.late) > 0)
    throw new SpineError(
      `${summary?.early} spine timestamps are before the data begins (${options.dataRange.first}) and ${summary?.late} after it ends (${options.dataRange.last}); features there are empty or not yet known, so keep timestamps within that range`,
    );
}
