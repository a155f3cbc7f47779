// The oracle tests' comparison: a mart's rows against the oracle's, matched by key.
import { expect } from 'vitest';

export type Row = Record<string, unknown>;

/** Keyed by `key`, every other column a number (rates within 1e-9), text (exact) or null. */
export function expectSameRows(actual: Row[], expected: Row[], key: string[]) {
  const index = (rows: Row[]) =>
    new Map(rows.map((row) => [key.map((column) => String(row[column])).join('|'), row]));
  const actualByKey = index(actual);
  const expectedByKey = index(expected);
  expect([...actualByKey.keys()].sort()).toEqual([...expectedByKey.keys()].sort());
  const mismatches: string[] = [];
  for (const [id, want] of expectedByKey) {
    const got = actualByKey.get(id) ?? {};
    for (const [column, value] of Object.entries(want)) {
      if (key.includes(column)) continue;
      if (typeof value === 'string' && Number.isNaN(Number(value))) {
        if (got[column] !== value)
          mismatches.push(`${id} ${column}: mart ${String(got[column])} oracle ${value}`);
        continue;
      }
      const a = got[column] === null ? null : Number(got[column]);
      const b = value === null ? null : Number(value);
      const same = a === null || b === null ? a === b : Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(b));
      if (!same) mismatches.push(`${id} ${column}: mart ${String(a)} oracle ${String(b)}`);
    }
  }
  expect(mismatches.slice(0, 10)).toEqual([]);
  expect(expected.length).toBeGreaterThan(0);
}
