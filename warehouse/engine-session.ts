// A session of its own on the embedded engine's data directory, for serving SQL to other processes:
// chDB lets several connections share one directory inside a process, each with its own settings
// (so a read-only session's `readonly` cannot leak into the pipeline's) and its own streaming query.
// Before chdb: its allocator reads the setting when the library loads.
import './engine-allocator.ts';
import { Session } from 'chdb';
import { WarehouseError } from './errors.ts';
import { ANALYTICS_DATABASE, LAYOUT_DATABASES } from './layout.ts';
import { PARQUET_ROW_GROUPS, type Warehouse, type WarehouseTarget } from './warehouse.ts';

/** A failure the engine reported, with ClickHouse's numeric code and its own text. */
export class EngineQueryError extends WarehouseError {
  /** The engine's code (e.g. 62 SYNTAX_ERROR), or 1000 (POCO_EXCEPTION) when it gave none. */
  readonly code: number;
  constructor(message: string, cause?: unknown) {
    super(message, { retriable: false, cause });
    this.code = this.clickhouseCode ?? 1000;
  }
}

export interface EngineResult {
  bytes: Buffer;
  rowsRead: number;
  bytesRead: number;
  elapsedSeconds: number;
}

/** One chunk of a streamed result: bytes in the chosen format and how many rows they hold. */
export interface EngineChunk {
  bytes: Uint8Array;
  rows: number;
}

export interface EngineSession {
  /**
   * Streams a query's output chunk by chunk (SELECT-like statements only); the abort signal
   * stops fetching between chunks. One stream at a time per session.
   */
  stream(
    sql: string,
    params: Record<string, unknown>,
    format: string,
    signal?: AbortSignal,
  ): AsyncIterable<EngineChunk>;
  /** Runs any statement and returns its whole output (DDL, INSERT with data, SHOW…). */
  run(sql: string, params: Record<string, unknown>, format: string): Promise<EngineResult>;
  close(): void;
}

/** The data directory of an embedded warehouse, or why there is none (a server speaks HTTP itself). */
export function embeddedDirectory(source: Warehouse | WarehouseTarget): string {
  const target = 'kind' in source ? source : source.target;
  if (target.kind !== 'chdb')
    throw new WarehouseError(
      `${target.url} is a ClickHouse server: point clients at it directly, it already speaks HTTP`,
      { retriable: false },
    );
  return target.path;
}

/**
 * Every session's settings, in one statement. Tables are read in blocks of up to 4 MiB instead of
 * the engine's 1 MB: a streamed result comes a block per fetch, each a hop through the thread pool,
 * and the SQL endpoint pays per fetch as well (a 147 MB Native export: 92 fetches instead of 272, a
 * quarter less of the serving process's CPU; bench/README.md). A Parquet result (the endpoint's,
 * written to a temporary file) is written in bounded row groups, as every Parquet file Tributary has
 * the engine write.
 */
const SESSION_SETTINGS = `SET ${Object.entries({
  preferred_block_size_bytes: String(4 * 1024 * 1024),
  ...PARQUET_ROW_GROUPS,
})
  .map(([name, value]) => `${name} = ${value}`)
  .join(', ')}`;

/**
 * Opens a session on the directory, in `analytics` as every connection is (layout.ts). `setup`
 * statements run once (settings such as `readonly` or limits, which then hold for every query of
 * the session: the engine refuses to lower `readonly`), after the databases are made where missing.
 */
export async function openEngineSession(path: string, setup: readonly string[] = []): Promise<EngineSession> {
  let session: Session;
  try {
    session = new Session(path);
  } catch (error) {
    throw new WarehouseError(`cannot open the warehouse at ${path}: ${(error as Error).message}`, {
      retriable: false,
      cause: error,
    });
  }
  const engine = new ChdbEngineSession(session);
  try {
    // All three made here: a read-only client of a new directory's endpoint cannot make them.
    const defaults = [
      ...LAYOUT_DATABASES.map((database) => `CREATE DATABASE IF NOT EXISTS ${database}`),
      `USE ${ANALYTICS_DATABASE}`,
      SESSION_SETTINGS,
    ];
    for (const statement of [...defaults, ...setup]) await engine.run(statement, {}, 'TSV');
  } catch (error) {
    engine.close();
    throw error;
  }
  return engine;
}

class ChdbEngineSession implements EngineSession {
  constructor(private readonly session: Session) {}

  async *stream(
    sql: string,
    params: Record<string, unknown>,
    format: string,
    signal?: AbortSignal,
  ): AsyncIterable<EngineChunk> {
    const options = signal ? { format, signal } : { format };
    try {
      const stream =
        Object.keys(params).length > 0
          ? this.session.queryStreamBind(sql, params, options)
          : this.session.queryStream(sql, options);
      for await (const chunk of stream) yield { bytes: chunk.raw(), rows: chunk.numRows };
    } catch (error) {
      throw asEngineError(error);
    }
  }

  async run(sql: string, params: Record<string, unknown>, format: string): Promise<EngineResult> {
    try {
      const result =
        Object.keys(params).length > 0
          ? await this.session.queryBindAsync(sql, params, { format })
          : await this.session.queryAsync(sql, { format });
      const bytes = result.bytes();
      return {
        bytes: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength),
        rowsRead: result.rowsRead,
        bytesRead: result.bytesRead,
        elapsedSeconds: result.elapsed,
      };
    } catch (error) {
      throw asEngineError(error);
    }
  }

  close(): void {
    this.session.close();
  }
}

function asEngineError(error: unknown): Error {
  if (error instanceof EngineQueryError) return error;
  if (error instanceof Error && error.name === 'AbortError') return error;
  const message = error instanceof Error ? error.message : String(error);
  return new EngineQueryError(message, error);
}
