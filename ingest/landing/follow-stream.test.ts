// The landing runner against a fake source and a fake sink: fast, deterministic checks of what the
// integration tests cover slowly (batching limits, rebuilding a recorded batch after a crash at
// each step, backoff, shutdown, heartbeats). The fake sink drops a repeated token as ClickHouse does.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { CheckpointError } from '../../warehouse/index.ts';
import { WarehouseError } from '../../warehouse/errors.ts';
import { followStream, type FollowOptions } from './follow-stream.ts';
import { Lander } from './lander.ts';
import type { SnapshotPart } from '../../warehouse/index.ts';
import type { LandingBatch, LandingSink, SinkOutcome } from './sink.ts';
import type { ChangeStream, ReadUnit, SourceChange, StreamCodec } from './types.ts';

type Unit = ReadUnit<number, { after: number }>;

/** A change of table `t` at `version`. */
const change = (version: number): SourceChange => ({
  envelope: { op: 'c', after: { id: version }, source: { connector: 'test', name: 's', db: 'd', ts_ms: 0 } },
  version,
  table: 's.public.t',
});

/** Units 1…count, unit n holding n % 3 + 1 changes of 10 bytes each. */
function units(count: number): Unit[] {
  return Array.from({ length: count }, (_, index) => {
    const position = index + 1;
    const changes = Array.from({ length: (position % 3) + 1 }, (_, part) => change(position * 10 + part));
    return { changes, position, bytes: changes.length * 10, stateAfter: { after: position } };
  });
}

/** Where the fake fails: before or after a step of landing batch `batch` (1-based). */
type CrashPoint = { step: 'checkpoint' | 'write' | 'acknowledge'; batch: number };

class Crash extends Error {}

class FakeSink implements LandingSink {
  readonly description = 'memory';
  readonly tokens = new Set<string>();
  /** Changes that took effect (first write of each token). */
  readonly landed: number[] = [];
  readonly checkpoints = new Map<string, string>();
  readonly writes: string[] = [];
  /** Checkpoints written without a write intent: a stream's state alone. */
  stateWrites = 0;
  crash: CrashPoint | undefined;
  failures = 0;
  private batches = 0;

  async open(): Promise<void> {}
  async register(): Promise<string[]> {
    return [];
  }
  async write(changes: readonly SourceChange[], { token: tokenBase }: LandingBatch): Promise<SinkOutcome> {
    if (this.failures > 0) {
      this.failures--;
      throw new WarehouseError('connect ECONNREFUSED 127.0.0.1:8123', { retriable: true });
    }
    this.writes.push(tokenBase);
    if (!this.tokens.has(tokenBase)) {
      this.tokens.add(tokenBase);
      this.landed.push(...changes.map((item) => Number(item.version)));
    }
    if (this.crash?.step === 'write' && this.crash.batch === this.batches)
      throw new Crash('crash after write');
    return { rejected: [], unfilled: [] };
  }
  /** Each snapshot part the runner reported, with how many changes had taken effect by then. */
  readonly completedParts: { part: string; landedBefore: number }[] = [];
  async completeSnapshot(_version: unknown, _tables: unknown, part?: SnapshotPart): Promise<void> {
    this.completedParts.push({ part: part?.id ?? 'whole', landedBefore: this.landed.length });
  }
  async readCheckpoint<T>(pipeline: string, stream: string, schema: z.ZodType<T>): Promise<T | undefined> {
    const text = this.checkpoints.get(`${pipeline}/${stream}`);
    if (text === undefined) return undefined;
    const parsed = schema.safeParse(JSON.parse(text));
    if (!parsed.success) throw new CheckpointError('unreadable');
    return parsed.data;
  }
  async writeCheckpoint(pipeline: string, stream: string, state: unknown): Promise<void> {
    const isIntent = typeof state === 'object' && state !== null && 'intent' in state;
    if (isIntent) this.batches++;
    else this.stateWrites++;
    if (isIntent && this.crash?.step === 'checkpoint' && this.crash.batch === this.batches)
      throw new Crash('crash before write');
    this.checkpoints.set(`${pipeline}/${stream}`, JSON.stringify(state));
  }
  async deadLetter(): Promise<void> {}
  async close(): Promise<void> {}
}

const CODEC: StreamCodec<number, { after: number }> = {
  position: z.number(),
  state: z.object({ after: z.number() }),
  compare: (a, b) => a - b,
  text: String,
};

