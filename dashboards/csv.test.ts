import { describe, expect, it } from 'vitest';
import { toCsv } from './csv.ts';

describe('panel CSV', () => {
  it('writes the rows as RFC 4180, numbers unrounded, nulls empty, formulas defused', () => {
    const columns = [
      { name: 'title', label: 'title', unit: 'text' as const },
      { name: 'rate', label: 'rate', unit: 'percent' as const },
      { name: 'lift', label: 'lift', unit: 'percent' as const },
    ];
    expect(
      toCsv(columns, [
        { title: 'Xin chào, "bạn"', rate: 0.123456789, lift: -0.05 },
        { title: '=HYPERLINK("x")', rate: null, lift: 0 },
      ]),
    ).toBe('title,rate,lift\r\n"Xin chào, ""bạn""",0.123456789,-0.05\r\n"\'=HYPERLINK(""x"")",,0\r\n');
  });
});
