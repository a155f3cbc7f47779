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
});
