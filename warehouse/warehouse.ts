// The Warehouse seam: everything above it talks to ClickHouse through this small interface, whether
// the engine is embedded (chDB, in this process) or a server reached over HTTP.
import { randomUUID } from 'node:crypto';
import { createWriteStream, rmSync, writeFileSync } from 'node:fs';
import { access, constants, mkdir, rm } from 'node:fs/promises';
import { finished, pipeline } from 'node:stream/promises';
import { join, resolve } from 'node:path';
import { createClient, type ClickHouseClient, type ClickHouseSettings } from '@clickhouse/client';
// Before chdb: its allocator reads the setting when the library loads.
import './engine-allocator.ts';
import { Session } from 'chdb';
import { createChdbConnection } from 'chdb/connection';
import { Readable } from 'node:stream';
import { WarehouseError, isRetriableWarehouseFailure } from './errors.ts';
import { ANALYTICS_DATABASE, LAYOUT_DATABASES } from './layout.ts';
import { quoteIdentifier, quoteString, quoteTable } from './sql.ts';

export type WarehouseTarget = { kind: 'chdb'; path: string } | { kind: 'http'; url: string };

export type { ClickHouseSettings };

export interface InsertOptions {
  /** Same token, same table ⇒ ClickHouse drops the repeat (see the dedup window in the DDL). */
  deduplicationToken?: string;
}

export type QueryParams = Record<string, unknown>;

/**
 * Row groups of every Parquet file Tributary has the engine write (feature exports, `tributary
 * query`, the SQL endpoint's sessions): the writer holds a whole row group before it encodes it,
 * and the engine's defaults (1M rows, 512 MB) made that the largest share of an export's memory.
 * 128k rows bound narrow rows (a 10M-row mart export: +326–354 MB of RSS, now +150–168, and less
 * CPU), 64 MiB wide ones (~120k rows of the learning pack's features). The files are larger (more
 * groups, each with its own dictionaries; 2.5× for that very repetitive mart) and read about as
 * fast (bench/README.md, `npm run bench:sql`).
 */
export const PARQUET_ROW_GROUPS = {
  output_format_parquet_row_group_size: String(128 * 1024),
  output_format_parquet_row_group_size_bytes: String(64 * 2 ** 20),
} as const satisfies ClickHouseSettings;

/** The writer settings a result in `format` is written with (PARQUET_ROW_GROUPS for Parquet). */
function writerSettings(format: string): ClickHouseSettings {
  return format === 'Parquet' ? PARQUET_ROW_GROUPS : {};
}

export interface SerializedRows {
  format: 'JSONEachRow' | 'JSONCompactEachRow';
  /** The insert's column list; required for JSONCompactEachRow, whose lines are value arrays. */
  columns?: readonly string[];
  lines: readonly string[];
}

/** Rows as RowBinary: each listed column's values as its own bytes, in the table's types. */
export interface RowBinaryRows {
  format: 'RowBinary';
  columns: readonly string[];
  payload: Buffer;
}

export interface Warehouse {
  readonly target: WarehouseTarget;
  /** insertLines takes RowBinary rows (the embedded warehouse does; a stand-in that reads lines need not). */
  readonly takesRowBinary?: boolean;
  /** DDL and other statements without a result. `{name:Type}` placeholders bind `params`. */
  command(sql: string, params?: QueryParams, settings?: ClickHouseSettings): Promise<void>;
  /** Runs a SELECT and returns its rows as plain objects; `settings` apply to this query. */
  query<Row = Record<string, unknown>>(
    sql: string,
    params?: QueryParams,
    settings?: ClickHouseSettings,
  ): Promise<Row[]>;
  /**
   * Runs a SELECT and yields its rows a block at a time as the engine hands them over, so a caller
   * can work on the first rows while the rest are computed and parsed; `settings` as for `query`.
   * Breaking out of the loop cancels the query. The warehouse's other methods stay usable meanwhile.
   */
  queryStream<Row = Record<string, unknown>>(
    sql: string,
    params?: QueryParams,
    settings?: ClickHouseSettings,
  ): AsyncIterable<Row[]>;
  /** Inserts rows; one call is one INSERT (one block, atomic for blocks below max_insert_block_size). */
  insert(table: string, rows: readonly object[], options?: InsertOptions): Promise<void>;
  /** The same, for rows already serialised (the hot path of capture): one per line, or RowBinary. */
  insertLines(table: string, batch: SerializedRows | RowBinaryRows, options?: InsertOptions): Promise<void>;
  /** Runs a query and returns the raw bytes of the chosen output format (Parquet, Arrow, CSV…). */
  queryBytes(sql: string, format: string, params?: QueryParams): Promise<Buffer>;
  /**
   * Writes a SELECT's result to a local file in `format` without holding it in this process: the
   * embedded engine writes the file itself, block by block; over HTTP the response is piped to it.
   */
  exportToFile(
    sql: string,
    format: string,
    path: string,
    params?: QueryParams,
    settings?: ClickHouseSettings,
  ): Promise<void>;
  close(): Promise<void>;
}

