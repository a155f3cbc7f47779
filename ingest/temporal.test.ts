import { describe, expect, it } from 'vitest';
import {
  microsToTime,
  microsToTimestamp,
  pgDateToDays,
  pgTimeToMicros,
  pgTimestampToMicros,
  pgTimestamptzToIso,
} from './temporal.ts';

describe('temporal conversions (Postgres text ⇄ Debezium encodings ⇄ ClickHouse text)', () => {
  it.each([
    ['1970-01-01', 0],
    ['1969-12-31', -1],
    ['2024-02-29', 19782],
    ['1900-01-01', -25567],
  ])('date %s is day %i', (text, days) => {
    expect(pgDateToDays(text)).toBe(days);
  });

  it.each([
    ['00:00:00', 0, '00:00:00'],
    ['19:00:00', 68_400_000_000, '19:00:00'],
    ['10:11:12.5', 36_672_500_000, '10:11:12.5'],
    ['23:59:59.999999', 86_399_999_999, '23:59:59.999999'],
  ])('time %s is %i µs and prints as %s', (text, micros, printed) => {
    expect(pgTimeToMicros(text)).toBe(micros);
    expect(microsToTime(micros)).toBe(printed);
  });

  it.each([
    ['2024-01-02 03:04:05', 1_704_164_645_000_000, '2024-01-02 03:04:05.000000'],
    ['2024-01-02 03:04:05.123456', 1_704_164_645_123_456, '2024-01-02 03:04:05.123456'],
    ['1969-12-31 23:59:59.5', -500_000, '1969-12-31 23:59:59.500000'],
  ])('timestamp %s is %i µs', (text, micros, printed) => {
    expect(pgTimestampToMicros(text)).toBe(micros);
    expect(microsToTimestamp(micros)).toBe(printed);
  });

  it.each([
    ['2024-01-02 03:04:05+00', '2024-01-02T03:04:05.000000Z'],
    ['2024-01-02 03:04:05.25+07', '2024-01-01T20:04:05.250000Z'],
    ['2024-01-02 03:04:05-05:30', '2024-01-02T08:34:05.000000Z'],
  ])('timestamptz %s is %s in UTC', (text, iso) => {
    expect(pgTimestamptzToIso(text)).toBe(iso);
  });

  // The digit-reading fast paths against the Date arithmetic they replace, over awkward inputs:
  // every month's end and overflow, years near 0 and 9999, leap days, 0–9 fraction digits.
  const dateByDate = (text: string) => {
    const [year, month, day] = text.split('-').map(Number) as [number, number, number];
    const utc = new Date(0);
    utc.setUTCFullYear(year, month - 1, day);
    return Math.round(utc.getTime() / 86_400_000);
  };
  const pad = (value: number, width: number) => String(value).padStart(width, '0');
  it('reads dates as the Date arithmetic does', () => {
    for (const year of [1, 99, 100, 400, 1582, 1899, 1900, 1969, 1970, 2000, 2024, 2100, 9999])
      for (let month = 1; month <= 12; month++)
        for (const day of [1, 15, 28, 29, 30, 31]) {
          const text = `${pad(year, 4)}-${pad(month, 2)}-${pad(day, 2)}`;
          expect(pgDateToDays(text), text).toBe(dateByDate(text));
        }
  });

  it('reads timestamps as the Date arithmetic does', () => {
    const byDate = (text: string) =>
      Date.UTC(
        Number(text.slice(0, 4)),
        Number(text.slice(5, 7)) - 1,
        Number(text.slice(8, 10)),
        Number(text.slice(11, 13)),
        Number(text.slice(14, 16)),
        Number(text.slice(17, 19)),
      ) *
        1000 +
      Number((/^\.(\d*)/.exec(text.slice(19))?.[1] ?? '').padEnd(6, '0').slice(0, 6));
    for (const stamp of [
      '0001-01-01 00:00:00',
      '0050-06-15 12:30:45',
      '1969-12-31 23:59:59',
      '2024-02-29 23:59:59',
      '2023-02-29 10:00:00',
      '9999-12-31 23:59:59',
    ])
      for (const fraction of ['', '.', '.5', '.05', '.123', '.123456', '.1234567', '.999999999'])
        expect(pgTimestampToMicros(stamp + fraction), stamp + fraction).toBe(byDate(stamp + fraction));
    expect(() => pgTimestampToMicros('2024-01-02 03:04')).toThrow(/unsupported timestamp/);
  });
});
