// Conversions between Postgres' text output (DateStyle ISO, TimeZone UTC), Debezium's temporal
// encodings (days, microseconds, ISO-8601 zoned strings) and ClickHouse's text input.
import { CaptureError } from './errors.ts';

const MS_PER_DAY = 86_400_000;

function pad(value: number, width: number): string {
  return String(value).padStart(width, '0');
}

/** The value of `length` ASCII digits at `at`, or -1 when one of them is not a digit (or missing). */
export function digitsAt(text: string, at: number, length: number): number {
  let value = 0;
  for (let index = at; index < at + length; index++) {
    const digit = text.charCodeAt(index) - 48;
    if (!(digit >= 0 && digit <= 9)) return -1;
    value = value * 10 + digit;
  }
  return value;
}

/** Days from 1970-01-01 to a proleptic Gregorian date (month 1–12; days past the month's end run on). */
export function civilToDays(year: number, month: number, day: number): number {
  const shifted = month <= 2 ? year - 1 : year;
  const era = Math.floor(shifted / 400);
  const yearOfEra = shifted - era * 400;
  const dayOfYear = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  return (
    era * 146_097 +
    yearOfEra * 365 +
    Math.floor(yearOfEra / 4) -
    Math.floor(yearOfEra / 100) +
    dayOfYear -
    719_468
  );
}

/** `2024-03-05` → days since 1970-01-01 (Debezium `io.debezium.time.Date`). */
export function pgDateToDays(text: string): number {
  // The common `YYYY-MM-DD` by arithmetic: a Date and the split strings per value cost more than the rest of a row.
  if (text.length === 10 && text.charCodeAt(4) === 45 && text.charCodeAt(7) === 45) {
    const [year, month, day] = [digitsAt(text, 0, 4), digitsAt(text, 5, 2), digitsAt(text, 8, 2)];
    if (year >= 0 && month >= 1 && month <= 12 && day >= 1 && day <= 31) return civilToDays(year, month, day);
  }
  const bc = text.endsWith(' BC');
  const [year, month, day] = (bc ? text.slice(0, -3) : text).split('-').map(Number) as [
    number,
    number,
    number,
  ];
  const utc = new Date(0);
  utc.setUTCFullYear(bc ? 1 - year : year, month - 1, day);
  return Math.round(utc.getTime() / MS_PER_DAY);
}

/** `10:11:12.5` → microseconds since midnight (Debezium `io.debezium.time.MicroTime`). */
export function pgTimeToMicros(text: string): number {
  const hours = Number(text.slice(0, 2));
  const minutes = Number(text.slice(3, 5));
  const seconds = Number(text.slice(6, 8));
  return ((hours * 60 + minutes) * 60 + seconds) * 1_000_000 + fractionMicros(text, 8);
}

/** Microseconds since midnight → `HH:MM:SS[.ffffff]`, the way Postgres prints a `time`. */
export function microsToTime(micros: number): string {
  // MySQL's TIME is an interval of ±838 hours: a negative one prints with its sign.
  if (micros < 0) return `-${microsToTime(-micros)}`;
  const totalSeconds = Math.floor(micros / 1_000_000);
  const fraction = micros - totalSeconds * 1_000_000;
  const clock = `${pad(Math.floor(totalSeconds / 3600), 2)}:${pad(Math.floor(totalSeconds / 60) % 60, 2)}:${pad(totalSeconds % 60, 2)}`;
  return fraction === 0 ? clock : `${clock}.${pad(fraction, 6).replace(/0+$/, '')}`;
}

/** `2024-03-05 10:11:12.123456` (no zone) → microseconds since the epoch, read as UTC (`MicroTimestamp`). */
export function pgTimestampToMicros(text: string): number {
  const year = digitsAt(text, 0, 4);
  const month = digitsAt(text, 5, 2);
  const day = digitsAt(text, 8, 2);
  const hours = digitsAt(text, 11, 2);
  const minutes = digitsAt(text, 14, 2);
  const seconds = digitsAt(text, 17, 2);
  // Digits are read in place (-1 marks a non-digit); anything else takes the general path (and its error).
  if (text.length >= 19 && Math.min(year, month, day, hours, minutes, seconds) >= 0)
    return Date.UTC(year, month - 1, day, hours, minutes, seconds) * 1000 + fractionMicros(text, 19);
  const millis = Date.UTC(
    Number(text.slice(0, 4)),
    Number(text.slice(5, 7)) - 1,
    Number(text.slice(8, 10)),
    Number(text.slice(11, 13)),
    Number(text.slice(14, 16)),
    Number(text.slice(17, 19)),
  );
  if (Number.isNaN(millis) || text.length < 19)
    throw new CaptureError(`unsupported timestamp '${text}' (the mirror's DateTime64 holds 1900–2299)`);
  return millis * 1000 + fractionMicros(text, 19);
}

/** Microseconds since the epoch → `YYYY-MM-DD HH:MM:SS.ffffff` for a DateTime64(6) column. */
export function microsToTimestamp(micros: number): string {
  const millis = Math.floor(micros / 1000);
  const date = new Date(millis);
  const fraction = micros - Math.floor(micros / 1_000_000) * 1_000_000;
  return (
    `${pad(date.getUTCFullYear(), 4)}-${pad(date.getUTCMonth() + 1, 2)}-${pad(date.getUTCDate(), 2)} ` +
    `${pad(date.getUTCHours(), 2)}:${pad(date.getUTCMinutes(), 2)}:${pad(date.getUTCSeconds(), 2)}.${pad(fraction, 6)}`
  );
}

/** `2024-03-05 10:11:12.123456+00` → `2024-03-05T10:11:12.123456Z` (Debezium `ZonedTimestamp`). */
export function pgTimestamptzToIso(text: string): string {
  const zoneAt = Math.max(text.lastIndexOf('+'), text.lastIndexOf('-'));
  if (zoneAt < 19)
    throw new CaptureError(`unsupported timestamptz '${text}' (the mirror's DateTime64 holds 1900–2299)`);
  const local = pgTimestampToMicros(text.slice(0, zoneAt));
  const zone = text
    .slice(zoneAt + 1)
    .split(':')
    .map(Number);
  const offsetMinutes = ((zone[0] ?? 0) * 60 + (zone[1] ?? 0)) * (text[zoneAt] === '-' ? -1 : 1);
  const utc = local - offsetMinutes * 60_000_000;
  return `${microsToTimestamp(utc).replace(' ', 'T')}Z`;
}

/** Reads an optional `.fraction` starting at `at` as microseconds. */
function fractionMicros(text: string, at: number): number {
  if (text.charCodeAt(at) !== 46) return 0;
  let micros = 0;
  let digits = 0;
  for (let index = at + 1; index < text.length; index++) {
    const digit = text.charCodeAt(index) - 48;
    if (!(digit >= 0 && digit <= 9)) break;
    // Digits past the sixth are below a microsecond.
    if (digits < 6) {
      micros = micros * 10 + digit;
      digits++;
    }
  }
  return micros * 10 ** (6 - digits);
}
