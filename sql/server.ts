// The SQL endpoint: the part of ClickHouse's HTTP interface that clients use (query in the URL or
// the body, FORMAT/default_format, param_<name>, database, query_id, settings, gzip, /ping), served
// from the embedded engine by the process that holds its directory. Results stream chunk by chunk
// from the engine to the socket, with the socket's backpressure; a client that leaves cancels its
// query. A convenience of the embedded mode, not a database server.
import { randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { createGzip, gunzipSync } from 'node:zlib';
import {
  ANALYTICS_DATABASE,
  embeddedDirectory,
  EngineQueryError,
  openEngineSession,
  quoteIdentifier,
  quoteString,
  type EngineChunk,
  type EngineSession,
  type Warehouse,
  type WarehouseTarget,
} from '../warehouse/index.ts';
import {
  bindParameters,
  checkDatabase,
  checkReadOnlyAst,
  checkReadOnlyKind,
  checkSettings,
  HTTP_PARAMETERS,
  parseSetStatement,
  type SettingChanges,
} from './access.ts';
import { AstCache } from './ast-cache.ts';
import { countRows } from './count-rows.ts';
import { ClickHouseException, codeOf, httpStatusFor, SqlEndpointError } from './errors.ts';
import { SessionPool, type Lease } from './session-pool.ts';
import { describeStatement, StatementSyntaxError, type StatementShape } from './statement.ts';
import {
  authenticate,
  DEFAULT_USERS,
  everyUserHasPassword,
  loadUsersFile,
  parseUsers,
  type SqlUser,
  type SqlUserInput,
} from './users.ts';

export interface SqlEndpointOptions {
  /** The warehouse to serve: the running service's own, its target, or a directory. */
  warehouse: Warehouse | WarehouseTarget | string;
  /** Default 127.0.0.1; anything else needs every user to have a password. */
  host?: string;
  /** Default 8123 (ClickHouse's HTTP port); 0 picks a free one. */
  port?: number;
  /** A users file (JSON) or the users themselves; default: `default`, read-only, no password. */
  users?: string | readonly SqlUserInput[];
  /** Engine sessions per user, i.e. how many of a user's queries run at once (default 2). */
  sessionsPerUser?: number;
  /** Largest request body accepted (an INSERT's data), default 256 MiB. */
  maxRequestBytes?: number;
  /** With `wait_end_of_query=1` a result is held back up to this size to report errors by status (default 16 MiB). */
  maxBufferedResultBytes?: number;
}

export interface SqlEndpoint {
  readonly url: string;
  readonly host: string;
  readonly port: number;
  close(): Promise<void>;
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);
const STREAMED_KINDS = new Set(['SELECT', 'WITH']);
/**
 * Formats whose chunks concatenate (chDB's stream formats each chunk on its own): row formats,
 * Native, and the `WithNames` variants once the repeated header is cut from later chunks. The
 * rest (JSON, Parquet, Arrow… with a prefix or footer) are written by the engine to a temporary
 * file and sent from there, so memory stays bounded for them too.
 */
const STREAMABLE_FORMAT =
  /^(Native|RowBinary(WithNames(AndTypes)?)?|(TabSeparated|TSV)(Raw)?(WithNames(AndTypes)?)?|CSV(WithNames(AndTypes)?)?|JSON(Compact)?(Strings)?EachRow|JSONCompact(Strings)?EachRowWithNames(AndTypes)?|JSONLines|NDJSON|RawBLOB|LineAsString|BSONEachRow|MsgPack)$/;

/** Starts the endpoint in this process; `close()` stops listening and closes its sessions. */
export async function startSqlEndpoint(options: SqlEndpointOptions): Promise<SqlEndpoint> {
  const path =
    typeof options.warehouse === 'string' ? options.warehouse : embeddedDirectory(options.warehouse);
  const users =
    options.users === undefined
      ? DEFAULT_USERS
      : typeof options.users === 'string'
        ? loadUsersFile(options.users)
        : parseUsers({ users: options.users });
  const host = options.host ?? '127.0.0.1';
  if (!LOOPBACK.has(host) && (options.users === undefined || !everyUserHasPassword(users)))
    throw new SqlEndpointError(
      `refusing to listen on ${host}: beyond 127.0.0.1 every user needs a password (--users FILE with password_sha256_hex)`,
    );

  const control = await openEngineSession(path);
  const timezone = (await control.run('SELECT timezone()', {}, 'TSVRaw')).bytes.toString().trim();
  const pools = new Map<string, SessionPool>();
  for (const user of users)
    pools.set(user.name, new SessionPool(path, sessionSetup(user), options.sessionsPerUser ?? 2));
  let controlTail: Promise<unknown> = Promise.resolve();
  const controlled = <T>(action: () => Promise<T>): Promise<T> => {
    const result = controlTail.then(action);
    controlTail = result.catch(() => undefined);
    return result;
  };
  const context: Context = {
    users,
    spool: await mkdtemp(join(tmpdir(), 'tributary-sql-')),
    controlled,
    // Parsed on the control session: no limits there to cut the tree short.
    trees: new AstCache(async (text) =>
      (await controlled(() => control.run(`EXPLAIN AST ${text}`, {}, 'TSVRaw'))).bytes.toString('utf8'),
    ),
    streamed: new Set(),
    pools,
    control,
    timezone,
    maxRequestBytes: options.maxRequestBytes ?? 256 * 1024 * 1024,
    maxBufferedResultBytes: options.maxBufferedResultBytes ?? 16 * 1024 * 1024,
  };

  const server = createServer((request, response) => {
    handle(context, request, response).catch((error: unknown) => {
      // Only reached when writing the error itself failed (the socket is gone).
      response.destroy(error as Error);
    });
  });
  server.keepAliveTimeout = 10_000;
  server.listen(options.port ?? 8123, host);
  try {
    await once(server, 'listening');
  } catch (error) {
    for (const pool of pools.values()) pool.close();
    control.close();
    await rm(context.spool, { recursive: true, force: true });
    throw new SqlEndpointError(
      `cannot listen on ${host}:${options.port ?? 8123}: ${(error as Error).message}`,
      {
        cause: error,
      },
    );
  }
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    host,
    port,
    close: () => closeServer(server, context),
  };
}

