// Literal SQL for the simulator: renders INSERT/UPDATE/DELETE statements with escaped values and
// sends them many at a time, so one round trip (and one transaction) carries a whole chunk.
import pg from 'pg';
import { InvariantError, TributaryError } from '../../errors/index.ts';

/** Simulated statements the database refused (the cause says why). */
export class SimulatedStatementsError extends TributaryError {}

/** SQL text inserted verbatim, e.g. `view_count + 1`. */
export class SqlFragment {
  constructor(readonly sql: string) {}
}

export type SqlValue = string | number | boolean | null | SqlFragment;
export type SqlRow = Readonly<Record<string, SqlValue>>;
export type Queryable = pg.ClientBase | pg.Pool;
export type StatementKind = 'insert' | 'update' | 'delete';

export function raw(sql: string): SqlFragment {
  return new SqlFragment(sql);
}

export function literal(value: SqlValue): string {
  if (value === null) return 'NULL';
  if (value instanceof SqlFragment) return value.sql;
  if (typeof value === 'boolean') return value ? 'TRUE' : 'FALSE';
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new InvariantError(`cannot write the number ${value} to SQL`);
    return String(value);
  }
  return quote(value);
}

/** `TIMESTAMP` columns hold UTC wall-clock time; writing text keeps the driver's local zone out of it. */
export function timestamp(epochMs: number): SqlFragment {
  const iso = new Date(epochMs).toISOString();
  return raw(`'${iso.slice(0, 10)} ${iso.slice(11, 23)}'`);
}

export function date(epochMs: number): SqlFragment {
  return raw(`'${new Date(epochMs).toISOString().slice(0, 10)}'`);
}

/** A Postgres array literal (`'{"a","b"}'`) that the target column (uuid[], text[], varchar[]) parses. */
export function array(items: readonly string[]): SqlFragment {
  const elements = items.map((item) => `"${item.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`);
  return raw(quote(`{${elements.join(',')}}`));
}

export function json(value: unknown): SqlFragment {
  return raw(quote(JSON.stringify(value)));
}

export function increment(column: string, by: number): SqlFragment {
  return raw(`${column} + ${literal(by)}`);
}

export function appendTo(column: string, item: string): SqlFragment {
  return raw(`array_append(${column}, ${literal(item)})`);
}

export class SqlScript {
  readonly statementCounts: Record<StatementKind, number> = { insert: 0, update: 0, delete: 0 };
  rowsInserted = 0;
  private pending: string[] = [];

  get pendingCount(): number {
    return this.pending.length;
  }

  /** One multi-row INSERT; every row must have the columns of the first. */
  insert(table: string, rows: readonly SqlRow[]): void {
    const first = rows[0];
    if (!first) return;
    const columns = Object.keys(first);
    const values = rows.map(
      (row) => `(${columns.map((column) => literal(valueOf(row, column))).join(', ')})`,
    );
    this.push('insert', `INSERT INTO ${table} (${columns.join(', ')}) VALUES ${values.join(', ')}`);
    this.rowsInserted += rows.length;
  }

  update(table: string, set: SqlRow, where: SqlRow | SqlFragment): void {
    const assignments = Object.entries(set).map(([column, value]) => `${column} = ${literal(value)}`);
    this.push('update', `UPDATE ${table} SET ${assignments.join(', ')} WHERE ${condition(where)}`);
  }

  delete(table: string, where: SqlRow | SqlFragment): void {
    this.push('delete', `DELETE FROM ${table} WHERE ${condition(where)}`);
  }

  /**
   * Runs everything pending as one simple-protocol query: Postgres executes a multi-statement query
   * as a single transaction, so a failure rolls the whole chunk back and leaves the session usable.
   */
  async flush(client: Queryable): Promise<void> {
    if (this.pending.length === 0) return;
    const statements = this.pending;
    this.pending = [];
    const text = statements.join(';\n');
    try {
      await client.query(text);
    } catch (error) {
      throw new SimulatedStatementsError(
        `a chunk of ${statements.length} simulated statements failed: ${describe(error, text)}`,
        {
          cause: error,
        },
      );
    }
  }

  private push(kind: StatementKind, statement: string): void {
    this.pending.push(statement);
    this.statementCounts[kind] += 1;
  }
}

/** Most simulated text has no quote or backslash, so it skips pg's character-by-character escaping. */
function quote(text: string): string {
  return /['\\]/.test(text) ? pg.escapeLiteral(text) : `'${text}'`;
}

function valueOf(row: SqlRow, column: string): SqlValue {
  const value = row[column];
  if (value === undefined)
    throw new InvariantError(`row is missing column ${column}: ${JSON.stringify(row)}`);
  return value;
}

function condition(where: SqlRow | SqlFragment): string {
  if (where instanceof SqlFragment) return where.sql;
  return Object.entries(where)
    .map(([column, value]) => `${column} = ${literal(value)}`)
    .join(' AND ');
}

/** Adds the failing statement when Postgres reports a position, since the chunk itself is huge. */
function describe(error: unknown, text: string): string {
  if (!(error instanceof Error)) return String(error);
  const details = error as Error & { detail?: string; position?: string };
  const parts = [error.message];
  if (details.detail) parts.push(details.detail);
  const position = Number(details.position);
  if (position > 0) {
    const previousEnd = text.lastIndexOf(';\n', position);
    const end = text.indexOf(';\n', position);
    const statement = text.slice(previousEnd < 0 ? 0 : previousEnd + 2, end < 0 ? undefined : end);
    parts.push(`in: ${statement.slice(0, 500)}`);
  }
  return parts.join(' — ');
}
