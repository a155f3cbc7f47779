import { describe, expect, it } from 'vitest';
import { CronSchedule, dayIn, planCatchUp } from './schedule.ts';

describe('cron schedule', () => {
  it('lists the scheduled times in a window, in its time zone', () => {
    // 03:00 in Ho Chi Minh City is 20:00 UTC the day before.
    const daily = new CronSchedule('0 3 * * *', 'Asia/Ho_Chi_Minh');
    expect(
      daily.timesBetween(new Date('2026-01-01T00:00:00Z'), new Date('2026-01-04T00:00:00Z'), 10),
    ).toEqual([
      new Date('2026-01-01T20:00:00Z'),
      new Date('2026-01-02T20:00:00Z'),
      new Date('2026-01-03T20:00:00Z'),
    ]);
  });

  it('keeps the newest times when the window holds more than the limit', () => {
    const everyTwoSeconds = new CronSchedule('*/2 * * * * *', 'UTC');
    expect(
      everyTwoSeconds.timesBetween(new Date('2026-01-01T00:00:00Z'), new Date('2026-01-01T00:00:09.500Z'), 2),
    ).toEqual([new Date('2026-01-01T00:00:06Z'), new Date('2026-01-01T00:00:08Z')]);
  });

  it('names a tick by the newest scheduled time at or before it', () => {
    const everyFive = new CronSchedule('*/5 * * * *', 'UTC');
    expect(everyFive.latestAtOrBefore(new Date('2026-01-01T10:07:59.900Z'))).toEqual(
      new Date('2026-01-01T10:05:00Z'),
    );
    expect(everyFive.latestAtOrBefore(new Date('2026-01-01T10:05:00.000Z'))).toEqual(
      new Date('2026-01-01T10:05:00Z'),
    );
  });

  it('refuses an expression that does not parse, saying why', () => {
    expect(() => new CronSchedule('61 * * * *', 'UTC')).toThrow(/not a cron expression/);
  });

  it.each([
    ['all', { run: 3, skip: 0 }],
    ['latest', { run: 1, skip: 2 }],
    ['none', { run: 0, skip: 3 }],
  ] as const)('catch-up %s after three missed times', (policy, expected) => {
    const missed = [1, 2, 3].map((minute) => new Date(Date.UTC(2026, 0, 1, 0, minute)));
    const plan = planCatchUp(missed, policy);
    expect({ run: plan.run.length, skip: plan.skip.length }).toEqual(expected);
    if (policy === 'latest') expect(plan.run).toEqual([missed[2]]);
  });

  it('gives the calendar day in the time zone', () => {
    expect(dayIn(new Date('2026-01-01T20:00:00Z'), 'Asia/Ho_Chi_Minh')).toBe('2026-01-02');
    expect(dayIn(new Date('2026-01-01T20:00:00Z'), 'UTC')).toBe('2026-01-01');
  });
});
