// The lingo simulator's experiments, kept in the pack's experiment_variants / experiment_exposures
// tables (the seed has none), and the truths they plant:
// - exp_lesson_preview: treatment raises the chance of completing a lesson within 7 days of
//   exposure (first app open) from 60% to exactly 72% (+20% relative), by construction of each
//   learner's first-week outcome;
// - exp_aa_hearts_badge: an A/A test, no effect at all, exposed from a third of the period on.
// Assignment and outcomes hash the user id, so they never consume the simulator's random stream.
import { unitHash } from '../learning/experiments.ts';

export const PREVIEW_EXPERIMENT = 'exp_lesson_preview';
export const AA_EXPERIMENT = 'exp_aa_hearts_badge';
export const EXPERIMENT_NAMES = [PREVIEW_EXPERIMENT, AA_EXPERIMENT] as const;

/** Chance that a control learner completes a lesson within 7 days of exposure. */
export const PREVIEW_CONTROL_COMPLETION = 0.6;
/** The planted relative lift of exp_lesson_preview on that chance. */
export const PREVIEW_TREATMENT_LIFT = 0.2;

export type Variant = 'control' | 'treatment';

export function variantOf(experiment: string, userId: string): Variant {
  return unitHash(`${experiment}:${userId}`) < 0.5 ? 'treatment' : 'control';
}

/** Whether the learner completes a lesson in the 7 days after first opening the app: drawn once. */
export function completesFirstWeek(userId: string): boolean {
  const treated = variantOf(PREVIEW_EXPERIMENT, userId) === 'treatment';
  const chance = PREVIEW_CONTROL_COMPLETION * (treated ? 1 + PREVIEW_TREATMENT_LIFT : 1);
  return unitHash(`first-week:${userId}`) < chance;
}

/** The preview experiment runs from the first day, the A/A one from a third of the period on. */
export function experimentsRunning(day: number, days: number): readonly string[] {
  return day >= Math.floor(days / 3) ? EXPERIMENT_NAMES : [PREVIEW_EXPERIMENT];
}
