// The scheduler: node-cron ticks each job on its schedule; every tick (and the start) reconciles
// the job against its run history under the job's lease: runs left `running` by a process that
// is gone become `interrupted` and run again, missed scheduled times follow the job's catch-up
// policy, and the current time runs unless some process already settled it. The lease plus the
// history make each (job, scheduled time) run once across any number of schedulers.
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import cron, { type ScheduledTask } from 'node-cron';
import { TributaryError } from '../errors/index.ts';
import type { JobContext, JobDefinition, JobOutcome } from './kinds.ts';
import type { Lease } from './lease.ts';
import { HOST, isSettled, type RunOverview, type RunRecord, type RunStore } from './run-store.ts';
import { CronSchedule, dayIn, planCatchUp } from './schedule.ts';

export class JobTimeoutError extends TributaryError {}

export interface SchedulerObserver {
  runFinished?(run: RunRecord, seconds: number): void;
}

export interface SchedulerOptions {
  jobs: JobDefinition[];
  store: RunStore;
  lease: Lease;
  /** What every run receives besides its own identity. */
  context: Pick<JobContext, 'warehouse' | 'config' | 'log'>;
  /** First retry after this long, doubling per attempt (default 5 s). */
  retryFirstMs?: number;
  /** At most this many missed times are looked at per job (default 100). */
  maxCatchUp?: number;
  observer?: SchedulerObserver;
  now?: () => Date;
}

export interface RunRequest {
  dryRun?: boolean;
  /** `--as-of DAY`: the day the run is for, instead of the scheduled time's day. */
  asOfDay?: string;
}

export class Scheduler {
  private readonly schedules = new Map<string, CronSchedule>();
  private readonly tasks: ScheduledTask[] = [];
  /** One chain per job: a process never runs two reconciliations of a job at once. */
  private readonly chains = new Map<string, Promise<unknown>>();
  private readonly stopping = new AbortController();
  private readonly now: () => Date;
  /**
   * Per job, the run history's overview as this scheduler's last reconciliation left it: the next
   * one uses it instead of reading the store when the lease says no one else held the job since.
   */
  private readonly overviews = new Map<string, RunOverview>();

  constructor(private readonly options: SchedulerOptions) {
    this.now = options.now ?? (() => new Date());
    for (const job of options.jobs) this.schedules.set(job.name, new CronSchedule(job.cron, job.timezone));
  }

  get jobs(): JobDefinition[] {
    return this.options.jobs;
  }

  scheduleOf(job: string): CronSchedule {
    const schedule = this.schedules.get(job);
    if (!schedule) throw new TributaryError(`no job named "${job}"; see "tributary jobs list"`);
    return schedule;
  }

  /** Reconciles every job once (interrupted and missed runs), then ticks them on their schedules. */
  async start(): Promise<void> {
    for (const job of this.options.jobs)
      await this.enqueue(job, () => this.reconcile(job, { current: false }));
    for (const job of this.options.jobs) {
      const task = cron.schedule(
        job.cron,
        () => {
          void this.enqueue(job, () => this.reconcile(job, { current: true })).catch((error: unknown) =>
            this.options.context.log(`job ${job.name}: ${(error as Error).message}`),
          );
        },
        { timezone: job.timezone, name: `tributary:${job.name}`, noOverlap: false },
      );
      this.tasks.push(task);
    }
  }

  /** Stops ticking, lets runs in progress finish for `graceMs`, then aborts them (recorded as interrupted). */
  async stop(graceMs: number): Promise<void> {
    for (const task of this.tasks) await task.destroy();
    this.tasks.length = 0;
    const pending = Promise.allSettled([...this.chains.values()]);
    const timer = setTimeout(() => this.stopping.abort(), graceMs);
    await pending;
    clearTimeout(timer);
    this.stopping.abort();
  }

  private enqueue<T>(job: JobDefinition, action: () => Promise<T>): Promise<T> {
    const previous = this.chains.get(job.name) ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(action);
    this.chains.set(job.name, next);
    return next;
  }

