// What a request may do. Writes by read-only users are refused by the engine itself (their sessions
// run with `readonly=2`); these rules cover what `readonly=2` still allows: settings that lift a
// user's limits, table functions that reach files or the network, the pipeline's own database
// (`tributary`), and statements such as KILL or SYSTEM.
import { BOOKKEEPING_DATABASE, quoteString } from '../warehouse/index.ts';
import { ClickHouseException } from './errors.ts';
import type { SqlUser } from './users.ts';

/** URL parameters that steer the HTTP handler rather than the query (never passed as settings). */
export const HTTP_PARAMETERS = new Set([
  'query',
  'database',
  'default_format',
  'query_id',
  'user',
  'password',
  'quota_key',
  'compress',
  'decompress',
  'buffer_size',
  'wait_end_of_query',
  'session_id',
  'session_timeout',
  'session_check',
  'enable_http_compression',
  'http_zlib_compression_level',
  'send_progress_in_http_headers',
  'http_headers_progress_interval_ms',
  'http_response_buffer_size',
  'http_wait_end_of_query',
  'client_protocol_version',
  'stacktrace',
  'role',
  'add_http_cors_header',
  'http_native_compression_disable_checksumming_on_decompress',
  'cancel_http_readonly_queries_on_client_close',
]);

/** Settings a read-only user may set freely: output shape and effort, never access or limits. */
const FREE_SETTINGS = new Set([
  'date_time_output_format',
  'session_timezone',
  'max_threads',
  'max_block_size',
  'extremes',
  'join_use_nulls',
  'result_overflow_mode',
  'timeout_overflow_mode',
  'final',
  'limit',
  'offset',
  'totals_mode',
  'prefer_column_name_to_alias',
  'do_not_merge_across_partitions_select_final',
  'cast_keep_nullable',
  'union_default_mode',
  'enable_named_columns_in_function_tuple',
]);
const FREE_PREFIXES = ['output_format_', 'format_csv_', 'format_tsv_', 'format_custom_'];

/** Limits a read-only user may lower but not lift (0 means "no limit" to the engine). */
const LIMIT_SETTINGS = [
  'max_result_rows',
  'max_result_bytes',
  'max_memory_usage',
  'max_execution_time',
  'max_rows_to_read',
  'max_bytes_to_read',
] as const;

/** Table functions that read nothing outside the query: everything else is refused to analysts. */
const SAFE_TABLE_FUNCTIONS = new Set([
  'numbers',
  'numbers_mt',
  'zeros',
  'zeros_mt',
  'generaterandom',
  'generate_series',
  'generateseries',
  'values',
  'null',
  'view',
  'format',
]);

/** Statements a read-only user may run (writes would be refused by the engine too). */
const READ_KINDS = new Set(['SELECT', 'WITH', 'SHOW', 'DESCRIBE', 'DESC', 'EXISTS', 'EXPLAIN']);

/** Settings from the URL (or a SET statement) as ordered pairs of name and SQL literal. */
export type SettingChanges = Array<[string, string]>;

/**
 * Checks settings against the user's rights and returns them as SQL literals. Read-write users may
 * set anything; read-only users the harmless ones, and limits only below their own.
 */
export function checkSettings(user: SqlUser, raw: ReadonlyArray<readonly [string, string]>): SettingChanges {
  const changes: SettingChanges = [];
  for (const [name, value] of raw) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name))
      throw new ClickHouseException(115, `Unknown setting '${name.slice(0, 100)}'`);
    if (name === 'readonly') {
      // Asking for read-only is already granted to read-only users; lowering it is not allowed.
      if (user.readonly && value !== '0') continue;
      if (user.readonly)
        throw new ClickHouseException(164, "Cannot modify 'readonly' setting in readonly mode");
    } else if (user.readonly && !isFree(name)) {
      const limit = LIMIT_SETTINGS.find((setting) => setting === name);
      if (limit === undefined)
        throw new ClickHouseException(164, `Cannot modify '${name}' setting in readonly mode`);
      const own = user.limits[limit as keyof SqlUser['limits']];
      const asked = Number(value);
      if (!Number.isFinite(asked) || asked < 0)
        throw new ClickHouseException(36, `Setting ${name} must be a non-negative number, got '${value}'`);
      if (own !== undefined && own > 0 && (asked === 0 || asked > own))
        throw new ClickHouseException(452, `Setting ${name} shouldn't be greater than ${own}`);
    }
    changes.push([name, /^-?\d+(\.\d+)?$/.test(value) ? value : quoteString(value)]);
  }
  return changes;
}

function isFree(name: string): boolean {
  return FREE_SETTINGS.has(name) || FREE_PREFIXES.some((prefix) => name.startsWith(prefix));
}

/** The statement kinds a read-only user may run; anything else is refused as ClickHouse would. */
export function checkReadOnlyKind(user: SqlUser, kind: string, viaGet: boolean): void {
  if (READ_KINDS.has(kind) || kind === 'SET') return;
  if (user.readonly)
    throw new ClickHouseException(164, `${user.name}: Cannot execute query in readonly mode`);
  if (viaGet)
    throw new ClickHouseException(
      164,
      'Cannot execute query in readonly mode. For queries over HTTP, method GET implies readonly. You should use method POST for modifying queries',
    );
}

/** The pipeline's own database is not granted to read-only users unless their entry says `bookkeeping`. */
export function checkDatabase(user: SqlUser, database: string): void {
  if (user.readonly && !user.bookkeeping && database === BOOKKEEPING_DATABASE) throw bookkeepingDenied(user);
}

