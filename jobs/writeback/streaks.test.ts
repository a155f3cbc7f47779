import { describe, expect, it } from 'vitest';
import { daysBetween, localGap } from './streaks.ts';

describe('streak lapse in the user’s own time zone', () => {
  const asOf = new Date('2026-11-03T02:00:00Z');
  it.each([
    // 23:30 UTC on the 1st is already the 2nd in Ho Chi Minh City (UTC+7): one local day back.
    ['Asia/Ho_Chi_Minh', '2026-11-01T23:30:00Z', '2026-11-02', 1],
    // …but still the 1st in New York, where it is the 2nd at the as-of time: one day back too.
    ['America/New_York', '2026-11-01T23:30:00Z', '2026-11-01', 1],
    ['UTC', '2026-11-01T23:30:00Z', '2026-11-01', 2],
    // An unknown or empty zone counts in UTC.
    ['', '2026-11-01T23:30:00Z', '2026-11-01', 2],
    ['Nowhere/Atlantis', '2026-10-30T12:00:00Z', '2026-10-30', 4],
  ] as const)('%s: last active %s', (zone, last, lastDay, gap) => {
    expect(localGap(Date.parse(last), zone, asOf)).toEqual({ lastDay, gap });
  });

  it('counts whole days across month ends', () => {
    expect(daysBetween('2026-10-31', '2026-11-02')).toBe(2);
    expect(daysBetween('2026-11-02', '2026-11-02')).toBe(0);
  });
});
