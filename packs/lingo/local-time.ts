// Wall-clock time in a user's time zone for the simulator: learners open the app at local hours,
// so a session's instant follows their zone's offset on that date, DST included.
import { raw, type SqlFragment } from '../common/sql-script.ts';

/** A TIMESTAMPTZ literal with its zone, so the session's TimeZone setting cannot shift it. */
export function instant(ms: number): SqlFragment {
  return raw(`'${new Date(ms).toISOString()}'`);
}
const offsetFormats = new Map<string, Intl.DateTimeFormat>();

/** The zone's offset from UTC at `ms`, in milliseconds (positive east of Greenwich). */
export function zoneOffsetMs(timezone: string, ms: number): number {
  let format = offsetFormats.get(timezone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone: timezone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    offsetFormats.set(timezone, format);
  }
  const parts = Object.fromEntries(
    format.formatToParts(new Date(ms)).map((part) => [part.type, Number(part.value)]),
  ) as Record<string, number>;
  const wall = Date.UTC(
    parts.year ?? 1970,
    (parts.month ?? 1) - 1,
    parts.day ?? 1,
    parts.hour ?? 0,
    parts.minute ?? 0,
    parts.second ?? 0,
  );
  return wall - Math.floor(ms / 1000) * 1000;
}

/**
 * The instant at which the clocks of `timezone` show `minutes` after midnight on `day`
 * (`YYYY-MM-DD`). A wall time skipped by a DST start resolves to the instant an hour earlier.
 */
export function localInstant(timezone: string, day: string, minutes: number): number {
  const wall = Date.parse(`${day}T00:00:00Z`) + minutes * 60_000;
  const first = wall - zoneOffsetMs(timezone, wall);
  return wall - zoneOffsetMs(timezone, first);
}

/** Day of the week (0 = Sunday) of a `YYYY-MM-DD` date. */
export function weekday(day: string): number {
  return new Date(`${day}T00:00:00Z`).getUTCDay();
}
