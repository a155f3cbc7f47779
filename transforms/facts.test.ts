import { describe, expect, it } from 'vitest';
import { columnMismatch } from './facts.ts';

describe('a mapping column against its fact column', () => {
  it.each([
    ['UInt32', 'UInt32', undefined],
    ['Int64', 'Nullable(Int32)', undefined],
    ['Float64', 'Int64', undefined],
    ['LowCardinality(String)', 'Nullable(String)', undefined],
    ["DateTime64(3, 'UTC')", 'DateTime', undefined],
    ['Date', 'Date32', undefined],
    ['Int64', 'String', 'is String, the fact column is Int64'],
    [
      'Date',
      'LowCardinality(Nullable(String))',
      'is LowCardinality(Nullable(String)), the fact column is Date',
    ],
    ['String', undefined, 'is missing'],
  ])('fact %s, mapping %s: %s', (expected, yielded, problem) => {
    expect(columnMismatch(expected, yielded)).toBe(problem);
  });
});
