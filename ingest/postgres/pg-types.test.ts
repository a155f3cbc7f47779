import { describe, expect, it } from 'vitest';
import { codecForType, type PgTypeInfo } from './pg-types.ts';

const scalar = (name: string, typmod = -1, category = 'N'): PgTypeInfo => ({ name, category, typmod });

describe('Postgres type → mirror column and envelope value', () => {
  it.each([
    [scalar('int4'), '42', 'Int32', 42],
    [scalar('int8'), '9007199254740993', 'Int64', '9007199254740993'],
    [scalar('int8'), '-12', 'Int64', -12],
    [scalar('numeric', ((10 << 16) | 2) + 4), '12.50', 'Decimal(10, 2)', '12.50'],
    [scalar('numeric'), '1e-40', 'String', '1e-40'],
    [scalar('bool'), 't', 'Bool', true],
    [scalar('uuid'), 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', 'UUID', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'],
    [scalar('date'), '2024-01-02', 'Date32', 19724],
    [scalar('time'), '19:00:00', 'String', 68_400_000_000],
    [scalar('timestamp'), '2024-01-02 03:04:05.5', "DateTime64(6, 'UTC')", 1_704_164_645_500_000],
    [scalar('timestamptz'), '2024-01-02 03:04:05+00', "DateTime64(6, 'UTC')", '2024-01-02T03:04:05.000000Z'],
    [scalar('jsonb'), '{"a": 1}', 'String', '{"a": 1}'],
    [scalar('inet'), '10.0.0.1', 'String', '10.0.0.1'],
    [scalar('bytea'), '\\x0102ff', 'String', 'AQL/'],
  ])('%o: %s', (type, text, clickhouseType, value) => {
    const codec = codecForType(type, () => undefined);
    expect(codec.column.clickhouseType).toBe(clickhouseType);
    expect(codec.decode(text)).toEqual(value);
  });

  it('decodes arrays element by element, keeping NULL elements', () => {
    const codec = codecForType(
      { name: '_uuid', category: 'A', elementName: 'uuid', typmod: -1 },
      () => undefined,
    );
    expect(codec.column).toMatchObject({ clickhouseType: 'UUID', isArray: true });
    expect(codec.decode('{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11,NULL}')).toEqual([
      'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
      null,
    ]);
    const text = codecForType(
      { name: '_varchar', category: 'A', elementName: 'varchar', typmod: -1 },
      () => undefined,
    );
    expect(text.decode('{vi,"a b","x,y"}')).toEqual(['vi', 'a b', 'x,y']);
  });

  it('keeps an unknown type as text and reports it; enums are text without a warning', () => {
    const unknown: string[] = [];
    expect(codecForType(scalar('ltree', -1, 'U'), (name) => unknown.push(name)).decode('a.b')).toBe('a.b');
    expect(codecForType(scalar('mood', -1, 'E'), (name) => unknown.push(name)).column.clickhouseType).toBe(
      'String',
    );
    expect(unknown).toEqual(['ltree']);
  });
});
