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

describe('shop experiments', () => {
  it('assigns every user one variant per experiment, the same on every call, about half each', () => {
    const first = ids.map(assignVariants);
    expect(ids.map(assignVariants)).toEqual(first);
    for (const experiment of [CHECKOUT_EXPERIMENT, AA_EXPERIMENT]) {
      const treated = first.filter((assignments) =>
        assignments.some((entry) => entry.experiment === experiment && entry.variant === 'treatment'),
      ).length;
      expect(treated / ids.length).toBeCloseTo(0.5, 1);
    }
  });

  it('plants the checkout lift: treatment converts 1.2 times as often as control', () => {
    const rate = (variant: string) => {
      const members = ids.filter(
        (id) =>
          assignVariants(id).find((entry) => entry.experiment === CHECKOUT_EXPERIMENT)?.variant === variant,
      );
      return members.filter((id) => convertsAfterExposure(id, assignVariants(id))).length / members.length;
    };
    const control = rate('control');
    expect(control).toBeCloseTo(CHECKOUT_CONTROL_CONVERSION, 1);
    expect(rate('treatment') / control - 1).toBeGreaterThan(CHECKOUT_TREATMENT_LIFT - 0.05);
    expect(rate('treatment') / control - 1).toBeLessThan(CHECKOUT_TREATMENT_LIFT + 0.05);
  });
});