/** A user's session settings: limits, and read-only users get `readonly=2` (no writes, settings checked here). */
function sessionSetup(user: SqlUser): string[] {
  const setup: string[] = [];
  const { max_result_rows, max_memory_usage, max_execution_time } = user.limits;
  if (max_result_rows !== undefined)
    setup.push(`SET max_result_rows = ${max_result_rows}, result_overflow_mode = 'throw'`);
  if (max_memory_usage !== undefined) setup.push(`SET max_memory_usage = ${max_memory_usage}`);
  if (max_execution_time !== undefined) setup.push(`SET max_execution_time = ${max_execution_time}`);
  if (user.readonly) setup.push('SET readonly = 2');
  return setup;
}

async function closeServer(server: Server, context: Context): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeAllConnections();
  await closed;
  for (const pool of context.pools.values()) pool.close();
  context.control.close();
  await rm(context.spool, { recursive: true, force: true });
}

interface Context {
  users: readonly SqlUser[];
  /** Temporary files of results in formats that cannot be streamed chunk by chunk. */
  spool: string;
  /** Runs on the control session one statement at a time. */
  controlled<T>(action: () => Promise<T>): Promise<T>;
  /** Syntax trees for read-only users' statements. */
  trees: AstCache;
  /** Statements whose results were too large or slow to answer in one call (see quickResult). */
  streamed: Set<string>;
  pools: Map<string, SessionPool>;
  control: EngineSession;
  timezone: string;
  maxRequestBytes: number;
  maxBufferedResultBytes: number;
}

async function handle(context: Context, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const url = new URL(request.url ?? '/', 'http://endpoint');
  const queryId = url.searchParams.get('query_id') || randomUUID();
  const common = {
    'X-ClickHouse-Server-Display-Name': 'tributary',
    'X-ClickHouse-Query-Id': queryId,
    'X-ClickHouse-Timezone': context.timezone,
  };
  if (url.pathname === '/ping' || url.pathname === '/replicas_status') {
    response.writeHead(200, { 'Content-Type': 'text/plain; charset=UTF-8' }).end('Ok.\n');
    return;
  }
  try {
    if (url.pathname !== '/' && url.pathname !== '/query')
      throw Object.assign(new ClickHouseException(36, `There is no handle ${url.pathname}. Use / or /ping`), {
        status: 404,
      });
    const user = authenticateRequest(context, request, url);
    const body = await readBody(request, context.maxRequestBytes);
    const urlQuery = url.searchParams.get('query') ?? '';
    if (urlQuery === '' && body.length === 0) {
      response.writeHead(200, { 'Content-Type': 'text/plain; charset=UTF-8' }).end('Ok.\n');
      return;
    }
    await runRequest(context, { request, response, url, user, body, urlQuery, queryId, common });
  } catch (error) {
    sendError(response, error, common);
  }
}

