// Lands changes through the sink with the rules every source shares: what cannot land becomes a
// dead letter and the rest flows on; a warehouse that fails (or a key change waiting for its other
// half) is retried with backoff, one clear line per attempt, until it works or the run stops;
// anything else stops the run.
import { setTimeout as sleep } from 'node:timers/promises';
import { TributaryError } from '../../errors/index.ts';
import { CaptureError } from '../errors.ts';
import { boundHeapGrowth, HEAP_GROWING_PERCENT } from './heap-growth.ts';
import type { LandingBatch, LandingSink } from './sink.ts';
import type { LandingObserver, Rejection, SourceChange } from './types.ts';

/** Backoff between landing attempts: doubling from half a second, at most half a minute. */
export const RETRY_FIRST_MS = 500;
export const RETRY_MAX_MS = 30_000;

export interface LanderOptions {
  pipeline: string;
  sink: LandingSink;
  signal?: AbortSignal;
  observer?: LandingObserver;
  /** Shorter waits for tests; production uses the defaults above. */
  retryFirstMs?: number;
  retryMaxMs?: number;
  /**
   * How far the process's old generation may grow past its live size between full collections, in
   * percent (heap-growth.ts; default HEAP_GROWING_PERCENT, 0 gives V8 its own heuristic back). It
   * applies to the whole process, from the first Lander on: snapshots and streams alike.
   */
  heapGrowingPercent?: number;
}

export interface LandOutcome {
  changes: number;
  deadLetters: number;
  byTable: Map<string, number>;
}

export class Lander {
  constructor(private readonly options: LanderOptions) {
    boundHeapGrowth(options.heapGrowingPercent ?? HEAP_GROWING_PERCENT);
  }

  get pipeline(): string {
    return this.options.pipeline;
  }

  get sink(): LandingSink {
    return this.options.sink;
  }

  /**
   * Lands `changes` (and records `rejected` as dead letters) under `tokenBase`; `stream` names
   * where they come from in messages. Retries retriable failures until it works or the run stops.
   */
  async land(
    stream: string,
    changes: readonly SourceChange[],
    rejected: readonly Rejection[],
    tokenBase: string,
  ): Promise<LandOutcome> {
    const batch: LandingBatch = { pipeline: this.options.pipeline, stream, token: tokenBase };
    return this.withRetries(stream, async () => {
      const outcome = await this.options.sink.write(changes, batch);
      if (outcome.unfilled.length > 0)
        this.options.observer?.warn?.(
          `${stream}: ${outcome.unfilled.length} unchanged value(s) had no earlier version in the mirror and were stored as NULL: ${outcome.unfilled.slice(0, 3).join(', ')}`,
        );
      const letters = [...rejected, ...outcome.rejected];
      if (letters.length > 0) {
        await this.options.sink.deadLetter(letters, batch);
        const reason = letters[0]?.reason ?? '';
        this.options.observer?.deadLettered?.({ stream, count: letters.length, reason });
        this.options.observer?.warn?.(
          `${stream}: ${letters.length} change(s) sent to the dead letters: ${reason}`,
        );
      }
      const byTable = new Map<string, number>();
      const refused = new Set(outcome.rejected.map((rejection) => rejection.change));
      for (const change of changes)
        if (!refused.has(change)) byTable.set(change.table, (byTable.get(change.table) ?? 0) + 1);
      return { changes: changes.length - outcome.rejected.length, deadLetters: letters.length, byTable };
    });
  }

  /** Runs `action`, again after a backoff while it fails in a way retrying can mend. */
  async withRetries<T>(stream: string, action: () => Promise<T>): Promise<T> {
    const first = this.options.retryFirstMs ?? RETRY_FIRST_MS;
    const max = this.options.retryMaxMs ?? RETRY_MAX_MS;
    for (let attempt = 0; ; attempt++) {
      try {
        const result = await action();
        if (attempt > 0)
          this.options.observer?.log?.(`${stream}: the warehouse accepts again (after ${attempt} retries)`);
        return result;
      } catch (error) {
        if (!(error instanceof TributaryError) || !error.retriable) throw error;
        if (this.options.signal?.aborted)
          throw new CaptureError(`${stream}: stopped while landing was failing: ${error.message}`, {
            cause: error,
            retriable: true,
          });
        const ms = Math.min(max, first * 2 ** attempt);
        this.options.observer?.retrying?.({ stream, ms, reason: error.message });
        this.options.observer?.warn?.(`${stream}: ${error.message}; trying again in ${ms} ms`);
        await sleep(ms, undefined, { signal: this.options.signal }).catch(() => undefined);
      }
    }
  }
}
