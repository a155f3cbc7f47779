// The write-back engine: a target's rows come from the warehouse with their natural key and a hash
// of the values the target owns; rows whose hash matches what was last written (writeback_state)
// are left alone, the others are upserted in bulk batches, then their hashes recorded. A crash
// between the write and the record only means the next run writes the same values again (upserts
// by natural key, never increments). Each target may instead find its candidates on its own
// (`hashed: false`), when the store itself says what is already right.
// A target whose rows come from a day-partitioned mart (`dayMart`) compares only the rows of the
// days the transforms rewrote since its last run (mart_day_rewrites); its checkpoint, recorded
// after everything is written, says up to which rewrite. Without one (a first run, a changed
// target), or after a full rebuild of the mart, every row is compared.
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { dayRewritesSince, lastRewrite } from '../../transforms/marts/day-rewrites.ts';
import type { DaySelection } from '../../transforms/marts/partitions.ts';
import {
  bookkeepingTable,
  readCheckpoint,
  writeCheckpoint,
  type ClickHouseSettings,
  type Warehouse,
} from '../../warehouse/index.ts';
import { InvariantError } from '../../errors/index.ts';

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
  /**
   * The day-partitioned mart the rows come from (rewritten by replaceDays) and the column of `sql`
   * holding a row's day: only rows of days rewritten since the last run are compared. Only for a
   * hashed target whose each row depends on nothing but the mart's rows of that day.
   */
  dayMart?: { mart: string; dayColumn: string };
  write(rows: TargetRow[]): Promise<WriteResult>;
  /**
   * Told the days to compare (a `dayMart` target's limited run) before their rows are read: the
   * target may start reading what it will need for them while the warehouse finds the rows.
   */
  prepare?(days: readonly string[]): void;
  /**
   * Rows per `write` when the job sets no batch size (default DEFAULT_BATCH_ROWS): for a store
   * whose cost is per statement rather than per row.
   */
  batchRows?: number;
  /**
   * Batches `write` may be given at once (default 1): for a store whose round trip, not its own
   * work, sets the pace. Only where `write` is safe to run beside itself on other rows.
   */
  concurrentWrites?: number;
  /** Required without hashes, for `--dry-run`: what `write` would change, writing nothing. */
  plan?(rows: TargetRow[]): Promise<WriteResult>;
  /**
   * For `--dry-run`: what the store holds now, field by field, for a few rows (a hashed target is
   * given a few changed rows; one without hashes all its candidates, of which it shows a few that
   * `write` would change).
   */
  diff(rows: TargetRow[]): Promise<string[]>;
}

export interface TargetReport {
  target: string;
  /** Rows compared with what was last written: all of them, or those of the rewritten days. */
  compared: number;
  /** The days compared: 'all', or the mart's days rewritten since the last run. */
  days: DaySelection;
  /** Rows found changed (hashed) or to check against the store (without hashes). */
  candidates: number;
  unchanged: number;
  inserted: number;
  updated: number;
  examples: string[];
}

/** The columns of a writeback_state line, in its order. */
const STATE_COLUMNS = ['target', 'natural_key', 'content_hash', 'written_at'] as const;

/** Rows per `write` (a bulk write's documents) unless the job or the target says otherwise. */
export const DEFAULT_BATCH_ROWS = 1000;

/** Hashes recorded per insert into writeback_state. */
const STATE_ROWS_PER_INSERT = 20_000;

/** Bumped when the documents' shape changes: every row then counts as changed once. */
const SHAPE_VERSION = 1;

const targetCheckpointSchema = z.object({
  /** The last rewrite of the target's mart (mart_day_rewrites.seq) whose days were written back. */
  through: z.number().int().nonnegative(),
  /** The target's definition then: a different one (new SQL, owned fields) compares every row. */
  definition: z.string(),
});

/** What the comparison covers: every row, or the rows of the days rewritten since the checkpoint. */
interface Scope {
  days: DaySelection;
  /** The rewrite to record in the checkpoint once the run has written everything. */
  through: number;
  definition: string;
  /** Whether that differs from the stored checkpoint. */
  advances: boolean;
}

const checkpointPipeline = (pack: string) => `writeback:${pack}`;

async function scopeOf(
  warehouse: Warehouse,
  target: WritebackTarget,
  mart: string,
  pack: string,
): Promise<Scope> {
  const definition = createHash('sha256')
    .update(JSON.stringify([SHAPE_VERSION, target.sql, target.valueColumns, target.dayMart]))
    .digest('hex')
    .slice(0, 16);
  const checkpoint = await readCheckpoint(
    warehouse,
    checkpointPipeline(pack),
    target.name,
    targetCheckpointSchema,
  );
  if (checkpoint?.definition !== definition)
    return { days: 'all', through: await lastRewrite(warehouse, mart, pack), definition, advances: true };
  const rewrites = await dayRewritesSince(warehouse, mart, pack, checkpoint.through);
  return { ...rewrites, definition, advances: rewrites.through !== checkpoint.through };
}

