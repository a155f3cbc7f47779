import { describe, expect, it } from 'vitest';
import {
  AA_EXPERIMENT,
  assignVariants,
  CHECKOUT_CONTROL_CONVERSION,
  CHECKOUT_EXPERIMENT,
  CHECKOUT_TREATMENT_LIFT,
  convertsAfterExposure,
} from './experiments.ts';

const ids = Array.from({ length: 20_000 }, (_, index) => `user-${index}`);
const assigned = ids.map((id) => ({ id, assignments: assignVariants(id) }));

describe('shop experiments', () => {
  it('assigns every user one variant per experiment, the same on every call, about half each', () => {
    expect(ids.slice(0, 1000).map(assignVariants)).toEqual(
      assigned.slice(0, 1000).map((user) => user.assignments),
    );
    for (const experiment of [CHECKOUT_EXPERIMENT, AA_EXPERIMENT]) {
      const treated = assigned.filter(({ assignments }) =>
        assignments.some((entry) => entry.experiment === experiment && entry.variant === 'treatment'),
      ).length;
      expect(treated / ids.length).toBeCloseTo(0.5, 1);
    }
  });

  it('plants the checkout lift: treatment converts 1.2 times as often as control', () => {
    const counts = { control: { users: 0, buyers: 0 }, treatment: { users: 0, buyers: 0 } };
    for (const { id, assignments } of assigned) {
      const variant =
        assignments.find((entry) => entry.experiment === CHECKOUT_EXPERIMENT)?.variant ?? 'control';
      counts[variant].users += 1;
      if (convertsAfterExposure(id, assignments)) counts[variant].buyers += 1;
    }
    const control = counts.control.buyers / counts.control.users;
    const treatment = counts.treatment.buyers / counts.treatment.users;
    expect(control).toBeCloseTo(CHECKOUT_CONTROL_CONVERSION, 1);
    expect(Math.abs(treatment / control - 1 - CHECKOUT_TREATMENT_LIFT)).toBeLessThan(0.05);
  });
});