/** JSONCompactEachRowWithNames lines (the names first) as one object per row. */
function rowObjects<Row>(lines: unknown[][]): Row[] {
  const [names, ...rows] = lines;
  if (!names) return [];
  return objectsOf<Row>(names.map(String), rows);
}

/** Value arrays as objects keyed by `columns`. */
function objectsOf<Row>(columns: readonly string[], rows: readonly unknown[][]): Row[] {
  return rows.map((values) => {
    const row: Record<string, unknown> = {};
    for (let index = 0; index < columns.length; index++) row[columns[index] as string] = values[index];
    return row as Row;
  });
}

/** Parses `--warehouse DIR|http(s)://URL`. */
export function parseWarehouseTarget(value: string): WarehouseTarget {
  if (/^https?:\/\//i.test(value)) {
    try {
      return { kind: 'http', url: new URL(value).toString() };
    } catch {
      throw new WarehouseError(`--warehouse ${value} is not a valid URL`, { retriable: false });
    }
  }
  return { kind: 'chdb', path: resolve(value) };
}

type ClientConnection = NonNullable<Parameters<typeof createClient>[0]>['connection'];
/** An insert's format and columns: what the engine needs beside the payload. */
type PayloadShape = Pick<SerializedRows, 'format' | 'columns'> | Pick<RowBinaryRows, 'format' | 'columns'>;
type RawInsert = (
  table: string,
  shape: PayloadShape,
  payload: Buffer,
  settings: Record<string, string>,
) => Promise<void>;

export async function openWarehouse(target: WarehouseTarget): Promise<Warehouse> {
  let client: ClickHouseClient;
  let rawInsert: RawInsert | undefined;
  if (target.kind === 'chdb') {
    await ensureWritableDirectory(target.path);
    const connection = createChdbConnection({ path: target.path });
    // Payload files a process killed mid-insert left behind. Cleared only now that the engine holds
    // the path's lock (a second process on it fails above), so no running process loses its file.
    const payloadDirectory = join(target.path, PAYLOAD_DIRECTORY);
    await rm(payloadDirectory, { recursive: true, force: true });
    await mkdir(payloadDirectory);
    // chDB implements @clickhouse/client-common's Connection; @clickhouse/client declares the same
    // interface from its own bundled copy, so the types differ only by origin.
    client = createClient({ connection: connection as unknown as ClientConnection });
    // chDB's raw insert hands the payload to the engine's parser without building a SQL string.
    rawInsert = async (table, shape, payload, settings) => {
      if (shape.format === 'RowBinary') {
        await insertFromFile(connection.chdb, payloadDirectory, table, shape.columns, payload, settings);
        return;
      }
      await connection.chdb.rawInsert({
        table,
        columns: shape.columns,
        values: payload,
        format: shape.format,
        settings,
      });
    };
  } else {
    client = httpClient(target.url);
  }
  let warehouse = new ClickHouseWarehouse(target, client, rawInsert);
  try {
    await createLayoutDatabases(warehouse);
    if (target.kind === 'chdb') await warehouse.command(`USE ${ANALYTICS_DATABASE}`);
    else {
      await client.close();
      client = httpClient(target.url, ANALYTICS_DATABASE);
      warehouse = new ClickHouseWarehouse(target, client);
    }
    await warehouse.query('SELECT 1');
  } catch (error) {
    await client.close().catch(() => undefined);
    const where = target.kind === 'chdb' ? target.path : target.url;
    throw new WarehouseError(`cannot open the warehouse at ${where}: ${(error as Error).message}`, {
      retriable: isRetriableWarehouseFailure(error),
      cause: error,
    });
  }
  return warehouse;
}