/**
 * A source keeping an acknowledged position (like a replication slot): reading starts after it,
 * so a restart gets again every unit not acknowledged.
 */
/** A promise held closed until `open` is called. */
function gate(): { closed: Promise<void>; open: () => void } {
  let open!: () => void;
  const closed = new Promise<void>((resolve) => (open = resolve));
  return { closed, open };
}

class FakeStream implements ChangeStream<number, { after: number }, Unit> {
  readonly id = 'stream';
  readonly codec = CODEC;
  acknowledged = 0;
  readonly reads: ({ after: number } | undefined)[] = [];
  crashOnAcknowledge: number | undefined;
  /** Awaited before each unit a read hands out, told how many it handed out before (a quiet source, a stop). */
  beforeUnit: (given: number) => Promise<void> | void = () => undefined;
  private acknowledgements = 0;

  constructor(
    private readonly all: Unit[],
    readonly acknowledgedAtSource = true,
    private readonly heartbeats: Map<number, Unit> = new Map(),
  ) {}

  async isAcknowledged(position: number): Promise<boolean> {
    return position <= this.acknowledged;
  }

  read(state: { after: number } | undefined): AsyncIterator<Unit> {
    this.reads.push(state);
    const from = this.acknowledgedAtSource ? this.acknowledged : (state?.after ?? 0);
    const queue = this.all
      .filter((unit) => unit.position > from)
      .flatMap((unit) => {
        const beat = this.heartbeats.get(unit.position);
        return beat ? [unit, beat] : [unit];
      });
    let given = 0;
    return {
      next: async () => {
        await this.beforeUnit(given++);
        await Promise.resolve();
        const value = queue.shift();
        return value ? { value, done: false } : { value: undefined, done: true };
      },
    };
  }

  async acknowledge(unit: Unit): Promise<void> {
    this.acknowledgements++;
    if (this.crashOnAcknowledge === this.acknowledgements) throw new Crash('crash before acknowledge');
    this.acknowledged = Math.max(this.acknowledged, unit.position);
  }
}

const options = (sink: FakeSink, extra: Partial<FollowOptions> = {}): FollowOptions => ({
  lander: new Lander({ pipeline: 'test', sink, retryFirstMs: 1, retryMaxMs: 4 }),
  batchRows: 10,
  batchBytes: 1_000_000,
  batchDelayMs: 1_000_000,
  ...extra,
});

const everyChange = (all: Unit[]) => all.flatMap((unit) => unit.changes.map((item) => Number(item.version)));