export async function runTarget(
  warehouse: Warehouse,
  target: WritebackTarget,
  params: { pack: string } & Record<string, unknown>,
  options: { dryRun: boolean; batchSize?: number; signal?: AbortSignal },
): Promise<TargetReport> {
  const batchSize = options.batchSize ?? target.batchRows ?? DEFAULT_BATCH_ROWS;
  // Read before the rows: a rewrite logged after this is compared next time.
  const scope =
    target.dayMart && target.hashed
      ? await scopeOf(warehouse, target, target.dayMart.mart, params.pack)
      : undefined;
  const days = scope?.days ?? 'all';
  const report: TargetReport = {
    target: target.name,
    compared: 0,
    days,
    candidates: 0,
    unchanged: 0,
    inserted: 0,
    updated: 0,
    examples: [],
  };
  const bound = { ...params, target: target.name, rewritten_days: days === 'all' ? [] : days };
  const inScope =
    days === 'all' || !target.dayMart
      ? '1'
      : `toString(${target.dayMart.dayColumn}) IN {rewritten_days:Array(String)}`;
  if (days !== 'all' && !options.dryRun) target.prepare?.(days);
  // The counts are only reported: they are taken while the candidates stream, not before them (at
  // 1M rows a scan of the target's query, a fixed cost an incremental run would wait for).
  const counts = target.hashed
    ? warehouse
        .query<{ total: number; compared: number }>(
          `SELECT count() AS total, countIf(${inScope}) AS compared FROM (${target.sql})`,
          bound,
          { join_use_nulls: 1, output_format_json_quote_64bit_integers: 0 },
        )
        .then(([row]) => ({ total: Number(row?.total ?? 0), compared: Number(row?.compared ?? 0) }))
    : undefined;
  // Unhandled until awaited below, a failure would end the process: it is awaited on every path.
  counts?.catch(() => undefined);
  let total = 0;
  const candidates = changedRows(target, inScope);
  // No day rewritten since the last run: nothing to compare, no query.
  const none = target.hashed && days !== 'all' && days.length === 0;
  if (options.dryRun) {
    if (counts) ({ total, compared: report.compared } = await counts);
    const rows = none ? [] : await warehouse.query<TargetRow>(candidates.sql, bound, candidates.settings);
    report.candidates = rows.length;
    if (!target.hashed) total = report.compared = rows.length;
    if (target.hashed) {
      report.inserted = rows.filter((row) => row.change === 'insert').length;
      report.updated = rows.length - report.inserted;
      report.examples = await target.diff(
        rows
          .filter((row) => row.change === 'update')
          .slice(0, 3)
          .concat(rows.filter((row) => row.change === 'insert').slice(0, 1)),
      );
    } else {
      const { plan } = target;
      if (!plan)
        throw new InvariantError(`${target.name}: a target without hashes needs plan() for a dry run`);
      for (let start = 0; start < rows.length; start += batchSize) {
        const planned = await plan(rows.slice(start, start + batchSize));
        report.inserted += planned.inserted;
        report.updated += planned.updated;
      }
      report.examples = await target.diff(rows);
    }
    report.unchanged = total - report.inserted - report.updated;
    return report;
  }
  // Hashes are recorded some batches at a time (each insert costs the engine a part), and what was
  // written before a failure still is: rows written but not recorded are only written again.
  const pending: string[] = [];
  const record = async () => {
    if (pending.length > 0)
      await warehouse.insertLines(WRITEBACK_STATE, {
        format: 'JSONCompactEachRow',
        columns: STATE_COLUMNS,
        lines: pending.splice(0),
      });
  };
  const writeBatch = async (batch: TargetRow[]) => {
    const written = await target.write(batch);
    report.inserted += written.inserted;
    report.updated += written.updated;
    if (!target.hashed) return;
    const now = Date.now();
    for (const row of batch)
      pending.push(JSON.stringify([target.name, row.natural_key, row.content_hash, now]));
  };
  // The candidates are written as they come from the warehouse: the first batches are written
  // while the engine still computes, formats and hands over the rest (for 1M rows, seconds). The
  // hashes recorded meanwhile do not reach the query: it reads the parts of writeback_state there
  // were when it started (and builds its join's right side, the stored hashes, first).
  // Up to `concurrentWrites` batches in flight: the next one is sent while the store works on the
  // last, and the hashes are recorded while it writes. A failure stops new batches; those in flight
  // finish and are recorded.
  const inFlight = new Set<Promise<void>>();
  let failed: { error: unknown } | undefined;
  const send = async (batch: TargetRow[]) => {
    if (options.signal?.aborted) throw options.signal.reason;
    report.candidates += batch.length;
    const task: Promise<void> = writeBatch(batch)
      .catch((error: unknown) => {
        failed ??= { error };
      })
      .finally(() => inFlight.delete(task));
    inFlight.add(task);
    if (inFlight.size >= (target.concurrentWrites ?? 1)) await Promise.race(inFlight);
    if (pending.length >= STATE_ROWS_PER_INSERT) await record();
  };
  try {
    let batch: TargetRow[] = [];
    if (!none)
      for await (const block of warehouse.queryStream<TargetRow>(
        candidates.sql,
        bound,
        candidates.settings,
      )) {
        for (const row of block) {
          batch.push(row);
          if (batch.length === batchSize) {
            await send(batch);
            batch = [];
          }
        }
        if (failed) break;
      }
    if (batch.length > 0 && !failed) await send(batch);
    await Promise.all(inFlight);
    if (failed) throw failed.error;
    if (counts) ({ total, compared: report.compared } = await counts);
  } catch (error) {
    await Promise.all(inFlight);
    await record().catch(() => undefined);
    throw error;
  }
  await record();
  // Last: a run that dies before this compares the same days (and more) again, and its hashes
  // tell what it had already written.
  if (scope?.advances)
    await writeCheckpoint(warehouse, checkpointPipeline(params.pack), target.name, {
      through: scope.through,
      definition: scope.definition,
    } satisfies z.infer<typeof targetCheckpointSchema>);
  if (!target.hashed) total = report.compared = report.candidates;
  report.unchanged = target.hashed ? total - report.candidates : total - report.inserted - report.updated;
  return report;
}