/** Where the embedded warehouse writes the payload files of its RowBinary inserts, under its path. */
const PAYLOAD_DIRECTORY = 'insert-payloads';

/**
 * A RowBinary payload inserted by the embedded engine: chDB's raw insert ends its data at the first
 * empty line, and two 0x0A bytes are common in binary values, so the engine reads the payload from
 * a file of its own instead; the columns' types come from the table (one block, as a raw insert).
 * The file is written and removed synchronously (a page-cache copy, well under a millisecond per
 * MiB): as promises, each of those steps waited for the event loop, which a capture keeps busy
 * decoding, and the batch chain waited with them.
 */
async function insertFromFile(
  engine: { queryAsync(sql: string): Promise<unknown> },
  directory: string,
  table: string,
  columns: readonly string[],
  payload: Buffer,
  settings: Record<string, string>,
): Promise<void> {
  const path = join(directory, `${randomUUID()}.bin`);
  writeFileSync(path, payload, { flag: 'wx' });
  try {
    const assignments = Object.entries(settings).map(
      ([name, value]) => `${quoteIdentifier(name)} = ${quoteString(value)}`,
    );
    await engine.queryAsync(
      `INSERT INTO ${quoteTable(table)} (${columns.map(quoteIdentifier).join(', ')})` +
        `${assignments.length > 0 ? ` SETTINGS ${assignments.join(', ')}` : ''}` +
        ` SELECT * FROM file(${quoteString(path)}, 'RowBinary')`,
    );
  } finally {
    rmSync(path, { force: true });
  }
}

function httpClient(url: string, database?: string): ClickHouseClient {
  return createClient({
    url,
    ...(database === undefined ? {} : { database }),
    request_timeout: 300_000,
    clickhouse_settings: { wait_end_of_query: 1 },
  });
}

/**
 * The databases by purpose (layout.ts), made where missing. Looked at first: a read-only user of
 * a warehouse that has them may not run CREATE DATABASE at all.
 */
async function createLayoutDatabases(warehouse: Warehouse): Promise<void> {
  const present = await warehouse.query<{ name: string }>(
    'SELECT name FROM system.databases WHERE name IN {names:Array(String)}',
    { names: [...LAYOUT_DATABASES] },
  );
  for (const database of LAYOUT_DATABASES)
    if (!present.some((row) => row.name === database))
      await warehouse.command(`CREATE DATABASE IF NOT EXISTS ${database}`);
}

async function ensureWritableDirectory(path: string): Promise<void> {
  try {
    await mkdir(path, { recursive: true });
    await access(path, constants.W_OK);
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new WarehouseError(`the warehouse directory ${path} is not writable (${reason})`, {
      retriable: false,
      cause: error,
    });
  }
}

/** The row format of `query` and `queryStream`. */
const ROW_FORMAT = 'JSONCompactEachRowWithNames';

/** A row query's settings: decimals and 64-bit integers as strings, so they stay exact in JavaScript. */
function rowSettings(settings?: ClickHouseSettings): ClickHouseSettings {
  return { output_format_json_quote_decimals: 1, output_format_json_quote_64bit_integers: 1, ...settings };
}

function asWarehouseError(sql: string, error: unknown): Error {
  if (error instanceof WarehouseError) return error;
  return new WarehouseError(`warehouse statement failed: ${withServerCode(error)}`, {
    retriable: isRetriableWarehouseFailure(error),
    cause: error,
    context: { sql: sql.slice(0, 500) },
  });
}

class ClickHouseWarehouse implements Warehouse {
  /**
   * Embedded only: an HTTP warehouse may be Tributary's own SQL endpoint, which hands an INSERT's
   * data to its engine as text.
   */
  readonly takesRowBinary: boolean;

  /**
   * Embedded only: the session's own value of every setting a statement has overridden. chDB
   * applies a statement's settings to its one session, where they stayed for every later
   * statement (a write-back's join_use_nulls = 1 turned retention's missing corrections into NULL);
   * each statement now states these values unless it overrides them itself.
   */
  private readonly sessionDefaults = new Map<string, string>();

