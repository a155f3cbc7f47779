// The one landing runner: follows a stream, lands whole units in batches bounded by changes, bytes
// and age, records each batch as a write intent before it lands, acknowledges the source only after
// the warehouse accepted, and after a restart rebuilds the recorded batch exactly (same units, same
// tokens) so what had landed of it is dropped as a repeat. One batch lands while the next fills.
// A stream the source keeps no position for has its state stored by the next batch's intent, or once
// the stream is idle or stops: one checkpoint write per batch while changes keep coming.
import { z } from 'zod';
import { InvariantError, TributaryError } from '../../errors/index.ts';
import { CheckpointError } from '../../warehouse/index.ts';
import { CaptureError } from '../errors.ts';
import type { Lander } from './lander.ts';
import type {
  ChangeStream,
  LandingObserver,
  ReadUnit,
  StreamCheckpoint,
  StreamCodec,
  WriteIntent,
} from './types.ts';

/** Defaults every source shares, defined once. */
export const BATCH_DEFAULTS = {
  /**
   * Land once this many changes are waiting… (bench:batch-limits, 100k changes: 20k rows and 16 MiB
   * peaked at the engine's idle footprint + 288 MB, these at + 199 MB, at 0.95 of the rate)
   */
  rows: 5_000,
  /** …or this many bytes of them (rows of large values keep memory bounded)… */
  bytes: 4 * 1024 * 1024,
  /** …or once the oldest waiting change is this old. */
  delayMs: 200,
} as const;

export interface FollowOptions {
  lander: Lander;
  batchRows?: number;
  batchBytes?: number;
  batchDelayMs?: number;
  /** Stops taking units; what was read lands and is acknowledged before `followStream` returns. */
  signal?: AbortSignal;
  /**
   * Stops at once, landing and acknowledging nothing more (the stream was handed to another
   * reader, which rebuilds the recorded batch): a landing already under way only finishes.
   */
  abandon?: AbortSignal;
  observer?: LandingObserver;
}

export interface FollowResult {
  /** Units landed (messages, transactions, events). */
  units: number;
  changes: number;
  batches: number;
  deadLetters: number;
}

/** The zod schema of a stream's checkpoint, from the stream's own position and state schemas. */
export function checkpointSchema<P, S>(codec: StreamCodec<P, S>): z.ZodType<StreamCheckpoint<P, S>> {
  const intent = z.object({
    first: codec.position,
    last: codec.position,
    units: z.number().int().positive(),
    stateBefore: codec.state.optional(),
    stateAfter: codec.state.optional(),
    attempts: z.number().int().positive(),
  });
  return z.object({ state: codec.state.optional(), intent: intent.optional() }) as z.ZodType<
    StreamCheckpoint<P, S>
  >;
}

export function followStream<P, S, U extends ReadUnit<P, S>>(
  stream: ChangeStream<P, S, U>,
  options: FollowOptions,
): Promise<FollowResult> {
  return new StreamFollower(stream, options).run();
}

class StreamFollower<P, S, U extends ReadUnit<P, S>> {
  private readonly result: FollowResult = { units: 0, changes: 0, batches: 0, deadLetters: 0 };
  private readonly limits: { rows: number; bytes: number; delayMs: number };
  private readonly pipeline: string;
  private pending: U[] = [];
  private pendingChanges = 0;
  private pendingBytes = 0;
  private pendingSince = 0;
  /** Fires flushIfDue when the waiting batch, or the state held back while idle, is due. */
  private flushTimer: NodeJS.Timeout | undefined;
  private landing: Promise<void> | undefined;
  private failure: Error | undefined;
  /** The reader's state before the next batch (after the last unit handed to a batch). */
  private stateBefore: S | undefined;
  /** A recorded batch to rebuild before anything else, and the units of it read so far. */
  private recorded: { intent: WriteIntent<P, S>; units: U[] } | undefined;
  /**
   * The state after the last landed batch, not stored yet (a stream the source keeps no position
   * for). Until it is, the stored checkpoint is that batch's intent: a restart rebuilds the batch
   * and its tokens drop it as a repeat, so holding it back costs a replay, never a change.
   */
  private unstored: S | undefined;
  /** When the last batch landed: the state it left is stored once nothing came for batchDelayMs. */
  private landedAt = 0;