interface RequestState {
  request: IncomingMessage;
  response: ServerResponse;
  url: URL;
  user: SqlUser;
  body: Buffer;
  urlQuery: string;
  queryId: string;
  common: Record<string, string>;
}

async function runRequest(context: Context, state: RequestState): Promise<void> {
  const { url, user, body, urlQuery, response, request } = state;
  // A query in the URL takes the body as its INSERT data, or as the rest of the query.
  let sql = urlQuery;
  let data: Buffer | undefined;
  if (urlQuery !== '' && body.length > 0) {
    if (describe(urlQuery).kind === 'INSERT') data = body;
    else sql = `${urlQuery}\n${body.toString('utf8')}`;
  } else if (urlQuery === '') sql = body.toString('utf8');
  const shape = describe(sql);
  if (shape.multiStatement)
    throw new ClickHouseException(62, 'Syntax error (Multi-statements are not allowed)');
  if (shape.kind === '') throw new ClickHouseException(62, 'Empty query');
  // Read-only users' statements are parsed by the engine first, so a typo is a syntax error.
  if (!user.readonly) checkReadOnlyKind(user, shape.kind, request.method === 'GET');

  const rawSettings: Array<[string, string]> = [];
  const rawParams = new Map<string, string>();
  for (const [name, value] of url.searchParams) {
    if (name.startsWith('param_')) rawParams.set(name.slice('param_'.length), value);
    else if (!HTTP_PARAMETERS.has(name)) rawSettings.push([name, value]);
  }
  const settings = checkSettings(user, rawSettings);
  if (shape.kind === 'SET') {
    // Outside a session SET changes nothing (as on a ClickHouse server); it is still checked.
    checkSettings(user, parseSetStatement(shape.text));
    response.writeHead(200, { ...state.common, 'X-ClickHouse-Summary': summary({}) }).end();
    return;
  }
  const params = bindParameters(shape.text, rawParams);
  // Clients may name the database and the default format in headers instead (client-v2 does).
  const database =
    url.searchParams.get('database') || header(request, 'x-clickhouse-database') || ANALYTICS_DATABASE;
  const format =
    shape.format ??
    (url.searchParams.get('default_format') || header(request, 'x-clickhouse-format') || 'TabSeparated');
  checkDatabase(user, database);
  if (!/^[A-Za-z][A-Za-z0-9_]*$/.test(format))
    throw new ClickHouseException(73, `Unknown format ${format.slice(0, 100)}`);
  const gzip =
    url.searchParams.get('enable_http_compression') === '1' &&
    /\bgzip\b/.test(request.headers['accept-encoding'] ?? '');

  const pool = context.pools.get(user.name)!;
  const gone = new AbortController();
  const onClose = () => {
    if (!response.writableFinished) gone.abort(new ClickHouseException(394, 'Query was cancelled'));
  };
  response.on('close', onClose);
  let lease = await leaseIn(pool, database, gone.signal);
  let broken = false;
  try {
    if (user.readonly) {
      // No values bound (placeholders become NULL, identifiers their quoted name), so nothing runs.
      const ast = await context.trees.treeOf(placeholdersForParsing(shape.text, params));
      checkReadOnlyKind(user, shape.kind, request.method === 'GET');
      checkReadOnlyAst(user, ast, shape.text);
    }
    const statement = shape.withSettings(settings);
    const headers = { ...state.common, 'X-ClickHouse-Format': format, 'Content-Type': contentType(format) };
    if (STREAMED_KINDS.has(shape.kind)) {
      const job = {
        statement,
        shape: describe(statement),
        params,
        format,
        headers,
        gzip,
        signal: gone.signal,
      };
      const quick = mayBeQuick(context, shape.text, settings)
        ? await quickResult(context, lease, job)
        : undefined;
      if (quick === 'large') {
        // The engine may keep part of a failed result for the session's next query: start afresh.
        lease.release(true);
        lease = await leaseIn(pool, database, gone.signal);
      } else if (quick) {
        await send(
          response,
          { ...headers, 'X-ClickHouse-Summary': summary(quick.stats) },
          [quick.bytes],
          gzip,
        );
        return;
      }
      broken = await streamResult(context, state, lease, job);
      return;
    }
    const inline = data ?? (shape.inlineData === undefined ? undefined : Buffer.from(shape.inlineData));
    const started = process.hrtime.bigint();
    const result = await lease.session.run(
      inline === undefined ? statement : `${statement}\n${inline.toString('utf8')}`,
      params,
      format,
    );
    const written = shape.kind === 'INSERT';
    const stats = {
      read_rows: result.rowsRead,
      read_bytes: result.bytesRead,
      written_rows: written ? result.rowsRead : 0,
      written_bytes: written ? (inline?.length ?? result.bytesRead) : 0,
      result_bytes: result.bytes.length,
      elapsed_ns: Number(process.hrtime.bigint() - started),
    };
    await send(response, { ...headers, 'X-ClickHouse-Summary': summary(stats) }, [result.bytes], gzip);
  } finally {
    response.off('close', onClose);
    lease.release(broken || gone.signal.aborted);
  }
}

