// The shop's experiments, their configured splits (stored in the `experiments` collection for the
// A/B transforms) and the truths the simulator plants:
// - exp_one_page_checkout: treatment raises the chance of a paid order within 7 days of exposure
//   by exactly 20% (relative), by construction of each shopper's outcome;
// - exp_aa_checkout: an A/A test, no effect at all.
// Assignment and outcomes hash the user id, so they never consume the simulator's random stream.
import { createHash } from 'node:crypto';

export interface ExperimentConfig {
  name: string;
  description: string;
  variants: { name: string; share: number }[];
  /** Days after first exposure over which outcomes count. */
  analysisWindowDays: number;
  primaryMetric: string;
  status: 'RUNNING';
}

export const CHECKOUT_EXPERIMENT = 'exp_one_page_checkout';
export const AA_EXPERIMENT = 'exp_aa_checkout';

function fiftyFifty(name: string, description: string): ExperimentConfig {
  return {
    name,
    description,
    variants: [
      { name: 'control', share: 0.5 },
      { name: 'treatment', share: 0.5 },
    ],
    analysisWindowDays: 7,
    primaryMetric: 'purchased_7d',
    status: 'RUNNING',
  };
}

export const EXPERIMENTS: readonly ExperimentConfig[] = [
  fiftyFifty(CHECKOUT_EXPERIMENT, 'One-page checkout instead of the three-step one'),
  fiftyFifty(AA_EXPERIMENT, 'A/A check of the assignment and analysis pipeline'),
];

/** Chance that a control shopper places a paid order within 7 days of exposure. */
export const CHECKOUT_CONTROL_CONVERSION = 0.3;
/** The planted relative lift of exp_one_page_checkout on that chance. */
export const CHECKOUT_TREATMENT_LIFT = 0.2;

export type Variant = 'control' | 'treatment';

export interface Assignment {
  experiment: string;
  variant: Variant;
}

export function assignVariants(userId: string): Assignment[] {
  return EXPERIMENTS.map(({ name }) => ({
    experiment: name,
    variant: unitHash(`${name}:${userId}`) < 0.5 ? 'treatment' : 'control',
  }));
}

/** The day (0-based) experiments start exposing: a third into the period, so CUPED has history. */
export function experimentStartDay(days: number): number {
  return Math.floor(days / 3);
}

/**
 * Whether the shopper will place a paid order within 7 days of exposure to the checkout
 * experiment: drawn once, from a hash of the id, with the treatment's chance exactly 1.2 times the
 * control's. The simulator then makes exactly that happen.
 */
export function convertsAfterExposure(userId: string, assignments: readonly Assignment[]): boolean {
  const treated =
    assignments.find((assignment) => assignment.experiment === CHECKOUT_EXPERIMENT)?.variant === 'treatment';
  const chance = CHECKOUT_CONTROL_CONVERSION * (treated ? 1 + CHECKOUT_TREATMENT_LIFT : 1);
  return unitHash(`checkout-outcome:${userId}`) < chance;
}

/** A uniform number in [0, 1) from a string: stable across runs and machines. */
function unitHash(text: string): number {
  return createHash('sha256').update(text).digest().readUInt32BE(0) / 2 ** 32;
}
