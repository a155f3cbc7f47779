import type pg from 'pg';
import { describe, expect, it } from 'vitest';
import { InvariantError } from '../../errors/index.ts';
import { dayStep, daysBetween, localGap, localGapsAsOf, streakOf, streaksTarget } from './streaks.ts';

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

  it.each([
    // Quarter-hour offsets, a half-hour DST shift, and Amsterdam's +00:19:32 of 1937 (no quarter hour).
    ['Asia/Kathmandu', '2026-11-01T00:00:00Z'],
    ['Australia/Lord_Howe', '2026-04-04T00:00:00Z'],
    ['America/St_Johns', '2026-11-01T00:00:00Z'],
    ['America/New_York', '2026-03-07T00:00:00Z'],
    ['Europe/Amsterdam', '1937-06-30T00:00:00Z'],
  ] as const)(
    '%s: the per-quarter-hour answers equal a day worked out alone, minute by minute',
    (zone, from) => {
      const asOfFar = new Date(Date.parse(from) + 5 * 86_400_000);
      const gapOf = localGapsAsOf(asOfFar);
      for (let ms = Date.parse(from); ms < Date.parse(from) + 2 * 86_400_000; ms += 60_000) {
        const alone = localGap(ms + 17_000, zone, asOfFar);
        expect(gapOf(ms + 17_000, zone)).toEqual(alone);
        // Again, from the cache when the quarter hour had one local day.
        expect(gapOf(ms + 17_000, zone)).toEqual(alone);
      }
    },
  );

  it('counts whole days across month ends', () => {
    expect(daysBetween('2026-10-31', '2026-11-02')).toBe(2);
    expect(daysBetween('2026-11-02', '2026-11-02')).toBe(0);
  });
});