  /**
   * Under the job's lease: marks runs left running as interrupted and runs their times again,
   * applies the catch-up policy to times missed since the last recorded one, and (on a tick) runs
   * the current scheduled time. Returns the runs it recorded; none when another process holds the lease.
   */
  async reconcile(job: JobDefinition, { current }: { current: boolean }): Promise<RunRecord[]> {
    if (this.stopping.signal.aborted) return [];
    const schedule = this.scheduleOf(job.name);
    const now = this.now();
    if (!(await this.options.lease.tryAcquire(job.name))) return [];
    try {
      const recorded: RunRecord[] = [];
      const kept = this.overviews.get(job.name);
      // Taken out until this reconciliation ends well: a failure half-way reads the store next time.
      this.overviews.delete(job.name);
      const overview =
        kept && this.options.lease.undisturbed(job.name) ? kept : await this.options.store.overview(job.name);
      const { running: interrupted, last, lastRuns } = overview;
      const marked: RunRecord[] = [];
      for (const run of interrupted) {
        const mark: RunRecord = { ...run, status: 'interrupted', finishedAt: run.finishedAt ?? now };
        marked.push(mark);
        await this.options.store.save(mark);
        this.options.context.log(
          `job ${job.name}: the run for ${run.scheduledFor.toISOString()} (attempt ${run.attempt} on ${run.host}) was interrupted; running it again`,
        );
      }
      const rerun = new Set(interrupted.map((run) => run.scheduledFor.getTime()));
      for (const time of rerun) recorded.push(...(await this.runSettling(job, new Date(time), {})));
      // The runs of a time as far as the overview tells them, so a tick asks the store once: no
      // process records runs of this job while this one holds the lease. None after the last
      // recorded time; the overview's at it, unless an interrupted run there was just run again.
      const known = (time: Date): RunRecord[] | undefined => {
        if (rerun.has(time.getTime())) return undefined;
        if (last === undefined || time.getTime() > last.getTime()) return [];
        return time.getTime() === last.getTime() ? lastRuns : undefined;
      };
      const latest = schedule.latestAtOrBefore(now, Math.max(3_600_000, schedule.stepMs * 2));
      if (last !== undefined) {
        const missed = schedule
          .timesBetween(last, now, this.options.maxCatchUp ?? 100)
          .filter((time) => !(current && time.getTime() === latest?.getTime()));
        const plan = planCatchUp(missed, job.catchUp);
        for (const time of plan.skip) recorded.push(await this.recordSkipped(job, time));
        for (const time of plan.run)
          recorded.push(...(await this.runSettling(job, time, {}, { known: known(time) })));
      }
      if (current && latest !== undefined)
        recorded.push(...(await this.runSettling(job, latest, {}, { known: known(latest) })));
      const left = overviewAfter(overview, [...marked, ...recorded]);
      if (left && !this.stopping.signal.aborted) this.overviews.set(job.name, left);
      return recorded;
    } finally {
      await this.options.lease.release(job.name);
    }
  }

  /** `jobs run NAME`: one run now (or for `--as-of DAY`) under the lease; a dry run records nothing. */
  async runNow(
    jobName: string,
    request: RunRequest = {},
  ): Promise<{ run?: RunRecord; outcome?: JobOutcome }> {
    const job = this.options.jobs.find((candidate) => candidate.name === jobName);
    if (!job) throw new TributaryError(`no job named "${jobName}"; see "tributary jobs list"`);
    const scheduledFor =
      request.asOfDay !== undefined
        ? endOfDay(request.asOfDay, job.timezone)
        : new Date(Math.floor(this.now().getTime() / 1000) * 1000);
    if (request.dryRun) {
      const outcome = await job.kind.run(
        job.options,
        this.contextFor(job, scheduledFor, request, this.stopping.signal),
      );
      return { outcome };
    }
    if (!(await this.options.lease.tryAcquire(job.name)))
      throw new TributaryError(`job ${job.name} is running in another process; try again when it is done`, {
        retriable: true,
      });
    this.overviews.delete(job.name);
    try {
      const runs = await this.runSettling(job, scheduledFor, request, { force: true });
      return { run: runs.at(-1) };
    } finally {
      await this.options.lease.release(job.name);
    }
  }

  private contextFor(
    job: JobDefinition,
    scheduledFor: Date,
    request: RunRequest,
    signal: AbortSignal,
  ): JobContext {
    return {
      ...this.options.context,
      job: job.name,
      scheduledFor,
      asOfDay: request.asOfDay ?? dayIn(scheduledFor, job.timezone),
      dryRun: request.dryRun ?? false,
      signal,
    };
  }

  private async recordSkipped(job: JobDefinition, scheduledFor: Date): Promise<RunRecord> {
    const run: RunRecord = {
      runId: randomUUID(),
      job: job.name,
      kind: job.kind.name,
      scheduledFor,
      startedAt: null,
      finishedAt: this.now(),
      status: 'skipped',
      attempt: 0,
      willRetry: false,
      rowsAffected: 0,
      error: `missed while no scheduler ran (catchUp: ${job.catchUp})`,
      host: HOST,
    };
    await this.options.store.save(run);
    return run;
  }

  /**
   * Runs the scheduled time unless it is settled, with retries (backoff) for retriable failures.
   * `force` runs it even when settled (a manual re-run; every job is idempotent for its time);
   * `known`, the time's runs when the caller already has them (else they are read).
   */
  private async runSettling(
    job: JobDefinition,
    scheduledFor: Date,
    request: RunRequest,
    { force = false, known }: { force?: boolean; known?: RunRecord[] } = {},
  ): Promise<RunRecord[]> {
    const previous = known ?? (await this.options.store.runsFor(job.name, [scheduledFor]));
    if (!force && previous.some(isSettled)) return [];
    let attempt = previous.reduce((max, run) => Math.max(max, run.attempt), 0);
    const recorded: RunRecord[] = [];
    for (let tries = 0; ; tries++) {
      if (this.stopping.signal.aborted) return recorded;
      attempt += 1;
      const run = await this.attempt(job, scheduledFor, attempt, request, tries < job.retries);
      recorded.push(run);
      if (!run.willRetry) return recorded;
      const wait = (this.options.retryFirstMs ?? 5000) * 2 ** tries;
      this.options.context.log(
        `job ${job.name}: attempt ${attempt} failed (${run.error}); trying again in ${wait} ms`,
      );
      await sleep(wait, undefined, { signal: this.stopping.signal }).catch(() => undefined);
    }
  }