/** Rows per block of the candidates' stream: the first batch need not wait for a default block (65k rows). */
const STREAM_BLOCK_ROWS = 8192;

/**
 * The query of the rows in scope whose owned values differ from what was last written (every row
 * in scope for a target without hashes). A limited scope also limits the stored hashes read to its
 * keys.
 */
function changedRows(
  target: WritebackTarget,
  inScope: string,
): { sql: string; settings: ClickHouseSettings } {
  const hash = `toString(sipHash64(${SHAPE_VERSION}, toString(tuple(${target.valueColumns.map((column) => `t.${column}`).join(', ')}))))`;
  const order = target.orderBy === undefined ? '' : ` ORDER BY ${target.orderBy}`;
  const rows = `SELECT * FROM (${target.sql}) WHERE ${inScope}`;
  const stateKeys = inScope === '1' ? '' : ` AND natural_key IN (SELECT natural_key FROM (${rows}))`;
  return {
    sql: target.hashed
      ? `SELECT t.*, ${hash} AS content_hash, if(s.natural_key IS NULL, 'insert', 'update') AS change
         FROM (${rows}) AS t
         LEFT JOIN (
           SELECT natural_key, toString(argMax(content_hash, written_at)) AS last_hash
           FROM ${WRITEBACK_STATE} WHERE target = {target:String}${stateKeys} GROUP BY natural_key
         ) AS s ON t.natural_key = s.natural_key
         WHERE s.natural_key IS NULL OR s.last_hash != content_hash${order}`
      : `SELECT t.*, '' AS content_hash, 'update' AS change FROM (${rows}) AS t${order}`,
    settings: {
      output_format_json_quote_64bit_integers: 0,
      join_use_nulls: 1,
      // The scope's keys (a day's users) lie all over writeback_state's key order, so the primary
      // key skips nothing, and matching every granule's range against a set of 100k keys cost the
      // query 0.2-0.6 s of its 0.3-1 s at 1M stored keys (a scan with the set: ~0.1 s).
      use_index_for_in_with_subqueries: 0,
      max_block_size: String(STREAM_BLOCK_ROWS),
    },
  };
}

export function formatReport(report: TargetReport, dryRun: boolean): string {
  const verb = dryRun ? 'would insert' : 'inserted';
  const lines = [
    `${report.target}: ${verb} ${report.inserted}, ${dryRun ? 'would update' : 'updated'} ${report.updated}, unchanged ${report.unchanged}` +
      (report.days === 'all'
        ? ''
        : ` (compared ${report.compared} rows of ${report.days.length} rewritten days)`),
    ...report.examples.map((example) => `  ${example}`),
  ];
  return lines.join('\n');
}