  constructor(
    private readonly stream: ChangeStream<P, S, U>,
    private readonly options: FollowOptions,
  ) {
    this.pipeline = options.lander.pipeline;
    this.limits = {
      rows: options.batchRows ?? BATCH_DEFAULTS.rows,
      bytes: options.batchBytes ?? BATCH_DEFAULTS.bytes,
      delayMs: options.batchDelayMs ?? BATCH_DEFAULTS.delayMs,
    };
  }

  async run(): Promise<FollowResult> {
    await this.restore();
    const units = this.stream.read(this.stateBefore);
    const reader = new InterruptibleReader(units, [this.options.signal, this.options.abandon]);
    try {
      while (!this.failure && !this.options.signal?.aborted && !this.abandoned) {
        const next = await reader.next();
        if (next === STOP || next.done) break;
        await this.accept(next.value);
      }
      // Stopping or caught up: what was read lands (a recorded batch only whole).
      if (!this.failure && !this.abandoned) await this.flush();
      while (this.landing) await this.landing;
      if (!this.failure && this.unstored !== undefined) this.serialise(this.storeState());
      while (this.landing) await this.landing;
    } finally {
      clearTimeout(this.flushTimer);
      reader.close();
      await units.return?.();
    }
    if (this.failure) throw this.failure;
    return this.result;
  }

  /** Reads the stream's checkpoint: its state, and a recorded batch the source may still resend. */
  private async restore(): Promise<void> {
    const schema = checkpointSchema(this.stream.codec);
    let stored: StreamCheckpoint<P, S> | undefined;
    try {
      stored = await this.options.lander.sink.readCheckpoint(this.pipeline, this.stream.id, schema);
    } catch (error) {
      if (!(error instanceof CheckpointError)) throw error;
      this.warn(`${error.message}; starting from the source's position`);
    }
    const intent = stored?.intent;
    this.stateBefore = stored?.state;
    if (!intent || (this.stream.owns && !this.stream.owns(intent))) return;
    // The source acknowledged past the recorded batch (a clean stop): nothing to rebuild.
    if (this.stream.acknowledgedAtSource && (await this.stream.isAcknowledged?.(intent.last))) {
      this.stateBefore = intent.stateAfter ?? intent.stateBefore ?? this.stateBefore;
      return;
    }
    this.stateBefore = intent.stateBefore;
    this.recorded = { intent, units: [] };
    const { text } = this.stream.codec;
    this.log(
      `${this.stream.id}: resuming: the batch ${text(intent.first)}–${text(intent.last)} is rebuilt with its recorded tokens`,
    );
  }

  private async accept(unit: U): Promise<void> {
    const idle = this.pending.length === 0 && !this.landing && !this.recorded;
    if (unit.heartbeat) {
      // Only a stream with nothing waiting or landing may move to the position a keepalive reports.
      if (idle) await this.acknowledge(unit);
      return;
    }
    if (this.recorded) return this.rebuild(this.recorded, unit);
    if (idle && unit.changes.length === 0 && !unit.rejected?.length && !unit.snapshotCompleted) {
      // An event with nothing to land (an ignored kind): the source may move past it. A snapshot
      // part's end is landed as a batch (alone, here), so the sink is told before it is acknowledged.
      await this.acknowledge(unit);
      this.stateBefore = unit.stateAfter ?? this.stateBefore;
      return;
    }
    if (this.pending.length === 0) {
      this.pendingSince = Date.now();
      // Timed from this change, not by a periodic check: a check every `delayMs` let a batch wait
      // up to twice that (freshness, bench:kafka).
      this.armFlush(this.pendingSince);
    }
    this.pending.push(unit);
    this.pendingChanges += unit.changes.length;
    this.pendingBytes += unit.bytes;
    if (this.pendingChanges >= this.limits.rows || this.pendingBytes >= this.limits.bytes) await this.flush();
  }

