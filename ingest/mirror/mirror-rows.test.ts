import { describe, expect, it } from 'vitest';
import { UNAVAILABLE_VALUE } from '../envelope.ts';
import { createRowConverter, mirrorLineFormat, mirrorTableFor } from './mirror-rows.ts';
import type { SourceTable } from '../source-table.ts';

const table: SourceTable = {
  source: 'app',
  schema: 'public',
  table: 'lessons',
  key: ['id'],
  columns: [
    { name: 'id', clickhouseType: 'UUID', encoding: 'plain', isArray: false, sourceType: 'uuid' },
    { name: 'day', clickhouseType: 'Date32', encoding: 'date-days', isArray: false, sourceType: 'date' },
    {
      name: 'at',
      clickhouseType: "DateTime64(6, 'UTC')",
      encoding: 'timestamp-micros',
      isArray: false,
      sourceType: 'timestamp',
    },
    {
      name: 'reminder',
      clickhouseType: 'String',
      encoding: 'time-micros',
      isArray: false,
      sourceType: 'time',
    },
    { name: 'tags', clickhouseType: 'String', encoding: 'plain', isArray: true, sourceType: '_text' },
  ],
};

describe('mirror rows', () => {
  it('names the mirror raw.<source>_<table>, keys it by the primary key, makes other columns Nullable and notes their source types', () => {
    expect(mirrorTableFor(table)).toEqual({
      name: 'raw.app_lessons',
      key: ['id'],
      columns: [
        { name: 'id', type: 'UUID', comment: 'source type: uuid' },
        { name: 'day', type: 'Nullable(Date32)', comment: 'source type: date' },
        { name: 'at', type: "Nullable(DateTime64(6, 'UTC'))", comment: 'source type: timestamp' },
        { name: 'reminder', type: 'Nullable(String)', comment: 'source type: time' },
        { name: 'tags', type: 'Array(Nullable(String))', comment: 'source type: _text' },
      ],
    });
  });

  it('stores an image that needs no rewriting as the same object (days and microseconds pass as they are)', () => {
    const image = { id: 'x', day: 19724, at: 1_704_164_645_500_000, tags: ['a'] };
    const converted = createRowConverter(table).convert(image);
    expect(converted).toEqual({ ok: true, row: image, unavailable: undefined });
    expect(converted.ok && converted.row).toBe(image);
  });

  it("reads Debezium's millisecond timestamps and MySQL BIT bytes (little-endian) as the mirror's values", () => {
    const mysqlTable: SourceTable = {
      source: 'shop',
      schema: 'shop',
      table: 'items',
      key: ['id'],
      columns: [
        { name: 'id', clickhouseType: 'Int32', encoding: 'plain', isArray: false, sourceType: 'int' },
        {
          name: 'at',
          clickhouseType: "DateTime64(6, 'UTC')",
          encoding: 'timestamp-millis',
          isArray: false,
          sourceType: 'datetime',
        },
        { name: 'bits', clickhouseType: 'UInt64', encoding: 'bits', isArray: false, sourceType: 'bit(12)' },
        { name: 'wide', clickhouseType: 'UInt64', encoding: 'bits', isArray: false, sourceType: 'bit(64)' },
      ],
    };
    const image = {
      id: 1,
      at: 1_704_164_645_500,
      bits: Buffer.from([0xfe, 0x0f]).toString('base64'),
      wide: Buffer.alloc(8, 0xff).toString('base64'),
    };
    expect(createRowConverter(mysqlTable).convert(image)).toEqual({
      ok: true,
      row: { id: 1, at: 1_704_164_645_500_000, bits: 0x0ffe, wide: '18446744073709551615' },
      unavailable: undefined,
    });
  });

  it('rewrites NULL arrays as empty ones and times as text, in a copy', () => {
    const image = { id: 'x', day: null, reminder: 68_400_000_000, tags: null };
    expect(createRowConverter(table).convert(image)).toEqual({
      ok: true,
      row: { id: 'x', day: null, reminder: '19:00:00', tags: [] },
      unavailable: undefined,
    });
    expect(image.tags).toBeNull();
  });

  it('reports fields the mirror lacks', () => {
    expect(createRowConverter(table).convert({ id: 'x', extra: 1 })).toEqual({
      ok: false,
      reason: 'fields not in the mirror: extra',
    });
  });

  it('reports unchanged-TOAST placeholders, on a copy the writer may fill', () => {
    const image = { id: 'x', tags: UNAVAILABLE_VALUE };
    const converted = createRowConverter(table).convert(image);
    expect(converted).toEqual({ ok: true, row: image, unavailable: ['tags'] });
    expect(converted.ok && converted.row).not.toBe(image);
  });

  it('serialises a row as values in mirror column order, then version and deletion flag', () => {
    const format = mirrorLineFormat(mirrorTableFor(table));
    expect(format.columns).toEqual(['id', 'day', 'at', 'reminder', 'tags', '_version', '_is_deleted']);
    expect(format.line({ tags: ['a'], id: 'x', day: 1 }, 42, false)).toBe('["x",1,null,null,["a"],42,0]');
    // A delete carries only its key: absent arrays are empty, other absent values NULL.
    expect(format.line({ id: 'x' }, 7, true)).toBe('["x",null,null,null,[],7,1]');
  });

  it('writes a version beyond 2^53 (a MongoDB position) as its exact digits', () => {
    const format = mirrorLineFormat(mirrorTableFor(table));
    expect(format.line({ id: 'x' }, 7_343_034_512_309_452_801n, false)).toBe(
      '["x",null,null,null,[],7343034512309452801,0]',
    );
    expect(format.line({ id: 'x' }, 7n, true)).toBe('["x",null,null,null,[],7,1]');
    const keyless = mirrorLineFormat({ name: 'empty', columns: [], key: [] });
    expect(keyless.line({}, 7n, true)).toBe('[7,1]');
    expect(keyless.line({}, 7, false)).toBe('[7,0]');
  });
});
