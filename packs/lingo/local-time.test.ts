import { describe, expect, it } from 'vitest';
import { localInstant, weekday, zoneOffsetMs } from './local-time.ts';

describe('local wall-clock time', () => {
  it.each([
    ['America/New_York', '2026-03-07T12:00:00Z', -5 * 60],
    ['America/New_York', '2026-03-09T12:00:00Z', -4 * 60],
    ['Europe/Berlin', '2026-10-24T12:00:00Z', 2 * 60],
    ['Europe/Berlin', '2026-10-26T12:00:00Z', 60],
    ['Asia/Kolkata', '2026-10-26T12:00:00Z', 5 * 60 + 30],
    ['Australia/Sydney', '2026-10-05T12:00:00Z', 11 * 60],
  ] as const)('%s at %s', (zone, at, minutes) => {
    expect(zoneOffsetMs(zone, Date.parse(at))).toBe(minutes * 60_000);
  });

  it.each([
    ['America/New_York', '2026-03-07', 23 * 60 + 30, '2026-03-08T04:30:00.000Z'],
    ['America/New_York', '2026-03-08', 23 * 60 + 30, '2026-03-09T03:30:00.000Z'],
    // 02:30 does not exist on the day New York springs forward: 01:30 EST, an hour earlier.
    ['America/New_York', '2026-03-08', 2 * 60 + 30, '2026-03-08T06:30:00.000Z'],
    ['Asia/Tokyo', '2026-03-04', 8 * 60, '2026-03-03T23:00:00.000Z'],
    ['Europe/Berlin', '2026-10-25', 12 * 60, '2026-10-25T11:00:00.000Z'],
  ] as const)('%s %s at minute %i', (zone, day, minutes, iso) => {
    expect(new Date(localInstant(zone, day, minutes)).toISOString()).toBe(iso);
  });

  it('names weekdays', () => {
    expect([weekday('2026-11-01'), weekday('2026-11-02'), weekday('2026-11-07')]).toEqual([0, 1, 6]);
  });
});