  constructor(
    readonly target: WarehouseTarget,
    private readonly client: ClickHouseClient,
    private readonly rawInsert?: RawInsert,
  ) {
    this.takesRowBinary = target.kind === 'chdb';
  }

  /** `settings` for one statement, with every other setting some statement changed put back. */
  private async scoped(settings: ClickHouseSettings = {}): Promise<ClickHouseSettings> {
    if (this.target.kind !== 'chdb') return settings;
    for (const name of Object.keys(settings)) {
      if (this.sessionDefaults.has(name)) continue;
      const result = await this.client.query({
        query: 'SELECT toString(getSetting({name:String})) AS value',
        query_params: { name },
        format: 'JSONEachRow',
        clickhouse_settings: Object.fromEntries(this.sessionDefaults) as ClickHouseSettings,
      });
      const [row] = await result.json<{ value: string }>();
      if (row) this.sessionDefaults.set(name, row.value);
    }
    return { ...(Object.fromEntries(this.sessionDefaults) as ClickHouseSettings), ...settings };
  }

  async command(sql: string, params?: QueryParams, settings?: ClickHouseSettings): Promise<void> {
    await this.run(sql, async () =>
      this.client.command({
        query: sql,
        query_params: params,
        clickhouse_settings: await this.scoped(settings),
      }),
    );
  }

  async query<Row>(sql: string, params?: QueryParams, settings?: ClickHouseSettings): Promise<Row[]> {
    return this.run(sql, async () => {
      const result = await this.client.query({
        query: sql,
        query_params: params,
        // Column names once, then value arrays: chDB hands over a result at about 10 MB/s, and
        // JSONEachRow's names on every row were more than half its bytes.
        format: ROW_FORMAT,
        clickhouse_settings: await this.scoped(rowSettings(settings)),
      });
      return rowObjects<Row>(await result.json<unknown[]>());
    });
  }

  async *queryStream<Row>(
    sql: string,
    params: QueryParams = {},
    settings?: ClickHouseSettings,
  ): AsyncIterable<Row[]> {
    try {
      if (this.target.kind === 'chdb') yield* this.engineStream<Row>(this.target.path, sql, params, settings);
      else {
        const result = await this.client.query({
          query: sql,
          query_params: params,
          format: ROW_FORMAT,
          clickhouse_settings: rowSettings(settings),
        });
        let columns: string[] | undefined;
        for await (const lines of result.stream<unknown[]>()) {
          const values = lines.map((line) => line.json<unknown[]>());
          columns ??= values.shift()?.map(String);
          if (columns && values.length > 0) yield objectsOf<Row>(columns, values);
        }
      }
    } catch (error) {
      throw asWarehouseError(sql, error);
    }
  }

  /**
   * The embedded engine's stream, on a session of its own: chDB runs one stream per session, and
   * this warehouse's session stays free for what the caller does between blocks (e.g. inserts).
   * Its settings are the session's, set first, so none outlives the stream.
   */
  private async *engineStream<Row>(
    path: string,
    sql: string,
    params: QueryParams,
    settings?: ClickHouseSettings,
  ): AsyncIterable<Row[]> {
    const session = new Session(path);
    try {
      await session.queryAsync(`USE ${ANALYTICS_DATABASE}`);
      const assignments = Object.entries(rowSettings(settings))
        .filter(([, value]) => value !== undefined)
        .map(
          ([name, value]) =>
            `${quoteIdentifier(name)} = ${typeof value === 'string' ? quoteString(value) : String(value)}`,
        );
      if (assignments.length > 0) await session.queryAsync(`SET ${assignments.join(', ')}`);
      const options = { format: ROW_FORMAT };
      const stream =
        Object.keys(params).length > 0
          ? session.queryStreamBind(sql, params, options)
          : session.queryStream(sql, options);
      // Each chunk is a block of its own, its names first.
      for await (const chunk of stream) {
        const lines: unknown[][] = [];
        for (const line of chunk.text().split('\n'))
          if (line !== '') lines.push(JSON.parse(line) as unknown[]);
        const rows = rowObjects<Row>(lines);
        if (rows.length > 0) yield rows;
      }
    } finally {
      session.close();
    }
  }

