import { describe, expect, it } from 'vitest';
import { afterTry, refreshDue, type RefreshState } from './online-store-refresh.ts';

const HOUR = 3600;
const fresh: RefreshState = { pending: false, failures: 0 };

describe('online store refresh policy', () => {
  it('writes at the first pass, after a change, and once refreshSeconds have passed', () => {
    expect(refreshDue(fresh, 0, HOUR)).toBe(true);
    const written = afterTry(fresh, 1000, true);
    expect(refreshDue(written, 2000, HOUR)).toBe(false);
    expect(refreshDue({ ...written, pending: true }, 2000, HOUR)).toBe(true);
    expect(refreshDue(written, 1000 + HOUR * 1000, HOUR)).toBe(true);
  });

  it('keeps a failed refresh due, backing off 5 s, 10 s, 20 s … up to 5 min, until one succeeds', () => {
    let state: RefreshState = { ...afterTry(fresh, 0, true), pending: true };
    const waits: number[] = [];
    let now = 1000;
    for (let attempt = 0; attempt < 9; attempt++) {
      expect(refreshDue(state, now, HOUR)).toBe(true);
      state = afterTry(state, now, false);
      expect(state.pending).toBe(true);
      expect(refreshDue(state, now + 1, HOUR)).toBe(false);
      waits.push((state.retryAt as number) - now);
      now = state.retryAt as number;
    }
    expect(waits).toEqual([5000, 10_000, 20_000, 40_000, 80_000, 160_000, 300_000, 300_000, 300_000]);
    state = afterTry(state, now, true);
    expect(state).toEqual({ writtenAt: now, pending: false, failures: 0 });
    expect(refreshDue(state, now + 1, HOUR)).toBe(false);
  });
});
