// The RowBinary encoder writes only what it writes exactly; anything else goes as JSON lines, where
// the engine decides (row-binary.integration.test.ts checks the written bytes against the engine).
import { describe, expect, it } from 'vitest';
import type { Row } from '../envelope.ts';
import { rowBinaryFormat } from './row-binary.ts';

const encode = (type: string, value: unknown, key: unknown = 1): Buffer | undefined =>
  rowBinaryFormat([
    { name: 'id', type: 'UInt32' },
    { name: 'v', type },
  ])?.encode([{ row: { id: key, v: value } as Row, version: 7, deleted: true }]);

describe('the RowBinary encoder', () => {
  it('writes key, value, version and the deletion flag as their bytes', () => {
    expect(encode('Nullable(String)', 'é')?.toString('hex')).toBe(
      ['01000000', '00', '02c3a9', '0700000000000000', '01'].join(''),
    );
    expect(encode('Array(Nullable(Int16))', [null, -2])?.toString('hex')).toBe(
      ['01000000', '02', '01', '00feff', '0700000000000000', '01'].join(''),
    );
    expect(encode('Nullable(Decimal(9, 2))', '-1.5')?.toString('hex')).toBe(
      ['01000000', '00', '6affffff', '0700000000000000', '01'].join(''),
    );
    expect(encode("DateTime64(6, 'UTC')", '1970-01-01T00:00:01.000002Z')?.toString('hex')).toBe(
      ['01000000', '42420f0000000000', '0700000000000000', '01'].join(''),
    );
  });

  it.each([
    ['Float32', 'a Float32 read from decimal text may round apart from the double'],
    ['Nullable(IPv4)', 'a type it does not write'],
    ['Array(Float32)', 'inside an array'],
    ['Map(String, String)', 'a map'],
  ])('is not made for a mirror with a %s column (%s)', (type) => {
    expect(rowBinaryFormat([{ name: 'v', type }])).toBeUndefined();
  });

  it.each([
    ['Nullable(Decimal(12, 2))', '1.234', 'more fraction digits than the scale'],
    ['Nullable(Decimal(12, 2))', '12345678901.5', 'more integer digits than the precision leaves'],
    ['Nullable(Decimal(12, 2))', 1e21, 'a number JavaScript writes with an exponent'],
    ['Nullable(Decimal(12, 2))', '+1.5', 'a sign JSON text does not carry'],
    ['Nullable(Float64)', NaN, 'a NaN number, which a JSON line writes as null'],
    ['Nullable(Float64)', Infinity, 'an infinite number, which a JSON line writes as null'],
    ['Nullable(Int8)', 128, 'beyond the type'],
    ['Nullable(Int32)', '5', 'an integer as text below 2^53'],
    ['Nullable(Int32)', 1.5, 'a fraction'],
    ['Nullable(UInt64)', -1, 'a negative unsigned'],
    ['Nullable(UInt64)', '18446744073709551616', 'beyond 2^64'],
    ['Nullable(Int64)', '12e3', 'not digits'],
    ['Nullable(Date32)', 120530, 'after 2299-12-31'],
    ['Nullable(Date32)', -25568, 'before 1900-01-01'],
    ["Nullable(DateTime64(6, 'UTC'))", '2026-01-01 00:00:00', 'another text shape'],
    ["Nullable(DateTime64(6, 'UTC'))", '2025-02-29T00:00:00.000000Z', 'a day the calendar lacks'],
    ["Nullable(DateTime64(6, 'UTC'))", 2 ** 53, 'beyond a safe integer'],
    ["Nullable(DateTime64(6, 'UTC'))", '0050-03-01T00:00:00.000000Z', 'a year Date.UTC would read as 1950'],
    ["Nullable(DateTime64(6, 'UTC'))", '1899-12-31T23:59:59.999999Z', 'before 1900'],
    ["Nullable(DateTime64(3, 'UTC'))", '2026-01-01T00:00:00.000000Z', 'text at another precision'],
    ['Nullable(String)', 'lone \ud800 surrogate', 'text without a UTF-8 form'],
    ['Nullable(String)', 5, 'a number'],
    ['Nullable(Bool)', 1, 'a number'],
    ['Nullable(UUID)', '00112233-4455-6677-8899-aabbccddeefg', 'a non-hex digit'],
    ['Array(Nullable(String))', 'a', 'a scalar'],
    ['String', null, 'NULL in a column that is not Nullable'],
  ] as [string, unknown, string][])('leaves a batch to JSON lines when a %s holds %o (%s)', (type, value) => {
    expect(encode(type, value)).toBeUndefined();
  });
});
