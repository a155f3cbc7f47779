import { describe, expect, it } from 'vitest';
import { codecForMysqlType, mysqlTimeToMicros } from './mysql-types.ts';

const unknown: string[] = [];
const codec = (columnType: string, charset: string | null = null) =>
  codecForMysqlType({ columnType, charset }, (type) => unknown.push(type));

describe('MySQL type mapping', () => {
  it('maps integers by width and sign, keeping values beyond 2^53 exact as text', () => {
    expect(codec('tinyint(4)').column.clickhouseType).toBe('Int8');
    expect(codec('smallint unsigned').column.clickhouseType).toBe('UInt16');
    expect(codec('mediumint(9)').column.clickhouseType).toBe('Int32');
    expect(codec('int(10) unsigned').column.clickhouseType).toBe('UInt32');
    const ubig = codec('bigint(20) unsigned');
    expect(ubig.column.clickhouseType).toBe('UInt64');
    expect(ubig.decode('18446744073709551615')).toBe('18446744073709551615');
    expect(ubig.decode(42)).toBe(42);
  });

  it('keeps DECIMAL exact and maps its precision and scale', () => {
    const decimal = codec('decimal(38,12)');
    expect(decimal.column.clickhouseType).toBe('Decimal(38, 12)');
    expect(decimal.decode('12345678901234567890123456.123456789012')).toBe(
      '12345678901234567890123456.123456789012',
    );
  });

  it('tells DATETIME (wall clock) from TIMESTAMP (an instant) and nulls zero dates', () => {
    const datetime = codec('datetime(6)');
    expect(datetime.column.encoding).toBe('timestamp-micros');
    expect(datetime.decode('2024-02-29 12:00:00.000001')).toBe(Date.UTC(2024, 1, 29, 12) * 1000 + 1);
    expect(datetime.decode('0000-00-00 00:00:00')).toBeNull();
    // Debezium's adaptive precision: milliseconds up to DATETIME(3).
    const datetime3 = codec('datetime(3)');
    expect(datetime3.column.encoding).toBe('timestamp-millis');
    expect(datetime3.decode('1969-12-31 23:59:59.999')).toBe(-1);
    expect(codec('datetime').decode('1970-01-01 00:00:01')).toBe(1000);
    const timestamp = codec('timestamp(3)');
    expect(timestamp.column.encoding).toBe('zoned-timestamp');
    expect(timestamp.decode('2038-01-19 03:14:07.999')).toBe('2038-01-19T03:14:07.999000Z');
    expect(codec('timestamp').decode('1970-01-01 00:00:00')).toBe('1970-01-01T00:00:00.000000Z');
    expect(codec('timestamp(6)').decode('2026-02-28 23:59:59.000001')).toBe('2026-02-28T23:59:59.000001Z');
    const date = codec('date');
    expect(date.decode('1970-01-02')).toBe(1);
    expect(date.decode('2024-00-10')).toBeNull();
  });

  it('reads TIME as signed microseconds beyond 24 hours', () => {
    expect(mysqlTimeToMicros('-838:59:59.000')).toBe(-3_020_399_000_000);
    expect(mysqlTimeToMicros('12:34:56.789')).toBe(45_296_789_000);
    expect(codec('time(3)').column.encoding).toBe('time-micros');
  });

  it("maps BIT(1) to Bool and wider BITs to Debezium's little-endian bytes; binary strings to base64", () => {
    expect(codec('bit(1)').decode(Buffer.from([1]))).toBe(true);
    expect(codec('bit(8)').decode(Buffer.from([0xa5]))).toBe(Buffer.from([0xa5]).toString('base64'));
    expect(codec('bit(8)').decode(0x5a)).toBe(Buffer.from([0x5a]).toString('base64'));
    const bits = codec('bit(12)');
    expect(bits.column).toMatchObject({ clickhouseType: 'UInt64', encoding: 'bits' });
    expect(bits.decode(Buffer.from([0x0f, 0xfe]))).toBe(Buffer.from([0xfe, 0x0f]).toString('base64'));
    expect(codec('bit(64)').decode(Buffer.alloc(8, 0xff))).toBe(Buffer.alloc(8, 0xff).toString('base64'));
    expect(codec('varbinary(16)').decode(Buffer.from([0, 255]))).toBe('AP8=');
    expect(codec('varchar(10)', 'utf8mb4').decode('Tiếng 🌊')).toBe('Tiếng 🌊');
    expect(codec("enum('a','b')", 'utf8mb4').column.clickhouseType).toBe('String');
    expect(codec('json', 'utf8mb4').decode('{"a": 1}')).toBe('{"a": 1}');
  });

  it('keeps unknown types as text, with a warning', () => {
    unknown.length = 0;
    expect(codec('uuid').column.clickhouseType).toBe('String');
    expect(unknown).toEqual(['uuid']);
  });
});
