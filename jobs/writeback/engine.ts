// The write-back engine: a target's rows come from the warehouse with their natural key and a hash
// of the values the target owns; rows whose hash matches what was last written (writeback_state)
// are left alone, the others are upserted in bulk batches, then their hashes recorded. A crash
// between the write and the record only means the next run writes the same values again (upserts
// by natural key, never increments). Each target may instead find its candidates on its own
// (`hashed: false`), when the store itself says what is already right.
import { bookkeepingTable, type Warehouse } from '../../warehouse/index.ts';

/** The content hash last written per target and natural key. */
export const WRITEBACK_STATE = bookkeepingTable('writeback_state');

export interface TargetRow {
  natural_key: string;
  content_hash: string;
  /** `insert`: never written before; `update`: written with other values. */
  change: 'insert' | 'update';
  [column: string]: unknown;
}

export interface WriteResult {
  /** Documents or rows the store created. */
  inserted: number;
  /** Existing ones the store modified. */
  updated: number;
}

export interface WritebackTarget {
  /** `mongo:db.collection` or `postgres:table`. */
  name: string;
  /** The rows to write: one SELECT with a `natural_key` column (bound parameters allowed). */
  sql: string;
  /** The order rows are written in (columns of the SELECT), e.g. `day`. */
  orderBy?: string;
  /** The columns whose values the target owns; their hash decides whether a row changed. */
  valueColumns: readonly string[];
  /** Without a hash, every row of `sql` is a candidate and `write` must skip what is already right. */
  hashed: boolean;
  write(rows: TargetRow[]): Promise<WriteResult>;
  /** For `--dry-run`: what the store holds now for these rows, field by field. */
  diff(rows: TargetRow[]): Promise<string[]>;
}

export interface TargetReport {
  target: string;
  candidates: number;
  unchanged: number;
  inserted: number;
  updated: number;
  examples: string[];
}

/** Bumped when the documents' shape changes: every row then counts as changed once. */
const SHAPE_VERSION = 1;

export async function runTarget(
  warehouse: Warehouse,
  target: WritebackTarget,
  params: Record<string, unknown>,
  options: { dryRun: boolean; batchSize: number; signal?: AbortSignal },
): Promise<TargetReport> {
  const report: TargetReport = {
    target: target.name,
    candidates: 0,
    unchanged: 0,
    inserted: 0,
    updated: 0,
    examples: [],
  };
  const hash = `toString(sipHash64(${SHAPE_VERSION}, toString(tuple(${target.valueColumns.map((column) => `t.${column}`).join(', ')}))))`;
  const bound = { ...params, target: target.name };
  const order = target.orderBy === undefined ? '' : ` ORDER BY ${target.orderBy}`;
  const rows = await warehouse.query<TargetRow>(
    target.hashed
      ? `SELECT t.*, ${hash} AS content_hash, if(s.natural_key IS NULL, 'insert', 'update') AS change
         FROM (${target.sql}) AS t
         LEFT JOIN (
           SELECT natural_key, toString(argMax(content_hash, written_at)) AS last_hash
           FROM ${WRITEBACK_STATE} WHERE target = {target:String} GROUP BY natural_key
         ) AS s ON t.natural_key = s.natural_key
         WHERE s.natural_key IS NULL OR s.last_hash != content_hash${order}`
      : `SELECT t.*, '' AS content_hash, 'update' AS change FROM (${target.sql}) AS t${order}`,
    bound,
    { output_format_json_quote_64bit_integers: 0, join_use_nulls: 1 },
  );
  const [total] = await warehouse.query<{ n: number }>(`SELECT count() AS n FROM (${target.sql})`, bound, {
    join_use_nulls: 1,
  });
  report.candidates = rows.length;
  report.unchanged = Number(total?.n ?? 0) - rows.length;
  if (options.dryRun) {
    report.inserted = rows.filter((row) => row.change === 'insert').length;
    report.updated = rows.length - report.inserted;
    report.examples = await target.diff(
      rows
        .filter((row) => row.change === 'update')
        .slice(0, 3)
        .concat(rows.filter((row) => row.change === 'insert').slice(0, 1)),
    );
    return report;
  }
  for (let start = 0; start < rows.length; start += options.batchSize) {
    if (options.signal?.aborted) throw options.signal.reason;
    const batch = rows.slice(start, start + options.batchSize);
    const written = await target.write(batch);
    report.inserted += written.inserted;
    report.updated += written.updated;
    if (target.hashed) {
      const now = Date.now();
      await warehouse.insert(
        WRITEBACK_STATE,
        batch.map((row) => ({
          target: target.name,
          natural_key: row.natural_key,
          content_hash: row.content_hash,
          written_at: now,
        })),
      );
    }
  }
  if (!target.hashed) report.unchanged = Number(total?.n ?? 0) - report.inserted - report.updated;
  return report;
}

export function formatReport(report: TargetReport, dryRun: boolean): string {
  const verb = dryRun ? 'would insert' : 'inserted';
  const lines = [
    `${report.target}: ${verb} ${report.inserted}, ${dryRun ? 'would update' : 'updated'} ${report.updated}, unchanged ${report.unchanged}`,
    ...report.examples.map((example) => `  ${example}`),
  ];
  return lines.join('\n');
}
