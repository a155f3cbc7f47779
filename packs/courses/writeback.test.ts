import { describe, expect, it } from 'vitest';
import { sqlTime } from './simulator.ts';
import { hundredthsText } from './writeback.ts';

describe('courses write-back values', () => {
  it('writes hundredths as exact DECIMAL(3,2) text', () => {
    expect(hundredthsText(0)).toBe('0.00');
    expect(hundredthsText(5)).toBe('0.05');
    expect(hundredthsText(435)).toBe('4.35');
    expect(hundredthsText(500)).toBe('5.00');
  });
});

describe('courses simulator times', () => {
  it('are UTC seconds, as TIMESTAMP columns hold them', () => {
    expect(sqlTime(Date.parse('2026-10-31T23:59:59.999Z'))).toBe('2026-10-31 23:59:59');
  });
});
