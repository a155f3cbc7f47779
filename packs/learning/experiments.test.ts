import { describe, expect, it } from 'vitest';
import {
  assignVariants,
  completesOnboarding,
  ONBOARDING_CONTROL_COMPLETION,
  ONBOARDING_TREATMENT_LIFT,
} from './experiments.ts';

const ids = Array.from({ length: 40_000 }, (_, index) => `user-${index}`);

function treatmentShare(experiment: string): number {
  const treated = ids.filter(
    (id) => assignVariants(id).find((entry) => entry.experiment_name === experiment)?.variant === 'treatment',
  );
  return treated.length / ids.length;
}

// Hundreds of thousands of assignments: seconds of CPU, more on a busy machine.
describe('planted experiment truths', { timeout: 60_000 }, () => {
  it('splits exp_onboarding_v2 and exp_aa_null 50/50 but exp_srm_broken 55/45', () => {
    expect(treatmentShare('exp_onboarding_v2')).toBeCloseTo(0.5, 1);
    expect(treatmentShare('exp_aa_null')).toBeCloseTo(0.5, 1);
    expect(treatmentShare('exp_srm_broken')).toBeGreaterThan(0.54);
    expect(treatmentShare('exp_srm_broken')).toBeLessThan(0.56);
  });

  it('raises the 7-day completion chance by 15% in treatment and only there', () => {
    const rate = (variant: string) => {
      const members = ids
        .map((id) => ({ id, assignments: assignVariants(id) }))
        .filter(
          ({ assignments }) =>
            assignments.find((entry) => entry.experiment_name === 'exp_onboarding_v2')?.variant === variant,
        );
      return (
        members.filter(({ id, assignments }) => completesOnboarding(id, assignments)).length / members.length
      );
    };
    const control = rate('control');
    const treatment = rate('treatment');
    expect(control).toBeCloseTo(ONBOARDING_CONTROL_COMPLETION, 1);
    // 20k per arm: the relative lift's standard error is about 0.02.
    expect(treatment / control - 1).toBeGreaterThan(ONBOARDING_TREATMENT_LIFT - 0.06);
    expect(treatment / control - 1).toBeLessThan(ONBOARDING_TREATMENT_LIFT + 0.06);
    // 40k users' assignments take about a second on a quiet machine; a busy one needs more.
  }, 30_000);

  it('assigns the same variants to the same user every time', () => {
    expect(assignVariants('someone')).toEqual(assignVariants('someone'));
  });
});