function bookkeepingDenied(user: SqlUser): ClickHouseException {
  return new ClickHouseException(
    497,
    `${user.name}: Not enough privileges. To execute this query, it's necessary to have the grant SELECT ON ${BOOKKEEPING_DATABASE}.* (the pipeline's own tables, not granted to analysts)`,
  );
}

/**
 * Checks a read-only user's statement by its syntax tree (the engine's own `EXPLAIN AST`): no
 * SETTINGS clause, no INTO OUTFILE, only safe table functions, nothing in the `tributary`
 * database. `text` is the statement: some SHOW statements leave their database out of the tree.
 */
export function checkReadOnlyAst(user: SqlUser, ast: string, text = ''): void {
  const lines = ast.split('\n').filter((line) => line.trim() !== '');
  if (!user.bookkeeping && bookkeepingReference(lines, text)) throw bookkeepingDenied(user);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const node = line.trim();
    const depth = line.length - line.trimStart().length;
    if (node === 'Set' || node.startsWith('Set ')) {
      throw new ClickHouseException(
        164,
        `${user.name}: Cannot change settings in the query text in readonly mode; pass them as URL parameters`,
      );
    }
    if (depth === 1 && node.startsWith('Literal ')) {
      throw new ClickHouseException(497, `${user.name}: Not enough privileges. INTO OUTFILE is not allowed`);
    }
    if (node.startsWith('TableExpression')) {
      const function_ = /^Function (\w+)/.exec((lines[i + 1] ?? '').trim());
      if (function_ && !SAFE_TABLE_FUNCTIONS.has(function_[1]!.toLowerCase()))
        throw new ClickHouseException(
          497,
          `${user.name}: Not enough privileges. The table function ${function_[1]} is not allowed for read-only users`,
        );
    }
  }
}

/**
 * Whether a tree names the `tributary` database: a table `tributary.x`, a statement on it
 * (`ShowCreateTableQuery tributary x`, `ShowCreateDatabaseQuery tributary`), the database a SHOW
 * lists (`ShowTables` over `Identifier tributary`), or, for a SHOW whose tree omits it
 * (`SHOW COLUMNS FROM x FROM tributary`), the word in its text.
 */
export function bookkeepingReference(lines: readonly string[], text: string): boolean {
  const database = (name: string) => name.replaceAll('`', '').split('.')[0] === BOOKKEEPING_DATABASE;
  let showDepth = -1;
  for (const line of lines) {
    const node = line.trim();
    const depth = line.length - line.trimStart().length;
    if (depth <= showDepth) showDepth = -1;
    const table = /^TableIdentifier\s+(.+?)(?:\s+\(alias .*\))?$/.exec(node)?.[1];
    if (table !== undefined && table.includes('.') && database(table)) return true;
    const statement = /^\w+Query\s+(\S+)/.exec(node)?.[1];
    if (statement !== undefined && !statement.startsWith('(') && database(statement)) return true;
    if (/^Show\w*/.test(node)) {
      showDepth = depth;
      if (!/\(children/.test(node) && new RegExp(`\\b${BOOKKEEPING_DATABASE}\\b`).test(text)) return true;
    } else if (showDepth >= 0 && depth === showDepth + 1 && /^Identifier\s/.test(node)) {
      if (database(node.slice('Identifier'.length).trim())) return true;
    }
  }
  return false;
}

/** The `name = value` pairs of a `SET` statement (checked like URL settings; SET has no effect outside a session). */
export function parseSetStatement(text: string): Array<[string, string]> {
  const body = text.replace(/^\s*SET\s+/i, '');
  const pairs: Array<[string, string]> = [];
  const assignment = /\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*('(?:[^'\\]|\\.)*'|[^,]+?)\s*(?:,|$)/gy;
  let match: RegExpExecArray | null;
  while ((match = assignment.exec(body)) !== null) {
    const value = match[2]!;
    pairs.push([
      match[1]!,
      value.startsWith("'") ? value.slice(1, -1).replace(/\\(.)/g, '$1') : value.trim(),
    ]);
    if (assignment.lastIndex >= body.length) break;
  }
  if (pairs.length === 0) throw new ClickHouseException(62, `Syntax error: cannot read the SET statement`);
  return pairs;
}

/**
 * Turns `param_<name>` values (ClickHouse's escaped text format) into what the engine's binder
 * expects: `\N` is NULL; a scalar's escapes are undone, since the binder escapes top-level strings
 * itself; composite values (arrays, maps, tuples) are literals the engine parses as they are.
 */
export function bindParameters(sql: string, raw: ReadonlyMap<string, string>): Record<string, string | null> {
  const types = new Map<string, string>();
  for (const match of sql.matchAll(/\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*:\s*([^}]+?)\s*\}/g))
    types.set(match[1]!, match[2]!);
  const bound: Record<string, string | null> = {};
  for (const [name, value] of raw) {
    if (value === '\\N') {
      bound[name] = null;
      continue;
    }
    const type = types.get(name) ?? 'String';
    const composite = /^(?:Nullable\(|LowCardinality\()*(Array|Map|Tuple|Nested|Variant|Dynamic|JSON)\b/.test(
      type,
    );
    bound[name] = composite ? value : unescape(value);
  }
  return bound;
}

const ESCAPES: Record<string, string> = {
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
  '0': '\0',
  a: '\x07',
  v: '\v',
};

function unescape(value: string): string {
  return value.replace(/\\(.)/gs, (_, c: string) => ESCAPES[c] ?? c);
}