/** A session of the user's pool, in `database` (`USE` persists in a session). */
async function leaseIn(pool: SessionPool, database: string, signal: AbortSignal): Promise<Lease> {
  const lease = await pool.acquire(signal);
  try {
    if (lease.database !== database) {
      await lease.session.run(`USE ${quoteIdentifier(database)}`, {}, 'TSV');
      lease.database = database;
    }
  } catch (error) {
    lease.release();
    throw error;
  }
  return lease;
}

/** A result answered in one engine call stays below this; larger ones are streamed. */
const QUICK_LIMITS: SettingChanges = [
  ['max_result_bytes', String(256 * 1024)],
  ['result_overflow_mode', "'throw'"],
];
/** The quick attempt's own limit: TOO_MANY_ROWS_OR_BYTES. */
const QUICK_OVERFLOW = 396;
const QUICK_SETTINGS = new RegExp(`\\b(${QUICK_LIMITS.map(([name]) => name).join('|')})\\b`, 'i');

/** Whether to try a statement in one call: not known to be large, and setting none of the limits the attempt sets. */
function mayBeQuick(context: Context, text: string, settings: SettingChanges): boolean {
  return (
    !context.streamed.has(text) &&
    !QUICK_SETTINGS.test(text) &&
    !settings.some(([name]) => QUICK_LIMITS.some(([limit]) => limit === name))
  );
}

/**
 * Answers a SELECT with a small result in one engine call. A chDB stream costs a start, then a
 * fetch per chunk and one more to learn it ended, each a hop through the thread pool: several
 * milliseconds a query on a busy machine. The engine stops the attempt at 256 KiB of result, and
 * the statement is then streamed ('large'): the work up to that point is done twice (all of it for
 * an aggregate whose result is large), once per text, which is remembered.
 */
async function quickResult(
  context: Context,
  lease: Lease,
  job: StreamRequest,
): Promise<{ bytes: Buffer; stats: Record<string, number> } | 'large'> {
  const marker = `/* tributary-sql ${randomUUID()} */`;
  const killOnAbort = killer(context, marker);
  job.signal.addEventListener('abort', killOnAbort, { once: true });
  const started = process.hrtime.bigint();
  try {
    const result = await lease.session.run(
      `${job.shape.withSettings(QUICK_LIMITS)}\n${marker}`,
      job.params,
      job.format,
    );
    const rows = countRows(job.format, result.bytes);
    return {
      bytes: result.bytes,
      stats: {
        read_rows: result.rowsRead,
        read_bytes: result.bytesRead,
        ...(rows !== undefined && { result_rows: rows }),
        result_bytes: result.bytes.length,
        elapsed_ns: Number(process.hrtime.bigint() - started),
      },
    };
  } catch (error) {
    if (!(error instanceof EngineQueryError && error.code === QUICK_OVERFLOW) || job.signal.aborted)
      throw error;
    remember(context.streamed, job.statement.length <= 16 * 1024 ? job.shape.text : undefined);
    return 'large';
  } finally {
    job.signal.removeEventListener('abort', killOnAbort);
  }
}