  /** Collects the recorded batch's units again, then lands it alone under its recorded tokens. */
  private async rebuild(recorded: { intent: WriteIntent<P, S>; units: U[] }, unit: U): Promise<void> {
    const { compare, text } = this.stream.codec;
    const { intent, units } = recorded;
    // Resent although it landed before the recorded batch.
    if (units.length === 0 && compare(unit.position, intent.first) < 0) return;
    if (
      compare(unit.position, intent.last) > 0 ||
      (units.length === 0 && compare(unit.position, intent.first) > 0)
    )
      throw this.fail(
        new CaptureError(
          `${this.stream.id}: the source did not resend the recorded batch ${text(intent.first)}–${text(intent.last)} ` +
            `as it was (it sent ${text(unit.position)}); refusing to guess what landed`,
        ),
      );
    units.push(unit);
    if (units.length < intent.units) return;
    if (compare(unit.position, intent.last) !== 0)
      throw this.fail(
        new CaptureError(
          `${this.stream.id}: the rebuilt batch ends at ${text(unit.position)}, not at the recorded ${text(intent.last)}`,
        ),
      );
    this.recorded = undefined;
    this.startLanding(units, { ...intent, attempts: intent.attempts + 1 });
    this.stateBefore = intent.stateAfter ?? unit.stateAfter ?? this.stateBefore;
  }

  /**
   * Lands the waiting batch once its oldest change is `delayMs` old; idle, stores the state held
   * back once the last landing is `delayMs` old, as the next batch's intent would have stored it.
   * Called by the timer and after each landing (a landing under way ends first).
   */
  private flushIfDue(): void {
    if (this.landing || this.recorded) return;
    const since = this.pending.length > 0 ? this.pendingSince : this.landedAt;
    if (this.pending.length === 0 && this.unstored === undefined) return;
    // A timer may fire a millisecond before the clock says the delay is up: wait the rest.
    if (Date.now() - since < this.limits.delayMs) return this.armFlush(since);
    if (this.pending.length > 0) void this.flush();
    else this.serialise(this.storeState());
  }

  private armFlush(since: number): void {
    clearTimeout(this.flushTimer);
    const remaining = since + this.limits.delayMs - Date.now();
    this.flushTimer = setTimeout(() => this.flushIfDue(), Math.max(0, remaining));
  }

  /** Stores the state held back since the last landed batch, if any. */
  private async storeState(): Promise<void> {
    const state = this.unstored;
    this.unstored = undefined;
    if (state !== undefined && !this.abandoned) await this.writeState(state);
  }

  private writeState(state: S): Promise<void> {
    const checkpoint: StreamCheckpoint<P, S> = { state };
    return this.options.lander.withRetries(this.stream.id, () =>
      this.options.lander.sink.writeCheckpoint(this.pipeline, this.stream.id, checkpoint),
    );
  }

  /** Lands what is waiting, once the batch in flight has landed. */
  private async flush(): Promise<void> {
    while (this.landing) await this.landing;
    if (this.failure || this.pending.length === 0) return;
    const units = this.pending;
    this.pending = [];
    this.pendingChanges = 0;
    this.pendingBytes = 0;
    const last = units.at(-1) as U;
    const intent: WriteIntent<P, S> = {
      first: (units[0] as U).position,
      last: last.position,
      units: units.length,
      stateBefore: this.stateBefore,
      stateAfter: last.stateAfter ?? this.stateBefore,
      attempts: 1,
    };
    this.stateBefore = intent.stateAfter;
    this.startLanding(units, intent);
  }

  private startLanding(units: U[], intent: WriteIntent<P, S>): void {
    this.serialise(this.land(units, intent));
  }

  /** Runs `work` as the one warehouse write in flight: a flush waits for it. */
  private serialise(work: Promise<void>): void {
    this.landing = work
      .catch((error: Error) => {
        this.fail(error);
      })
      .finally(() => {
        this.landing = undefined;
        this.flushIfDue();
      });
  }

