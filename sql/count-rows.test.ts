import { describe, expect, it } from 'vitest';
import { countRows } from './count-rows.ts';

describe('countRows', () => {
  it('counts one row a line, leaving out the names and types lines', () => {
    expect(countRows('TabSeparated', Buffer.from('1\ta\n2\tb\n'))).toBe(2);
    expect(countRows('TSVWithNamesAndTypes', Buffer.from('n\ts\nUInt8\tString\n1\ta\n'))).toBe(1);
    expect(countRows('JSONCompactEachRowWithNames', Buffer.from('["n"]\n[1]\n[2]\n[3]\n'))).toBe(3);
    expect(countRows('JSONEachRow', Buffer.from(''))).toBe(0);
    expect(countRows('TSVRaw', Buffer.from('no newline at the end'))).toBe(1);
  });

  it('does not guess for formats whose rows are not lines', () => {
    expect(countRows('CSV', Buffer.from('"a\nb"\n'))).toBeUndefined();
    expect(countRows('Native', Buffer.from([1, 10, 10]))).toBeUndefined();
    expect(countRows('JSON', Buffer.from('{}\n'))).toBeUndefined();
  });
});