/** Kills the query whose text ends with `marker` (found in system.processes by the control session). */
function killer(context: Context, marker: string): () => void {
  return () => {
    void context
      .controlled(() => context.control.run(`KILL QUERY WHERE endsWith(query, '${marker}') ASYNC`, {}, 'TSV'))
      .catch(() => undefined);
  };
}

/** Keeps `text` among the last 1000 statements found too large to answer in one call. */
function remember(streamed: Set<string>, text: string | undefined): void {
  if (text === undefined) return;
  streamed.add(text);
  if (streamed.size > 1000) streamed.delete(streamed.values().next().value!);
}

interface StreamRequest {
  statement: string;
  shape: StatementShape;
  params: Record<string, string | null>;
  format: string;
  headers: Record<string, string>;
  gzip: boolean;
  signal: AbortSignal;
}

/**
 * Sends a result as it comes. Headers go out with the first chunk (with `wait_end_of_query=1`,
 * once the result ends or passes the buffer size), so an error before it gets its HTTP status; an
 * error after it is appended to the body, as ClickHouse does. Returns true if the session must go.
 */
async function streamResult(
  context: Context,
  state: RequestState,
  lease: Lease,
  job: StreamRequest,
): Promise<boolean> {
  const { response } = state;
  // The marker lets the control session find this query in system.processes and kill it.
  const marker = `/* tributary-sql ${randomUUID()} */`;
  const killOnAbort = killer(context, marker);
  job.signal.addEventListener('abort', killOnAbort, { once: true });
  const started = process.hrtime.bigint();
  const holdBack = state.url.searchParams.get('wait_end_of_query') === '1';
  const held: Uint8Array[] = [];
  let heldBytes = 0;
  let rows = 0;
  let bytes = 0;
  let out: Writable | undefined;
  const stats = () => ({
    result_rows: rows,
    result_bytes: bytes,
    elapsed_ns: Number(process.hrtime.bigint() - started),
  });
  const begin = (): Writable => {
    response.writeHead(200, {
      ...job.headers,
      'X-ClickHouse-Summary': summary(stats()),
      ...(job.gzip ? { 'Content-Encoding': 'gzip' } : {}),
    });
    if (!job.gzip) return response;
    const gzip = createGzip();
    gzip.pipe(response);
    return gzip;
  };
  const source = STREAMABLE_FORMAT.test(job.format)
    ? engineChunks(lease, job, marker)
    : fileChunks(context, lease, job, marker);
  // The next chunk is fetched while the current one is written: the engine and the socket overlap.
  const iterator = source[Symbol.asyncIterator]();
  try {
    let pending = iterator.next();
    for (;;) {
      const next = await pending;
      if (next.done) break;
      pending = iterator.next();
      // A failure of the prefetch surfaces at its await; until then it must not go unhandled.
      pending.catch(() => undefined);
      const chunk = next.value;
      rows += chunk.rows;
      bytes += chunk.bytes.length;
      if (out === undefined && holdBack && heldBytes + chunk.bytes.length <= context.maxBufferedResultBytes) {
        held.push(chunk.bytes);
        heldBytes += chunk.bytes.length;
        continue;
      }
      out ??= begin();
      for (const early of held.splice(0)) await write(out, early, job.signal);
      await write(out, chunk.bytes, job.signal);
    }
    out ??= begin();
    for (const early of held.splice(0)) await write(out, early, job.signal);
    out.end();
    return false;
  } catch (error) {
    if (job.signal.aborted) {
      response.destroy();
      return true;
    }
    if (out === undefined) throw error;
    // Mid-stream: the status is gone already; ClickHouse appends the exception to the body.
    out.end(`\n${messageOf(error)}\n`);
    return true;
  } finally {
    job.signal.removeEventListener('abort', killOnAbort);
  }
}