describe('the landing runner', () => {
  it('lands whole units in batches of at most batchRows changes, and acknowledges the last one', async () => {
    const sink = new FakeSink();
    const all = units(20);
    const stream = new FakeStream(all);
    const result = await followStream(stream, options(sink));
    expect(sink.landed).toEqual(everyChange(all));
    expect(result).toEqual({
      units: 20,
      changes: everyChange(all).length,
      batches: sink.writes.length,
      deadLetters: 0,
    });
    // Whole units: a batch closes at the first unit that reaches the limit.
    for (const token of sink.writes) {
      const [first, last] = token.split(':').at(-1)?.split('-').map(Number) as [number, number];
      const size = everyChange(all.filter((unit) => unit.position >= first && unit.position <= last)).length;
      expect(size).toBeLessThanOrEqual(10 + 2);
    }
    expect(stream.acknowledged).toBe(20);
  });

  it('closes a batch at the byte budget as well', async () => {
    const sink = new FakeSink();
    await followStream(new FakeStream(units(12)), options(sink, { batchRows: 1000, batchBytes: 50 }));
    expect(sink.writes.length).toBeGreaterThanOrEqual(4);
  });

  it('lands what waits once it is older than batchDelayMs, without waiting for the limits', async () => {
    const sink = new FakeSink();
    const all = units(3);
    const quiet = gate();
    const stream = new FakeStream(all);
    // The source delivers three units, then goes quiet until released.
    stream.beforeUnit = (given) => (given === 3 ? quiet.closed : undefined);
    const running = followStream(stream, options(sink, { batchRows: 1000, batchDelayMs: 20 }));
    await expect.poll(() => sink.landed.length, { timeout: 2000 }).toBe(everyChange(all).length);
    quiet.open();
    await running;
  });

  it('stores the state of a stream that keeps no position at the source once it has been idle for batchDelayMs', async () => {
    const sink = new FakeSink();
    const quiet = gate();
    const stream = new FakeStream(units(3), false);
    stream.beforeUnit = (given) => (given === 3 ? quiet.closed : undefined);
    const running = followStream(stream, options(sink, { batchRows: 1000, batchDelayMs: 20 }));
    await expect
      .poll(() => JSON.parse(sink.checkpoints.get('test/stream') ?? '{}'), { timeout: 2000 })
      .toEqual({ state: { after: 3 } });
    quiet.open();
    await running;
  });

  it('lands a waiting batch when it is batchDelayMs old, not at the next periodic check', async () => {
    vi.useFakeTimers();
    try {
      const sink = new FakeSink();
      const all = units(1);
      const quiet = gate();
      const stream = new FakeStream(all);
      // One unit 10 ms after the start, then nothing until released.
      stream.beforeUnit = (given) =>
        given === 0
          ? new Promise((resolve) => setTimeout(resolve, 10))
          : given === 1
            ? quiet.closed
            : undefined;
      const running = followStream(stream, options(sink, { batchRows: 1000, batchDelayMs: 1000 }));
      await vi.advanceTimersByTimeAsync(1009);
      expect(sink.landed).toEqual([]);
      // A check every 250 ms (the old timer) would have landed it at 1,250 ms.
      await vi.advanceTimersByTimeAsync(1);
      expect(sink.landed).toEqual(everyChange(all));
      quiet.open();
      await running;
    } finally {
      vi.useRealTimers();
    }
  });

  it('lands a waiting batch even when its timer fires before the clock says the delay is up', async () => {
    vi.useFakeTimers();
    try {
      const sink = new FakeSink();
      const all = units(1);
      const quiet = gate();
      const stream = new FakeStream(all);
      let asked = 0;
      stream.beforeUnit = (given) => {
        asked = given + 1;
        return given === 1 ? quiet.closed : undefined;
      };
      const running = followStream(stream, options(sink, { batchRows: 1000, batchDelayMs: 1000 }));
      await vi.advanceTimersByTimeAsync(0);
      expect(asked).toBe(2);
      // Node times timers from the event loop's cached time, which can lag the clock the runner reads.
      vi.setSystemTime(Date.now() - 5);
      await vi.advanceTimersByTimeAsync(1000);
      expect(sink.landed).toEqual([]);
      await vi.advanceTimersByTimeAsync(5);
      expect(sink.landed).toEqual(everyChange(all));
      quiet.open();
      await running;
    } finally {
      vi.useRealTimers();
    }
  });

  it.each([
    { step: 'checkpoint', batch: 2 },
    { step: 'write', batch: 2 },
    { step: 'acknowledge', batch: 2 },
  ] as const)(
    'after a crash ($step of batch $batch) a restart lands every change exactly once',
    async (crash) => {
      const all = units(20);
      const sink = new FakeSink();
      const stream = new FakeStream(all);
      if (crash.step === 'acknowledge') stream.crashOnAcknowledge = crash.batch;
      else sink.crash = crash;
      await expect(followStream(stream, options(sink))).rejects.toThrow(Crash);
      sink.crash = undefined;
      stream.crashOnAcknowledge = undefined;
      const logs: string[] = [];
      await followStream(stream, options(sink, { observer: { log: (message) => logs.push(message) } }));
      expect(sink.landed).toEqual(everyChange(all));
      expect(stream.acknowledged).toBe(20);
      // A batch recorded before the crash is rebuilt under its recorded token; one never recorded is not.
      if (crash.step === 'checkpoint') expect(logs).toEqual([]);
      else expect(logs).toEqual([expect.stringMatching(/^stream: resuming: the batch \d+–\d+ is rebuilt/)]);
      // Every batch was written under a token of its own range, and a rebuilt one under the same token.
      expect(new Set(sink.writes).size).toBe(sink.tokens.size);
    },
  );

  it("reports a unit's snapshot part once its batch has landed, before acknowledging, and again when the batch is rebuilt", async () => {
    const all = units(20);
    const marker = all[4] as Unit;
    marker.snapshotCompleted = {
      table: { source: 's', schema: 'public', table: 't', columns: [], key: ['id'] },
      version: 50,
      part: { id: '0', of: 3 },
    };
    const sink = new FakeSink();
    const stream = new FakeStream(all);
    stream.crashOnAcknowledge = 1;
    await expect(followStream(stream, options(sink))).rejects.toThrow(Crash);
    // Every change up to the marker had landed when it was reported; the source was not yet told.
    const upToMarker = everyChange(all.slice(0, 5)).length;
    expect(sink.completedParts).toEqual([{ part: '0', landedBefore: expect.any(Number) }]);
    expect(sink.completedParts[0]?.landedBefore).toBeGreaterThanOrEqual(upToMarker);
    expect(stream.acknowledged).toBe(0);
    stream.crashOnAcknowledge = undefined;
    await followStream(stream, options(sink));
    // The rebuilt batch reports its part again (the sink makes that a no-op), and only that batch.
    expect(sink.completedParts.map((reported) => reported.part)).toEqual(['0', '0']);
    expect(sink.landed).toEqual(everyChange(all));
  });

  it('reports a snapshot part whose unit carries no change and arrives while nothing waits to land', async () => {
    // A Kafka partition's marker after its rows' batches have all landed: a unit of its own.
    const marker: Unit = {
      changes: [],
      position: 1,
      bytes: 0,
      stateAfter: { after: 1 },
      snapshotCompleted: {
        table: { source: 's', schema: 'public', table: 't', columns: [], key: ['id'] },
        version: 50,
        part: { id: '0', of: 3 },
      },
    };
    const sink = new FakeSink();
    const stream = new FakeStream([marker]);
    await followStream(stream, options(sink));
    expect(sink.completedParts.map((reported) => reported.part)).toEqual(['0']);
    expect(stream.acknowledged).toBe(1);
  });

  it('rebuilds a recorded batch for a stream that keeps no position at the source, from the state before it', async () => {
    const all = units(15);
    const sink = new FakeSink();
    const stream = new FakeStream(all, false);
    sink.crash = { step: 'write', batch: 2 };
    await expect(followStream(stream, options(sink))).rejects.toThrow(Crash);
    sink.crash = undefined;
    await followStream(stream, options(sink));
    expect(sink.landed).toEqual(everyChange(all));
    // The restart read from the state recorded before the crashed batch.
    expect(stream.reads.at(-1)).toEqual(expect.objectContaining({ after: expect.any(Number) }));
    const stored = JSON.parse(sink.checkpoints.get('test/stream') ?? '{}');
    expect(stored).toEqual({ state: { after: 15 } });
  });

  it('stores the state of a stream that keeps no position at the source with the next batch, and once at the end', async () => {
    const all = units(60);
    const sink = new FakeSink();
    const stream = new FakeStream(all, false);
    await followStream(stream, options(sink));
    // One checkpoint write per batch (its intent) while units keep coming, not two.
    expect(sink.stateWrites).toBeGreaterThanOrEqual(1);
    expect(sink.stateWrites).toBeLessThan(sink.writes.length / 2);
    expect(JSON.parse(sink.checkpoints.get('test/stream') ?? '{}')).toEqual({ state: { after: 60 } });
    // A crash after a batch landed, before the next batch's intent: the restart rebuilds that
    // batch, and its tokens drop it as a repeat.
    const again = new FakeSink();
    again.crash = { step: 'checkpoint', batch: 3 };
    await expect(followStream(new FakeStream(all, false), options(again))).rejects.toThrow(Crash);
    expect(JSON.parse(again.checkpoints.get('test/stream') ?? '{}')).toHaveProperty('intent');
    again.crash = undefined;
    const landedBefore = again.landed.length;
    await followStream(new FakeStream(all, false), options(again));
    expect(landedBefore).toBeGreaterThan(0);
    expect(again.landed).toEqual(everyChange(all));
  });

  it('does not rebuild a batch the source acknowledged past (a clean stop)', async () => {
    const sink = new FakeSink();
    const stream = new FakeStream(units(10));
    await followStream(stream, options(sink));
    const logs: string[] = [];
    const writes = sink.writes.length;
    await followStream(stream, options(sink, { observer: { log: (message) => logs.push(message) } }));
    expect(logs).toEqual([]);
    expect(sink.writes.length).toBe(writes);
  });

  it('refuses to guess when the source does not resend the recorded batch as it was', async () => {
    const sink = new FakeSink();
    const all = units(10);
    const stream = new FakeStream(all);
    sink.crash = { step: 'write', batch: 1 };
    await expect(followStream(stream, options(sink))).rejects.toThrow(Crash);
    sink.crash = undefined;
    // The source lost a unit of the recorded batch.
    const changed = new FakeStream(all.filter((unit) => unit.position !== 2));
    await expect(followStream(changed, options(sink))).rejects.toThrow(
      /refusing to guess|not at the recorded/,
    );
  });

  it('says a rebuilt batch failed again after a restart, naming the batch', async () => {
    const sink = new FakeSink();
    const stream = new FakeStream(units(10));
    sink.crash = { step: 'write', batch: 1 };
    await expect(followStream(stream, options(sink))).rejects.toThrow(Crash);
    sink.crash = { step: 'write', batch: 2 };
    await expect(followStream(stream, options(sink))).rejects.toThrow(
      /stream: the batch 1–\d+ failed again after 1 restart\(s\), and will fail the same way on every restart/,
    );
  });

  it('retries a failing warehouse with a doubling backoff and lands everything once', async () => {
    const sink = new FakeSink();
    sink.failures = 3;
    const waits: number[] = [];
    const all = units(6);
    const observer = { retrying: ({ ms }: { ms: number }) => void waits.push(ms) };
    await followStream(
      new FakeStream(all),
      options(sink, {
        lander: new Lander({ pipeline: 'test', sink, retryFirstMs: 1, retryMaxMs: 4, observer }),
      }),
    );
    expect(waits).toEqual([1, 2, 4]);
    expect(sink.landed).toEqual(everyChange(all));
  });

  it('lands and acknowledges what it read when asked to stop, then stops', async () => {
    const sink = new FakeSink();
    const all = units(30);
    const stream = new FakeStream(all);
    const stop = new AbortController();
    stream.beforeUnit = (given) => {
      if (given === 4) stop.abort();
    };
    const result = await followStream(stream, options(sink, { batchRows: 1000, signal: stop.signal }));
    expect(result.units).toBe(4);
    expect(sink.landed).toEqual(everyChange(all.slice(0, 4)));
    expect(stream.acknowledged).toBe(4);
  });

  it('keeps no unit reachable once it landed, while a stop signal is armed (memory bounded by the batch)', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const read: WeakRef<Unit>[] = [];
    let reachable = -1;
    // Units made as they are read, so that only the runner can keep them.
    const stream: ChangeStream<number, { after: number }, Unit> = {
      id: 'lazy',
      codec: CODEC,
      acknowledgedAtSource: true,
      read: () => ({
        next: async () => {
          const position = read.length + 1;
          if (position === 500) {
            // A WeakRef keeps its target until the current job ends: collect on a fresh turn.
            await new Promise((resolve) => setImmediate(resolve));
            gc();
            reachable = read.filter((unit) => unit.deref() !== undefined).length;
          }
          if (position > 500) return { value: undefined, done: true };
          const unit: Unit = {
            changes: [change(position)],
            position,
            bytes: 10,
            stateAfter: { after: position },
          };
          read.push(new WeakRef(unit));
          return { value: unit, done: false };
        },
      }),
      acknowledge: async () => {},
    };
    const stop = new AbortController();
    const abandon = new AbortController();
    await followStream(stream, options(new FakeSink(), { signal: stop.signal, abandon: abandon.signal }));
    expect(reachable).toBeGreaterThanOrEqual(0);
    expect(reachable).toBeLessThanOrEqual(10 + 1);
  });

  it('lands nothing more and acknowledges nothing when abandoned', async () => {
    const sink = new FakeSink();
    const stream = new FakeStream(units(30));
    const abandon = new AbortController();
    abandon.abort();
    const result = await followStream(stream, options(sink, { abandon: abandon.signal }));
    expect(result.units).toBe(0);
    expect(sink.landed).toEqual([]);
    expect(stream.acknowledged).toBe(0);
  });

  it('acknowledges a heartbeat only while nothing waits to land, and never records one in a batch', async () => {
    const sink = new FakeSink();
    const all = units(3);
    const beat: Unit = { changes: [], heartbeat: true, position: 99, bytes: 0 };
    const stream = new FakeStream(all, true, new Map([[3, beat]]));
    await followStream(stream, options(sink, { batchRows: 1000 }));
    // The heartbeat came while units 1–3 waited: it was dropped, and the batch ends at unit 3.
    expect(sink.writes).toEqual(['test:stream:1-3']);
    expect(stream.acknowledged).toBe(3);
    // An idle stream moves to where a keepalive says the source stands.
    const lone = new FakeStream([{ changes: [], heartbeat: true, position: 7, bytes: 0 }], true);
    await followStream(lone, options(new FakeSink()));
    expect(lone.acknowledged).toBe(7);
  });
});
