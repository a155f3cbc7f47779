import { describe, expect, it } from 'vitest';
import { binlogFileNumber, binlogVersion, compareBinlogPositions } from './binlog-position.ts';

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
});