/** The engine's chunks; a `WithNames` format's header, repeated by chDB in every chunk, is sent once. */
async function* engineChunks(lease: Lease, job: StreamRequest, marker: string): AsyncIterable<EngineChunk> {
  let header: Buffer | undefined;
  for await (const chunk of lease.session.stream(
    `${job.statement}\n${marker}`,
    job.params,
    job.format,
    job.signal,
  )) {
    const bytes = Buffer.from(chunk.bytes.buffer, chunk.bytes.byteOffset, chunk.bytes.byteLength);
    if (!/WithNames/.test(job.format)) {
      yield chunk;
    } else if (header === undefined) {
      header = Buffer.from(bytes.subarray(0, headerLength(job.format, bytes)));
      yield chunk;
    } else {
      if (!bytes.subarray(0, header.length).equals(header))
        throw new ClickHouseException(1000, `the engine sent a ${job.format} chunk without its header`);
      yield { bytes: bytes.subarray(header.length), rows: chunk.rows };
    }
  }
}

/**
 * For formats with a prefix or footer (JSON, Parquet, Arrow…): the engine writes the result to a
 * temporary file (bounded memory), which is then sent and removed.
 */
async function* fileChunks(
  context: Context,
  lease: Lease,
  job: StreamRequest,
  marker: string,
): AsyncIterable<EngineChunk> {
  const file = join(context.spool, `${randomUUID()}.out`);
  const at = job.shape.formatAt ?? job.statement.length;
  const outfile = ` INTO OUTFILE ${quoteString(file)} FORMAT ${job.format}`;
  const rest = job.shape.formatAt === undefined ? '' : job.statement.slice(at).replace(/^FORMAT\s+\S+/i, '');
  try {
    const result = await lease.session.run(
      `${job.statement.slice(0, at)}${outfile}${rest}\n${marker}`,
      job.params,
      'TSV',
    );
    let first = true;
    for await (const chunk of createReadStream(file, { highWaterMark: 1024 * 1024, signal: job.signal })) {
      yield { bytes: chunk as Buffer, rows: first ? result.rowsRead : 0 };
      first = false;
    }
  } finally {
    await rm(file, { force: true });
  }
}

/** Bytes of the names (and types) header a `WithNames` format starts with. */
export function headerLength(format: string, bytes: Buffer): number {
  const lines = /AndTypes$/.test(format) ? 2 : 1;
  if (format.startsWith('RowBinary')) {
    let at = 0;
    const varint = () => {
      let value = 0;
      for (let shift = 0; ; shift += 7) {
        const byte = bytes[at++]!;
        value += (byte & 0x7f) * 2 ** shift;
        if (byte < 0x80) return value;
      }
    };
    const columns = varint();
    for (let i = 0; i < columns * lines; i++) {
      // Not `at += varint()`: that reads `at` before varint() moves it past the length.
      const length = varint();
      at += length;
    }
    return at;
  }
  // Text formats: one line per header row (TSV escapes newlines; CSV and JSON quote them).
  let at = 0;
  let quoted = false;
  for (let seen = 0; at < bytes.length && seen < lines; at++) {
    const byte = bytes[at]!;
    if (byte === 0x22 && !format.startsWith('T')) quoted = !quoted;
    else if (byte === 0x5c && format.startsWith('JSON')) at++;
    else if (byte === 0x0a && !quoted) seen++;
  }
  return at;
}

async function write(out: Writable, bytes: Uint8Array, signal: AbortSignal): Promise<void> {
  if (out.write(bytes)) return;
  await once(out, 'drain', { signal });
}

async function send(
  response: ServerResponse,
  headers: Record<string, string>,
  chunks: Buffer[],
  gzip: boolean,
) {
  if (!gzip) {
    response.writeHead(200, headers);
    response.end(Buffer.concat(chunks));
    return;
  }
  response.writeHead(200, { ...headers, 'Content-Encoding': 'gzip' });
  const stream = createGzip();
  stream.pipe(response);
  stream.end(Buffer.concat(chunks));
  // Settled by the client leaving too ('finish' alone never came then, and the session stayed
  // leased); the request's close handler has marked that session broken already.
  await finished(response).catch(() => undefined);
}

/** The statement with its placeholders replaced, for the parser only: `{t:Identifier}` by the name. */
function placeholdersForParsing(sql: string, params: Record<string, string | null>): string {
  return sql.replace(/\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*:\s*([^}]+?)\s*\}/g, (_, name: string, type: string) =>
    type === 'Identifier' ? quoteIdentifier(params[name] ?? '') : 'NULL',
  );
}

function describe(sql: string) {
  try {
    return describeStatement(sql);
  } catch (error) {
    if (error instanceof StatementSyntaxError)
      throw new ClickHouseException(62, `Syntax error: ${error.message}`);
    throw error;
  }
}