  private async land(units: U[], intent: WriteIntent<P, S>): Promise<void> {
    if (this.abandoned) return;
    const { lander } = this.options;
    const { text } = this.stream.codec;
    const checkpoint: StreamCheckpoint<P, S> = { state: intent.stateBefore, intent };
    // The intent stores the state before the batch: the state held back, or one newer.
    this.unstored = undefined;
    await lander.withRetries(this.stream.id, () =>
      lander.sink.writeCheckpoint(this.pipeline, this.stream.id, checkpoint),
    );
    const changes = units.flatMap((unit) => unit.changes);
    const rejected = units.flatMap((unit) => unit.rejected ?? []);
    const tokenBase = `${this.pipeline}:${this.stream.id}:${text(intent.first)}-${text(intent.last)}`;
    let outcome;
    try {
      outcome = await lander.land(this.stream.id, changes, rejected, tokenBase);
    } catch (error) {
      if (this.abandoned) return;
      throw intent.attempts > 1 ? repeatedFailure(this.stream.id, intent, text, error as Error) : error;
    }
    if (this.abandoned) return;
    for (const { snapshotCompleted: completed } of units)
      if (completed)
        await lander.withRetries(this.stream.id, () =>
          lander.sink.completeSnapshot(completed.version, [completed.table], completed.part),
        );
    if (this.abandoned) return;
    await this.options.lander.withRetries(this.stream.id, () => this.stream.acknowledge(units.at(-1) as U));
    if (!this.stream.acknowledgedAtSource) {
      this.unstored = intent.stateAfter;
      this.landedAt = Date.now();
    }
    this.result.units += units.length;
    this.result.changes += outcome.changes;
    this.result.deadLetters += outcome.deadLetters;
    this.result.batches++;
    this.options.observer?.landed?.({
      stream: this.stream.id,
      changes: outcome.changes,
      byTable: outcome.byTable,
      newestSourceMs: changes.at(-1)?.envelope.source.ts_ms,
    });
  }

  /** The source may forget everything up to `unit`; a stream the source does not track stores its state. */
  private async acknowledge(unit: U): Promise<void> {
    await this.options.lander.withRetries(this.stream.id, () => this.stream.acknowledge(unit));
    // Taken before the write: what the idle timer could store meanwhile is only ever older.
    const state = unit.stateAfter ?? this.unstored;
    this.unstored = undefined;
    if (!this.stream.acknowledgedAtSource && state !== undefined) await this.writeState(state);
  }

  private get abandoned(): boolean {
    return this.options.abandon?.aborted === true;
  }

  private fail(error: Error): Error {
    this.failure ??= error;
    return error;
  }

  private log(message: string): void {
    this.options.observer?.log?.(message);
  }

  private warn(message: string): void {
    this.options.observer?.warn?.(message);
  }
}

const STOP = Symbol('stop');

/**
 * Reads the next unit, or STOP once a signal aborts. One listener per signal for the whole run
 * settles whichever read is waiting: adding and removing listeners for every unit cost more than
 * the rest of the runner's work per unit. (A `Promise.race` against one long-lived abort promise
 * would keep a reaction, and through it every unit ever read, reachable until the stream ends.)
 */
class InterruptibleReader<T> {
  private readonly signals: AbortSignal[];
  /** Settles the read under way with STOP. */
  private interrupt: (() => void) | undefined;
  private readonly onAbort = () => this.interrupt?.();

  constructor(
    private readonly units: AsyncIterator<T>,
    signals: (AbortSignal | undefined)[],
  ) {
    this.signals = signals.filter((signal) => signal !== undefined);
    for (const signal of this.signals) signal.addEventListener('abort', this.onAbort, { once: true });
  }

  next(): Promise<IteratorResult<T> | typeof STOP> {
    if (this.signals.some((signal) => signal.aborted)) return Promise.resolve(STOP);
    return new Promise((resolve, reject) => {
      this.interrupt = () => resolve(STOP);
      this.units
        .next()
        .then(resolve, (error: unknown) =>
          reject(
            error instanceof Error
              ? error
              : new InvariantError(`a change stream failed with ${String(error)}`),
          ),
        );
    });
  }

  close(): void {
    this.interrupt = undefined;
    for (const signal of this.signals) signal.removeEventListener('abort', this.onAbort);
  }
}

/**
 * A recorded batch that fails again once rebuilt fails the same way on every restart: say so, with
 * the batch, instead of letting a supervisor restart the capture in a silent loop.
 */
function repeatedFailure<P, S>(
  stream: string,
  intent: WriteIntent<P, S>,
  text: (position: P) => string,
  error: Error,
): Error {
  return new CaptureError(
    `${stream}: the batch ${text(intent.first)}–${text(intent.last)} failed again after ${intent.attempts - 1} ` +
      `restart(s), and will fail the same way on every restart until its cause is fixed: ${error.message}`,
    { cause: error, retriable: error instanceof TributaryError && error.retriable },
  );
}
