// The tee's contract, with a controllable inner sink: the follower starts before the warehouse
// write finishes, sees refused changes too, and a failure on either side is reported only once
// both sides have settled (a retried batch must never overlap its first try).
import { describe, expect, it } from 'vitest';
import type { LandingBatch, LandingSink, SinkOutcome } from './sink.ts';
import { TeeSink } from './tee-sink.ts';
import type { SourceChange } from './types.ts';

const BATCH: LandingBatch = { pipeline: 'p', stream: 's', token: 'token' };

const change = (version: number): SourceChange => ({
  envelope: { op: 'c', after: { id: version }, source: { connector: 'test', name: 's', db: 'd', ts_ms: 0 } },
  version,
  table: 's.public.t',
});

/** An inner sink whose write finishes when the test says, refusing the changes it is told to. */
function heldSink(refuse: (change: SourceChange) => boolean) {
  let finish!: (error?: Error) => void;
  const finished = new Promise<void>((resolve, reject) => {
    finish = (error) => (error ? reject(error) : resolve());
  });
  const sink = {
    description: 'held',
    async write(changes: readonly SourceChange[]): Promise<SinkOutcome> {
      await finished;
      return {
        rejected: changes
          .filter(refuse)
          .map((refused) => ({ reason: 'no', stage: 'mirror', change: refused })),
        unfilled: [],
      };
    },
  } as unknown as LandingSink;
  return { sink, finish };
}

describe('TeeSink', () => {
  it('hands the batch to the follower while the warehouse write is still running, refused changes included', async () => {
    const { sink, finish } = heldSink((item) => item.version === 2);
    const followed: number[] = [];
    const tee = new TeeSink(sink, async (changes) => {
      followed.push(...changes.map((item) => Number(item.version)));
    });
    const writing = tee.write([change(1), change(2)], BATCH);
    await new Promise((resolve) => setImmediate(resolve));
    expect(followed).toEqual([1, 2]);
    finish();
    expect((await writing).rejected.map((rejection) => rejection.change?.version)).toEqual([2]);
  });

  it('reports a follower failure only after the warehouse write has settled', async () => {
    const { sink, finish } = heldSink(() => false);
    const tee = new TeeSink(sink, () => Promise.reject(new Error('copies unreachable')));
    let settled = false;
    const writing = tee.write([change(1)], BATCH).finally(() => (settled = true));
    writing.catch(() => undefined);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(settled).toBe(false);
    finish();
    await expect(writing).rejects.toThrow('copies unreachable');
  });

  it('reports a warehouse failure only after the follower has settled', async () => {
    const { sink, finish } = heldSink(() => false);
    let release!: () => void;
    const following = new Promise<void>((resolve) => (release = resolve));
    const tee = new TeeSink(sink, () => following);
    let settled = false;
    const writing = tee.write([change(1)], BATCH).finally(() => (settled = true));
    writing.catch(() => undefined);
    finish(new Error('warehouse down'));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(settled).toBe(false);
    release();
    await expect(writing).rejects.toThrow('warehouse down');
  });
});