function authenticateRequest(context: Context, request: IncomingMessage, url: URL): SqlUser {
  let name = 'default';
  let password = '';
  const basic = /^Basic\s+(\S+)$/i.exec(request.headers.authorization ?? '');
  const headerUser = request.headers['x-clickhouse-user'];
  if (basic) {
    const decoded = Buffer.from(basic[1]!, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    name = colon < 0 ? decoded : decoded.slice(0, colon);
    password = colon < 0 ? '' : decoded.slice(colon + 1);
  } else if (typeof headerUser === 'string') {
    name = headerUser;
    const key = request.headers['x-clickhouse-key'];
    password = typeof key === 'string' ? key : '';
  } else if (url.searchParams.has('user')) {
    name = url.searchParams.get('user')!;
    password = url.searchParams.get('password') ?? '';
  }
  const user = authenticate(context.users, name, password);
  if (!user)
    throw new ClickHouseException(
      516,
      `${name.slice(0, 64)}: Authentication failed: password is incorrect, or there is no user with such name`,
    );
  return user;
}

async function readBody(request: IncomingMessage, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > limit)
      throw Object.assign(new ClickHouseException(36, `The request body is larger than ${limit} bytes`), {
        status: 413,
      });
    chunks.push(chunk as Buffer);
  }
  const body = Buffer.concat(chunks);
  const encoding = request.headers['content-encoding'];
  if (encoding === 'gzip') {
    try {
      return gunzipSync(body, { maxOutputLength: limit });
    } catch (error) {
      throw new ClickHouseException(36, `Cannot decompress the request body: ${(error as Error).message}`);
    }
  }
  if (encoding !== undefined && encoding !== 'identity')
    throw new ClickHouseException(36, `Unknown Content-Encoding ${encoding}; use gzip`);
  return body;
}

function header(request: IncomingMessage, name: string): string | undefined {
  const value = request.headers[name];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function messageOf(error: unknown): string {
  // chDB sometimes repeats the engine's prefix ("Code: 115. DB::Exception: Code: 115. …").
  const message = (error instanceof Error ? error.message : String(error)).replace(
    /^(Code: \d+\. DB::Exception: )\1/,
    '$1',
  );
  return /^Code: \d+\./.test(message) ? message : `Code: 1000. DB::Exception: ${message}`;
}

function sendError(response: ServerResponse, error: unknown, common: Record<string, string>): void {
  if (response.headersSent || response.destroyed) {
    response.destroy();
    return;
  }
  const message = messageOf(error);
  const code = error instanceof ClickHouseException ? error.code : codeOf(message);
  const status = (error as { status?: number }).status ?? httpStatusFor(code);
  response.writeHead(status, {
    ...common,
    'Content-Type': 'text/plain; charset=UTF-8',
    'X-ClickHouse-Exception-Code': String(code),
    ...(code === 516 ? { 'WWW-Authenticate': 'Basic realm="tributary"' } : {}),
  });
  response.end(`${message}\n`);
}

function summary(stats: Partial<Record<string, number>>): string {
  const keys = [
    'read_rows',
    'read_bytes',
    'written_rows',
    'written_bytes',
    'total_rows_to_read',
    'result_rows',
    'result_bytes',
    'elapsed_ns',
  ];
  return JSON.stringify(Object.fromEntries(keys.map((key) => [key, String(stats[key] ?? 0)])));
}

/** The Content-Type ClickHouse sends with each format. */
export function contentType(format: string): string {
  if (/^(JSON|JSONStrings|JSONCompact\w*)$/.test(format) && !/EachRow/.test(format))
    return 'application/json; charset=UTF-8';
  if (/EachRow/.test(format)) return 'application/x-ndjson; charset=UTF-8';
  if (/^(TabSeparated|TSV)/.test(format)) return 'text/tab-separated-values; charset=UTF-8';
  if (/^CSV/.test(format))
    return `text/csv; charset=UTF-8; header=${/WithNames/.test(format) ? 'present' : 'absent'}`;
  if (
    /^(Native|RowBinary\w*|Parquet|Arrow\w*|ORC|Avro|Protobuf\w*|MsgPack|CapnProto|BSONEachRow|Npy)$/.test(
      format,
    )
  )
    return 'application/octet-stream';
  return 'text/plain; charset=UTF-8';
}
