import { describe, expect, it } from 'vitest';
import { TributaryError } from '../../errors/index.ts';
import { SimulationOptionsError, validateSimulationOptions } from './simulation-options.ts';

describe("every simulator's option checks", () => {
  it('accepts whole users ≥ 0, whole days ≥ 1, a finite seed and a valid end date', () => {
    expect(() => validateSimulationOptions({ users: 0, days: 1, seed: 42 })).not.toThrow();
    expect(() =>
      validateSimulationOptions({ users: 5, days: 3, seed: -1.5, endDate: new Date('2026-11-01T00:00:00Z') }),
    ).not.toThrow();
  });

  it.each([
    [{ users: -1, days: 1, seed: 1 }, 'users must be a whole number ≥ 0, got -1'],
    [{ users: 1.5, days: 1, seed: 1 }, 'users must be a whole number ≥ 0, got 1.5'],
    [{ users: 1, days: 0, seed: 1 }, 'days must be a whole number ≥ 1, got 0'],
    [{ users: 1, days: 1, seed: Number.NaN }, 'seed must be a finite number, got NaN'],
    [{ users: 1, days: 1, seed: 1, endDate: new Date('not a date') }, 'endDate is not a valid date'],
  ])('refuses %o with a message naming the option', (options, message) => {
    const attempt = () => validateSimulationOptions(options);
    expect(attempt).toThrow(message);
    expect(attempt).toThrow(SimulationOptionsError);
    expect(attempt).toThrow(TributaryError);
  });
});
