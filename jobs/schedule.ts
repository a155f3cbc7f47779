// Cron times as node-cron reads them: which scheduled times fall in a window (missed runs after
// downtime), the latest one at or before now (a tick's identity), and what a catch-up policy does
// with the missed ones.
import cron, { type ScheduledTask } from 'node-cron';
import { JobDefinitionError } from './kinds.ts';

export type CatchUp = 'all' | 'latest' | 'none';

/** A cron expression in a time zone; throws with node-cron's reasons when it does not parse. */
export class CronSchedule {
  readonly task: ScheduledTask;
  /** Six fields have a seconds field: times are whole seconds; five fields, whole minutes. */
  readonly stepMs: number;

  constructor(
    readonly expression: string,
    readonly timezone: string,
  ) {
    const validation = cron.validateDetailed(expression);
    if (!validation.valid)
      throw new JobDefinitionError(
        `"${expression}" is not a cron expression: ${validation.errors.map((error) => `${error.field} ${error.message}`).join('; ')}`,
      );
    this.stepMs = expression.trim().split(/\s+/).length === 6 ? 1000 : 60_000;
    this.task = cron.createTask(expression, () => undefined, { timezone });
  }

  matches(time: Date): boolean {
    return this.task.match(time);
  }

  /** Scheduled times t with after < t ≤ upTo, oldest first, at most `limit` (the newest ones). */
  timesBetween(after: Date, upTo: Date, limit: number): Date[] {
    const times: Date[] = [];
    // Walk back from the newest so a long outage costs `limit` matches, not the whole window.
    for (let t = this.floor(upTo.getTime()); t > after.getTime() && times.length < limit; t -= this.stepMs)
      if (this.matches(new Date(t))) times.push(new Date(t));
    return times.reverse();
  }

  /** The newest scheduled time at or before `time`, searching at most `lookbackMs` back. */
  latestAtOrBefore(time: Date, lookbackMs = 3_600_000): Date | undefined {
    for (let t = this.floor(time.getTime()); t >= time.getTime() - lookbackMs; t -= this.stepMs)
      if (this.matches(new Date(t))) return new Date(t);
    return undefined;
  }

  /** The next `count` scheduled times after now. */
  next(count = 1): Date[] {
    return this.task.getNextRuns(count);
  }

  private floor(ms: number): number {
    return Math.floor(ms / this.stepMs) * this.stepMs;
  }
}

/** Missed times split into those to run now and those to record as skipped. */
export function planCatchUp(missed: readonly Date[], policy: CatchUp): { run: Date[]; skip: Date[] } {
  if (policy === 'all') return { run: [...missed], skip: [] };
  if (policy === 'none') return { run: [], skip: [...missed] };
  return { run: missed.slice(-1), skip: missed.slice(0, -1) };
}

const dayFormats = new Map<string, Intl.DateTimeFormat>();

/** `YYYY-MM-DD` of `time` in `timezone` (formatters are cached: write-backs call this per row). */
export function dayIn(time: Date, timezone: string): string {
  let format = dayFormats.get(timezone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-CA', {
      timeZone: timezone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
    });
    dayFormats.set(timezone, format);
  }
  return format.format(time);
}