  async insert(table: string, rows: readonly object[], options: InsertOptions = {}): Promise<void> {
    await this.insertLines(
      table,
      { format: 'JSONEachRow', lines: rows.map((row) => JSON.stringify(row)) },
      options,
    );
  }

  insertLines(
    table: string,
    batch: SerializedRows | RowBinaryRows,
    options: InsertOptions = {},
  ): Promise<void> {
    if (batch.format === 'RowBinary')
      return batch.payload.length === 0
        ? Promise.resolve()
        : this.insertPayload(table, { format: batch.format, columns: batch.columns }, batch.payload, options);
    if (batch.lines.length === 0) return Promise.resolve();
    // Not an async function: nothing holds the lines while the engine inserts their payload. A
    // capture decodes ahead meanwhile, and lines kept alive through its young-generation
    // collections would be copied and promoted for nothing.
    return this.insertPayload(
      table,
      { format: batch.format, columns: batch.columns },
      Buffer.from(batch.lines.join('\n')),
      options,
    );
  }

  private async insertPayload(
    table: string,
    shape: PayloadShape,
    payload: Buffer,
    options: InsertOptions,
  ): Promise<void> {
    // Int64 and Decimal values arrive as JSON strings so they stay exact; ClickHouse parses them.
    // Replacing-merge within the inserted block is left to merges and FINAL: it only costs here.
    const settings: Record<string, string> = { optimize_on_insert: '0' };
    if (options.deduplicationToken) settings.insert_deduplication_token = options.deduplicationToken;
    const rawInsert = this.rawInsert;
    await this.run(`INSERT INTO ${table}`, async () => {
      if (rawInsert) {
        await rawInsert(table, shape, payload, settings);
        return;
      }
      const columns = shape.columns ? ` (${shape.columns.map(quoteIdentifier).join(', ')})` : '';
      const result = await this.client.exec({
        query: `INSERT INTO ${quoteTable(table)}${columns} FORMAT ${shape.format}`,
        values: Readable.from([payload]),
        clickhouse_settings: settings as ClickHouseSettings,
      });
      // Read the (empty) response to its end: destroying it closed the keep-alive socket, so every
      // insert cost a new connection and the server saw the client leave mid-response.
      result.stream.resume();
      await finished(result.stream);
    });
  }

  async queryBytes(sql: string, format: string, params?: QueryParams): Promise<Buffer> {
    return this.run(sql, async () => {
      const result = await this.client.exec({
        query: `${sql} FORMAT ${format}`,
        query_params: params,
        clickhouse_settings: await this.scoped(writerSettings(format)),
      });
      const chunks: Buffer[] = [];
      for await (const chunk of result.stream) chunks.push(Buffer.from(chunk as Buffer));
      return Buffer.concat(chunks);
    });
  }

  async exportToFile(
    sql: string,
    format: string,
    path: string,
    params?: QueryParams,
    settings?: ClickHouseSettings,
  ): Promise<void> {
    if (this.target.kind === 'chdb') {
      await this.command(
        `INSERT INTO FUNCTION file(${quoteString(path)}, ${quoteString(format)}) ${sql}`,
        params,
        { ...writerSettings(format), ...settings, engine_file_truncate_on_insert: 1 },
      );
      return;
    }
    await this.run(sql, async () => {
      const result = await this.client.exec({
        query: `${sql} FORMAT ${format}`,
        query_params: params,
        clickhouse_settings: { ...writerSettings(format), ...settings },
      });
      await pipeline(result.stream, createWriteStream(path));
    });
  }

  async close(): Promise<void> {
    await this.client.close();
  }

  private async run<T>(sql: string, action: () => Promise<T>): Promise<T> {
    try {
      return await action();
    } catch (error) {
      throw asWarehouseError(sql, error);
    }
  }
}

/**
 * The error's text with ClickHouse's code in front: over HTTP the client parses `Code: N.` out of
 * the message into `code`, and callers (refused-data detection) read it from the text.
 */
function withServerCode(error: unknown): string {
  const message = (error as Error).message;
  const code = (error as { code?: unknown }).code;
  const type = (error as { type?: unknown }).type;
  if (typeof code !== 'string' || !/^\d+$/.test(code) || /\bCode: \d+\./.test(message)) return message;
  return `Code: ${code}. DB::Exception: ${message}${typeof type === 'string' ? ` (${type})` : ''}`;
}
