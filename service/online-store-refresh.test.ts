import { describe, expect, it } from 'vitest';
import { afterTry, refreshDue, type RefreshState } from './online-store-refresh.ts';

const HOUR = 3600;
const fresh: RefreshState = { failures: 0 };

describe('online store refresh policy', () => {
  it('writes at the first pass, once the facts were transformed again, and once refreshSeconds have passed', () => {
    expect(refreshDue(fresh, 0, HOUR, undefined)).toBe(true);
    const written = afterTry(fresh, 1000, true, 'v1');
    expect(written).toEqual({ writtenAt: 1000, writtenVersion: 'v1', failures: 0 });
    expect(refreshDue(written, 2000, HOUR, 'v1')).toBe(false);
    // A transform by anyone (the loop, a scheduled job, the CLI) moved the version.
    expect(refreshDue(written, 2000, HOUR, 'v2')).toBe(true);
    expect(refreshDue(written, 1000 + HOUR * 1000, HOUR, 'v1')).toBe(true);
    // Facts never transformed: the clock alone.
    const empty = afterTry(fresh, 1000, true, undefined);
    expect(refreshDue(empty, 2000, HOUR, undefined)).toBe(false);
    expect(refreshDue(empty, 2000, HOUR, 'v1')).toBe(true);
  });

  it('keeps a failed refresh due, backing off 5 s, 10 s, 20 s … up to 5 min, until one succeeds', () => {
    let state: RefreshState = afterTry(fresh, 0, true, 'v1');
    const waits: number[] = [];
    let now = 1000;
    for (let attempt = 0; attempt < 9; attempt++) {
      expect(refreshDue(state, now, HOUR, 'v2')).toBe(true);
      state = afterTry(state, now, false, 'v2');
      expect(state.writtenVersion).toBe('v1');
      expect(refreshDue(state, now + 1, HOUR, 'v2')).toBe(false);
      waits.push((state.retryAt as number) - now);
      now = state.retryAt as number;
    }
    expect(waits).toEqual([5000, 10_000, 20_000, 40_000, 80_000, 160_000, 300_000, 300_000, 300_000]);
    state = afterTry(state, now, true, 'v2');
    expect(state).toEqual({ writtenAt: now, writtenVersion: 'v2', failures: 0 });
    expect(refreshDue(state, now + 1, HOUR, 'v2')).toBe(false);
  });
});
