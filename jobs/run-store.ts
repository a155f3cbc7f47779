// Run history: one record per attempt of a job for a scheduled time, written when it starts and
// again with its outcome. The warehouse's `tributary.job_runs` is the queryable history; with several
// schedulers, the control Postgres database holds the authoritative copy next to the leases.
import { hostname } from 'node:os';
import pg from 'pg';
import { z } from 'zod';
import { bookkeepingTable, type Warehouse } from '../warehouse/index.ts';

const JOB_RUNS = bookkeepingTable('job_runs');

export const RUN_STATUSES = ['running', 'succeeded', 'failed', 'interrupted', 'skipped'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

export const runRecordSchema = z.object({
  runId: z.string(),
  job: z.string(),
  kind: z.string(),
  scheduledFor: z.date(),
  startedAt: z.date().nullable(),
  finishedAt: z.date().nullable(),
  status: z.enum(RUN_STATUSES),
  attempt: z.number().int().nonnegative(),
  /** A failed attempt that will be tried again: the scheduled time is not settled yet. */
  willRetry: z.boolean(),
  rowsAffected: z.number().int().nonnegative(),
  error: z.string(),
  host: z.string(),
});
export type RunRecord = z.infer<typeof runRecordSchema>;

/** Whether the scheduled time needs no further run: it ran, was skipped, or failed for good. */
export function isSettled(run: RunRecord): boolean {
  if (run.status === 'succeeded' || run.status === 'skipped') return true;
  return run.status === 'failed' && !run.willRetry;
}

export const HOST = `${hostname()}:${process.pid}`;

/** A job's runs still marked running, its newest scheduled time, and every attempt at that time. */
export interface RunOverview {
  running: RunRecord[];
  last: Date | undefined;
  lastRuns: RunRecord[];
}

function lastOf(runs: RunRecord[]): RunOverview {
  const last = runs.reduce<number | undefined>(
    (max, run) => Math.max(max ?? -Infinity, run.scheduledFor.getTime()),
    undefined,
  );
  return {
    running: runs.filter((run) => run.status === 'running'),
    last: last === undefined ? undefined : new Date(last),
    lastRuns: runs.filter((run) => run.scheduledFor.getTime() === last),
  };
}

export interface RunStore {
  /** Records a run (a new one, or a later state of one already recorded: same `runId`). */
  save(run: RunRecord): Promise<void>;
  /** Every recorded attempt for these scheduled times of a job. */
  runsFor(job: string, scheduledFor: readonly Date[]): Promise<RunRecord[]>;
  /** The newest scheduled time recorded for a job (any status). */
  lastScheduled(job: string): Promise<Date | undefined>;
  /** Runs still marked `running` (their process may be gone). */
  running(job: string): Promise<RunRecord[]>;
  /** Both at once, with the attempts at the newest time (one round trip: the scheduler asks on every tick). */
  overview(job: string): Promise<RunOverview>;
  history(job: string | undefined, limit: number): Promise<RunRecord[]>;
  close(): Promise<void>;
}

const ms = (date: Date | null) => (date === null ? null : date.getTime());

interface WarehouseRunRow {
  run_id: string;
  job: string;
  kind: string;
  scheduled_ms: string;
  started_ms: string | null;
  finished_ms: string | null;
  status: string;
  attempt: number;
  will_retry: number;
  rows_affected: string | number;
  error: string;
  host: string;
}

// Times as milliseconds, under names of their own (an alias equal to its column would shadow the
// column in WHERE and ORDER BY).
const COLUMNS = `run_id, job, kind, toUnixTimestamp64Milli(scheduled_for) AS scheduled_ms,
  toUnixTimestamp64Milli(started_at) AS started_ms, toUnixTimestamp64Milli(finished_at) AS finished_ms,
  status, attempt, will_retry, rows_affected, error, host`;

function fromWarehouse(row: WarehouseRunRow): RunRecord {
  const date = (value: string | null) => (value === null ? null : new Date(Number(value)));
  return runRecordSchema.parse({
    runId: row.run_id,
    job: row.job,
    kind: row.kind,
    scheduledFor: new Date(Number(row.scheduled_ms)),
    startedAt: date(row.started_ms),
    finishedAt: date(row.finished_ms),
    status: row.status,
    attempt: Number(row.attempt),
    willRetry: Number(row.will_retry) === 1,
    rowsAffected: Number(row.rows_affected),
    error: row.error,
    host: row.host,
  });
}

/** `tributary.job_runs` in the warehouse (ReplacingMergeTree by revision: the latest state of a run wins). */
export class WarehouseRunStore implements RunStore {
  private revision = 0;
  constructor(private readonly warehouse: Warehouse) {}

  async save(run: RunRecord): Promise<void> {
    // Revisions must grow across processes too: time first, then a counter for same-millisecond saves.
    this.revision = Math.max(this.revision + 1, Date.now() * 1000);
    await this.warehouse.insert(JOB_RUNS, [
      {
        run_id: run.runId,
        job: run.job,
        kind: run.kind,
        scheduled_for: ms(run.scheduledFor),
        started_at: ms(run.startedAt),
        finished_at: ms(run.finishedAt),
        status: run.status,
        attempt: run.attempt,
        will_retry: run.willRetry ? 1 : 0,
        rows_affected: run.rowsAffected,
        error: run.error,
        host: run.host,
        revision: this.revision,
      },
    ]);
  }

  private async select(
    where: string,
    params: Record<string, unknown>,
    tail = 'ORDER BY scheduled_for, attempt',
  ): Promise<RunRecord[]> {
    const rows = await this.warehouse.query<WarehouseRunRow>(
      `SELECT ${COLUMNS} FROM ${JOB_RUNS} FINAL WHERE ${where} ${tail}`,
      params,
      { output_format_json_quote_64bit_integers: 1 },
    );
    return rows.map(fromWarehouse);
  }

  runsFor(job: string, scheduledFor: readonly Date[]): Promise<RunRecord[]> {
    if (scheduledFor.length === 0) return Promise.resolve([]);
    return this.select(
      'job = {job:String} AND toUnixTimestamp64Milli(scheduled_for) IN {times:Array(Int64)}',
      {
        job,
        times: scheduledFor.map((time) => time.getTime()),
      },
    );
  }

  async lastScheduled(job: string): Promise<Date | undefined> {
    const [row] = await this.warehouse.query<{ last: string | null }>(
      `SELECT toUnixTimestamp64Milli(max(scheduled_for)) AS last, count() AS n FROM ${JOB_RUNS} WHERE job = {job:String} HAVING n > 0`,
      { job },
    );
    return row?.last == null ? undefined : new Date(Number(row.last));
  }

  running(job: string): Promise<RunRecord[]> {
    return this.select("job = {job:String} AND status = 'running'", { job });
  }

  async overview(job: string): Promise<RunOverview> {
    // The running runs and every run of the newest scheduled time: the newest of them is the last
    // time. One scan of the job's runs (a subquery for the newest time would be a second).
    const runs = await this.select(
      'job = {job:String}',
      { job },
      "QUALIFY status = 'running' OR scheduled_for = max(scheduled_for) OVER () ORDER BY scheduled_for, attempt",
    );
    return lastOf(runs);
  }

  history(job: string | undefined, limit: number): Promise<RunRecord[]> {
    return this.select(
      job === undefined ? '1' : 'job = {job:String}',
      { job: job ?? '', limit },
      'ORDER BY scheduled_for DESC, attempt DESC LIMIT {limit:UInt32}',
    );
  }

  async close(): Promise<void> {}
}

/** The authoritative copy in the control database (created on first use). */
export class PostgresRunStore implements RunStore {
  private constructor(private readonly client: pg.Client) {}

  static async open(url: string): Promise<PostgresRunStore> {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    await client.query(`CREATE TABLE IF NOT EXISTS tributary_job_runs (
      run_id text PRIMARY KEY, job text NOT NULL, kind text NOT NULL, scheduled_for timestamptz NOT NULL,
      started_at timestamptz, finished_at timestamptz, status text NOT NULL, attempt int NOT NULL,
      will_retry boolean NOT NULL, rows_affected bigint NOT NULL, error text NOT NULL, host text NOT NULL)`);
    await client.query(
      'CREATE INDEX IF NOT EXISTS tributary_job_runs_job ON tributary_job_runs (job, scheduled_for)',
    );
    return new PostgresRunStore(client);
  }

  async save(run: RunRecord): Promise<void> {
    await this.client.query(
      `INSERT INTO tributary_job_runs VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12)
       ON CONFLICT (run_id) DO UPDATE SET started_at = EXCLUDED.started_at, finished_at = EXCLUDED.finished_at,
         status = EXCLUDED.status, will_retry = EXCLUDED.will_retry, rows_affected = EXCLUDED.rows_affected,
         error = EXCLUDED.error`,
      [
        run.runId,
        run.job,
        run.kind,
        run.scheduledFor,
        run.startedAt,
        run.finishedAt,
        run.status,
        run.attempt,
        run.willRetry,
        run.rowsAffected,
        run.error,
        run.host,
      ],
    );
  }

  private async select(
    where: string,
    params: unknown[],
    tail = 'ORDER BY scheduled_for, attempt',
  ): Promise<RunRecord[]> {
    const result = await this.client.query(`SELECT * FROM tributary_job_runs WHERE ${where} ${tail}`, params);
    return result.rows.map((row: Record<string, unknown>) =>
      runRecordSchema.parse({
        runId: row.run_id,
        job: row.job,
        kind: row.kind,
        scheduledFor: row.scheduled_for,
        startedAt: row.started_at,
        finishedAt: row.finished_at,
        status: row.status,
        attempt: row.attempt,
        willRetry: row.will_retry,
        rowsAffected: Number(row.rows_affected),
        error: row.error,
        host: row.host,
      }),
    );
  }

  runsFor(job: string, scheduledFor: readonly Date[]): Promise<RunRecord[]> {
    return this.select('job = $1 AND scheduled_for = ANY($2::timestamptz[])', [job, scheduledFor]);
  }

  async lastScheduled(job: string): Promise<Date | undefined> {
    const result = await this.client.query<{ last: Date | null }>(
      'SELECT max(scheduled_for) AS last FROM tributary_job_runs WHERE job = $1',
      [job],
    );
    return result.rows[0]?.last ?? undefined;
  }

  running(job: string): Promise<RunRecord[]> {
    return this.select("job = $1 AND status = 'running'", [job]);
  }

  async overview(job: string): Promise<RunOverview> {
    const runs = await this.select(
      `job = $1 AND (status = 'running'
        OR scheduled_for = (SELECT max(scheduled_for) FROM tributary_job_runs WHERE job = $1))`,
      [job],
    );
    return lastOf(runs);
  }

  history(job: string | undefined, limit: number): Promise<RunRecord[]> {
    return job === undefined
      ? this.select('true', [limit], 'ORDER BY scheduled_for DESC, attempt DESC LIMIT $1')
      : this.select('job = $1', [job, limit], 'ORDER BY scheduled_for DESC, attempt DESC LIMIT $2');
  }

  async close(): Promise<void> {
    await this.client.end();
  }
}

/** Reads from the first store; every save goes to all (the control database, then the warehouse). */
export class TeeRunStore implements RunStore {
  constructor(private readonly stores: [RunStore, ...RunStore[]]) {}
  async save(run: RunRecord): Promise<void> {
    for (const store of this.stores) await store.save(run);
  }
  runsFor(job: string, scheduledFor: readonly Date[]) {
    return this.stores[0].runsFor(job, scheduledFor);
  }
  lastScheduled(job: string) {
    return this.stores[0].lastScheduled(job);
  }
  running(job: string) {
    return this.stores[0].running(job);
  }
  overview(job: string) {
    return this.stores[0].overview(job);
  }
  history(job: string | undefined, limit: number) {
    return this.stores[0].history(job, limit);
  }
  async close(): Promise<void> {
    for (const store of this.stores) await store.close();
  }
}
