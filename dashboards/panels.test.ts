import { describe, expect, it } from 'vitest';
import { splitWeeks } from './panels.ts';

describe('splitWeeks', () => {
  // 2026-08-03 is a Monday.
  it('keeps the full weeks and the partial days at either end', () => {
    expect(splitWeeks('2026-08-01', '2026-08-19')).toEqual({
      weeksFrom: '2026-08-03',
      weeksTo: '2026-08-10',
      headTo: '2026-08-02',
      tailFrom: '2026-08-17',
    });
  });
  it('a range of whole weeks has no partial days', () => {
    const split = splitWeeks('2026-08-03', '2026-08-16');
    expect(split).toEqual({
      weeksFrom: '2026-08-03',
      weeksTo: '2026-08-10',
      headTo: '2026-08-02',
      tailFrom: '2026-08-17',
    });
  });
  it('a range inside one week is all partial days', () => {
    expect(splitWeeks('2026-08-04', '2026-08-09')).toEqual({
      weeksFrom: '2026-08-10',
      weeksTo: '2026-08-03',
      headTo: '2026-08-09',
      tailFrom: '2026-08-10',
    });
  });
  it('covers every day of any range exactly once', () => {
    for (let start = 0; start < 9; start++)
      for (let length = 1; length < 24; length++) {
        const from = new Date(Date.UTC(2026, 7, 1 + start)).toISOString().slice(0, 10);
        const to = new Date(Date.UTC(2026, 7, start + length)).toISOString().slice(0, 10);
        const { weeksFrom, weeksTo, headTo, tailFrom } = splitWeeks(from, to);
        const covered: string[] = [];
        for (let day = 0; day < 40; day++) {
          const date = new Date(Date.UTC(2026, 6, 25 + day)).toISOString().slice(0, 10);
          const monday = new Date(Date.UTC(2026, 6, 25 + day - ((new Date(date).getUTCDay() + 6) % 7)))
            .toISOString()
            .slice(0, 10);
          const inWeeks = monday >= weeksFrom && monday <= weeksTo;
          const inEdges = (date >= from && date <= headTo) || (date >= tailFrom && date <= to);
          expect(inWeeks && inEdges, date).toBe(false);
          if (inWeeks || inEdges) covered.push(date);
        }
        expect(covered[0]).toBe(from);
        expect(covered.at(-1)).toBe(to);
        expect(covered.length).toBe(length);
      }
  });
});
