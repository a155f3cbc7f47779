// The three experiments the simulator runs, with their configured splits (stored in the
// `experiments` collection for the A/B transforms) and the truths it plants:
// - exp_onboarding_v2: treatment raises the chance of completing a lesson within 7 days of
//   exposure by exactly 15% (relative), by construction of each learner's onboarding outcome;
// - exp_aa_null: an A/A test, no effect at all;
// - exp_srm_broken: configured 50/50, but assignment really lands 55/45 (a sample-ratio mismatch).
// Assignment hashes the user id, so it never consumes the simulator's random stream: the Postgres
// history is the same whether or not the document side is written.
import { createHash } from 'node:crypto';

export interface ExperimentConfig {
  experiment_name: string;
  description: string;
  variants: { name: string; configured_share: number }[];
  /** Days after first exposure over which outcomes count. */
  analysis_window_days: number;
  primary_metric: string;
  status: 'running';
}

/** Every experiment here is configured 50/50 over 7 days on the onboarding metric. */
function fiftyFifty(experiment_name: string, description: string): ExperimentConfig {
  return {
    experiment_name,
    description,
    variants: [
      { name: 'control', configured_share: 0.5 },
      { name: 'treatment', configured_share: 0.5 },
    ],
    analysis_window_days: 7,
    primary_metric: 'completed_lesson_7d',
    status: 'running',
  };
}

export const EXPERIMENTS: readonly ExperimentConfig[] = [
  fiftyFifty('exp_onboarding_v2', 'Guided first lesson in onboarding'),
  fiftyFifty('exp_aa_null', 'A/A check of the assignment and analysis pipeline'),
  fiftyFifty('exp_srm_broken', 'New streak banner (its assignment service is known to be skewed)'),
];

/** The share of users each experiment really puts in treatment (differs from config only for SRM). */
const ACTUAL_TREATMENT_SHARE: Record<string, number> = {
  exp_onboarding_v2: 0.5,
  exp_aa_null: 0.5,
  exp_srm_broken: 0.55,
};

export const ONBOARDING_EXPERIMENT = 'exp_onboarding_v2';

/**
 * When a learner is first exposed: the onboarding experiment at the first session; the others run
 * from a third of the simulated period on, at the learner's first session from then (so most of
 * their users have history before exposure, which CUPED uses).
 */
export function exposedExperiments(assignments: Assignment[], day: number, days: number): Assignment[] {
  const startDay = Math.floor(days / 3);
  return assignments.filter(
    (assignment) => assignment.experiment_name === ONBOARDING_EXPERIMENT || day >= startDay,
  );
}

/** Chance that a control learner completes a lesson within 7 days of exposure. */
export const ONBOARDING_CONTROL_COMPLETION = 0.7;
/** The planted relative lift of exp_onboarding_v2 on that chance. */
export const ONBOARDING_TREATMENT_LIFT = 0.15;

export interface Assignment {
  experiment_name: string;
  variant: 'control' | 'treatment';
}

export function assignVariants(userId: string): Assignment[] {
  return EXPERIMENTS.map(({ experiment_name }) => ({
    experiment_name,
    variant:
      unitHash(`${experiment_name}:${userId}`) < (ACTUAL_TREATMENT_SHARE[experiment_name] ?? 0.5)
        ? 'treatment'
        : 'control',
  }));
}

/**
 * Whether the learner will complete a lesson within 7 days of exposure: drawn once, from a hash of
 * the id, with the treatment's chance exactly 1.15 times the control's.
 */
export function completesOnboarding(userId: string, assignments: Assignment[]): boolean {
  const treated =
    assignments.find((assignment) => assignment.experiment_name === ONBOARDING_EXPERIMENT)?.variant ===
    'treatment';
  const chance = ONBOARDING_CONTROL_COMPLETION * (treated ? 1 + ONBOARDING_TREATMENT_LIFT : 1);
  return unitHash(`onboarding-outcome:${userId}`) < chance;
}

/** A uniform number in [0, 1) from a string: stable across runs and machines. */
export function unitHash(text: string): number {
  return createHash('sha256').update(text).digest().readUInt32BE(0) / 2 ** 32;
}