describe('streaks across time-zone changes and DST (AC-12)', () => {
  const at = (iso: string, timezone: string) => ({ ms: Date.parse(iso), timezone });
  const asOf = (iso: string) => new Date(iso);

  it.each([
    [
      // Los Angeles Mon 20:00, then Tokyo Wed 08:00, 19 hours later: the local date jumps two, but
      // read in either zone the step is one day. A naive own-zone comparison would break the streak.
      'travelling east across midnight keeps the streak',
      [at('2026-03-03T04:00:00Z', 'America/Los_Angeles'), at('2026-03-03T23:00:00Z', 'Asia/Tokyo')],
      '2026-03-04T05:00:00Z',
      { current: 2, longest: 2 },
    ],
    [
      // Tokyo Tue 00:30, then Los Angeles Mon 20:00 the same (UTC) day, then Los Angeles Tue 19:00:
      // the second is no new day (the date went back), the third is the next one.
      'travelling west across midnight earns no extra day',
      [
        at('2026-03-02T15:30:00Z', 'Asia/Tokyo'),
        at('2026-03-03T04:00:00Z', 'America/Los_Angeles'),
        at('2026-03-04T03:00:00Z', 'America/Los_Angeles'),
      ],
      '2026-03-04T06:00:00Z',
      { current: 2, longest: 2 },
    ],
    [
      'a skipped day after a journey east still breaks the streak',
      [at('2026-03-03T04:00:00Z', 'America/Los_Angeles'), at('2026-03-05T23:00:00Z', 'Asia/Tokyo')],
      '2026-03-06T01:00:00Z',
      { current: 1, longest: 1 },
    ],
    [
      // New York springs forward on 2026-03-08: Sat 23:30 EST and Sun 23:30 EDT are 23 hours apart
      // and on consecutive local days.
      'DST start: consecutive local days 23 hours apart',
      [at('2026-03-08T04:30:00Z', 'America/New_York'), at('2026-03-09T03:30:00Z', 'America/New_York')],
      '2026-03-09T12:00:00Z',
      { current: 2, longest: 2 },
    ],
    [
      // Sat 12:00 EST, then Mon 00:30 EDT: a Sunday was skipped. Read at the old offset (UTC−5)
      // the second would be Sun 23:30 and the streak would wrongly go on.
      'DST start: a skipped Sunday is a lapse even when the old offset says otherwise',
      [at('2026-03-07T17:00:00Z', 'America/New_York'), at('2026-03-09T04:30:00Z', 'America/New_York')],
      '2026-03-09T12:00:00Z',
      { current: 1, longest: 1 },
    ],
    [
      // New York falls back on 2026-11-01: Sat 23:30 EDT and Sun 23:30 EST are 25 hours apart. Read
      // at the old offset (UTC−4) the second would be Mon 00:30 and break the streak.
      'DST end: consecutive local days 25 hours apart',
      [at('2026-11-01T03:30:00Z', 'America/New_York'), at('2026-11-02T04:30:00Z', 'America/New_York')],
      '2026-11-02T12:00:00Z',
      { current: 2, longest: 2 },
    ],
    [
      'a lapse as of the run: the last activity two local days back',
      [
        at('2026-10-01T10:00:00Z', 'Europe/Berlin'),
        at('2026-10-02T10:00:00Z', 'Europe/Berlin'),
        at('2026-10-03T10:00:00Z', 'Europe/Berlin'),
      ],
      '2026-10-05T08:00:00Z',
      { current: 0, longest: 3 },
    ],
    [
      // 23:30 UTC on Oct 3 is already Oct 4 in Berlin (UTC+2): yesterday, so the streak still runs.
      'the lapse is judged in the zone the user was last in',
      [at('2026-10-02T10:00:00Z', 'UTC'), at('2026-10-03T22:30:00Z', 'Europe/Berlin')],
      '2026-10-05T21:00:00Z',
      { current: 2, longest: 2 },
    ],
    [
      'several activities on one day count once; activities after the run do not count yet',
      [
        at('2026-10-01T08:00:00Z', 'UTC'),
        at('2026-10-01T20:00:00Z', 'UTC'),
        at('2026-10-02T08:00:00Z', 'UTC'),
        at('2026-10-04T08:00:00Z', 'UTC'),
      ],
      '2026-10-02T09:00:00Z',
      { current: 2, longest: 2 },
    ],
  ] as const)('%s', (_name, activities, runAt, expected) => {
    expect(streakOf(activities, asOf(runAt))).toEqual(expected);
  });

  it('no activity is no streak', () => {
    expect(streakOf([], new Date('2026-10-01T00:00:00Z'))).toEqual({ current: 0, longest: 0 });
  });

  it('reads one step in both zones and keeps the smaller', () => {
    // Tokyo 23:30 Mon (14:30Z) to London 08:00 Tue (08:00Z Tue): one day in Tokyo, one in London.
    expect(
      dayStep(at('2026-03-02T14:30:00Z', 'Asia/Tokyo'), at('2026-03-03T08:00:00Z', 'Europe/London')),
    ).toBe(1);
    // Tokyo 10:00 Mon (01:00Z) to London 20:00 Mon: Tokyo says one day (Tue 05:00), London none.
    expect(
      dayStep(at('2026-03-02T01:00:00Z', 'Asia/Tokyo'), at('2026-03-02T20:00:00Z', 'Europe/London')),
    ).toBe(0);
  });
});

describe('user_streaks parameters', () => {
  it('refuses a user id that would need quoting in a Postgres array, sending nothing', async () => {
    const sent: unknown[] = [];
    const client = { query: async (...args: unknown[]) => sent.push(args) } as unknown as pg.ClientBase;
    const target = streaksTarget({ client, pack: 'p', source: 's', asOf: new Date('2026-11-01T00:00:00Z') });
    const row = { content_hash: '', change: 'update' as const, timezone: 'UTC', last_ms: '1790000000000' };
    await expect(target.write([{ ...row, natural_key: 'a",b' }])).rejects.toThrow(InvariantError);
    // A comma alone would make two elements of one id, misaligned with the other arrays.
    const twoIds = '00000000-0000-0000-0000-000000000001,00000000-0000-0000-0000-000000000002';
    await expect(target.write([{ ...row, natural_key: twoIds }])).rejects.toThrow(InvariantError);
    expect(sent).toEqual([]);
  });
});