  private async attempt(
    job: JobDefinition,
    scheduledFor: Date,
    attempt: number,
    request: RunRequest,
    mayRetry: boolean,
  ): Promise<RunRecord> {
    const startedAt = this.now();
    const run: RunRecord = {
      runId: randomUUID(),
      job: job.name,
      kind: job.kind.name,
      scheduledFor,
      startedAt,
      finishedAt: null,
      status: 'running',
      attempt,
      willRetry: false,
      rowsAffected: 0,
      error: '',
      host: HOST,
    };
    await this.options.store.save(run);
    const abort = new AbortController();
    const onStop = () => abort.abort(this.stopping.signal.reason);
    this.stopping.signal.addEventListener('abort', onStop);
    const timer = setTimeout(
      () =>
        abort.abort(new JobTimeoutError(`timed out after ${job.timeoutMs / 1000} s`, { retriable: true })),
      job.timeoutMs,
    );
    let finished: RunRecord;
    try {
      const outcome = await Promise.race([
        job.kind.run(job.options, this.contextFor(job, scheduledFor, request, abort.signal)),
        new Promise<never>((_, reject) =>
          abort.signal.addEventListener('abort', () => reject(abort.signal.reason as Error), { once: true }),
        ),
      ]);
      finished = { ...run, status: 'succeeded', finishedAt: this.now(), rowsAffected: outcome.rowsAffected };
    } catch (error) {
      const stopped = this.stopping.signal.aborted;
      const retriable = error instanceof TributaryError && error.retriable;
      finished = {
        ...run,
        status: stopped ? 'interrupted' : 'failed',
        finishedAt: this.now(),
        willRetry: !stopped && retriable && mayRetry,
        error: error instanceof Error ? error.message : String(error),
      };
    } finally {
      clearTimeout(timer);
      this.stopping.signal.removeEventListener('abort', onStop);
    }
    await this.options.store.save(finished);
    this.options.observer?.runFinished?.(
      finished,
      (finished.finishedAt!.getTime() - startedAt.getTime()) / 1000,
    );
    this.options.context.log(
      `job ${job.name} for ${scheduledFor.toISOString()}: ${finished.status}` +
        (finished.status === 'succeeded'
          ? ` (${finished.rowsAffected} rows)`
          : finished.error
            ? `: ${finished.error}`
            : ''),
    );
    return finished;
  }
}

/**
 * The overview once `recorded` (the latest state of each run saved, in order) is in the store, as
 * the store would give it; undefined when a run is left running (its state is the store's to tell).
 */
export function overviewAfter(before: RunOverview, recorded: readonly RunRecord[]): RunOverview | undefined {
  const runs = new Map<string, RunRecord>();
  for (const run of [...before.running, ...before.lastRuns, ...recorded]) runs.set(run.runId, run);
  const all = [...runs.values()];
  if (all.some((run) => run.status === 'running')) return undefined;
  const last = all.reduce<number | undefined>(
    (max, run) => Math.max(max ?? -Infinity, run.scheduledFor.getTime()),
    before.last?.getTime(),
  );
  return {
    running: [],
    last: last === undefined ? undefined : new Date(last),
    lastRuns: all.filter((run) => run.scheduledFor.getTime() === last).sort((a, b) => a.attempt - b.attempt),
  };
}

/** The end of `day` in `timezone` (the moment a run "as of" that day is for). */
export function endOfDay(day: string, timezone: string): Date {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(day))
    throw new TributaryError(`--as-of must be a day like 2026-01-31, got "${day}"`);
  const next = new Date(`${day}T00:00:00Z`);
  next.setUTCDate(next.getUTCDate() + 1);
  // Shift by the zone's offset at that moment (twice: the offset may differ across the shift).
  let guess = next.getTime();
  for (let i = 0; i < 2; i++) guess = next.getTime() - offsetMs(new Date(guess), timezone);
  return new Date(guess - 1);
}

function offsetMs(time: Date, timezone: string): number {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone: timezone,
    hourCycle: 'h23',
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    minute: 'numeric',
    second: 'numeric',
  }).formatToParts(time);
  const get = (type: string) => Number(parts.find((part) => part.type === type)?.value ?? 0);
  return (
    Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second')) -
    Math.floor(time.getTime() / 1000) * 1000
  );
}
