import { describe, expect, it } from 'vitest';
import {
  binlogChangeVersion,
  binlogFileNumber,
  binlogKeyChangePosition,
  binlogVersion,
  compareBinlogPositions,
} from './binlog-position.ts';

describe('binlog positions', () => {
  it('orders versions across file rotations and rows of one event', () => {
    const lastOfFirstFile = binlogVersion('binlog.000001', 4_000_000_000, 3);
    const firstOfNextFile = binlogVersion('binlog.000002', 256, 0);
    expect(firstOfNextFile).toBeGreaterThan(lastOfFirstFile);
    expect(binlogVersion('binlog.000002', 256, 1)).toBe(firstOfNextFile + 1);
    expect(Number.isSafeInteger(binlogVersion('mysql-bin.999999', 2 ** 32 - 1))).toBe(true);
  });

  it('compares positions by file number, then offset', () => {
    expect(
      compareBinlogPositions({ file: 'b.000010', pos: 4 }, { file: 'b.000009', pos: 900 }),
    ).toBeGreaterThan(0);
    expect(compareBinlogPositions({ file: 'b.000009', pos: 4 }, { file: 'b.000009', pos: 900 })).toBeLessThan(
      0,
    );
    expect(binlogFileNumber('/var/lib/mysql/binlog.000042')).toBe(42);
    expect(() => binlogFileNumber('binlog')).toThrow(/file number/);
  });

  it("versions a change by its transaction's position and its order in it, as Debezium fills them", () => {
    const source = { file: 'binlog.000003', pos: 420_710, row: 0 };
    const snapshot = binlogChangeVersion({ source: { ...source, pos: 400_000 } });
    const first = binlogChangeVersion({ source, transaction: { total_order: 1 } });
    // The first row of a later rows event in the same transaction: row 0 again, a later order.
    const later = binlogChangeVersion({ source, transaction: { total_order: 36 } });
    expect(first).toBe(binlogVersion('binlog.000003', 420_711));
    expect(later).toBeGreaterThan(first as number);
    expect(snapshot).toBeLessThan(first as number);
    // Without transaction metadata the row's index stands in; without a position there is none.
    expect(binlogChangeVersion({ source: { ...source, row: 2 } })).toBe(
      binlogVersion('binlog.000003', 420_712),
    );
    expect(binlogChangeVersion({ source: { pos: 4 } })).toBeUndefined();
    expect(binlogChangeVersion({ source: { file: 'binlog', pos: 4 } })).toBeUndefined();
    expect(binlogKeyChangePosition(source)).toBe(binlogVersion('binlog.000003', 420_710));
  });
});
