// The experiments the PostBook simulator runs, and the truths it plants:
// - exp_composer_v2: a new post composer shown at a member's first visit; treatment raises the
//   chance of publishing a post within 7 days of exposure from 40% to exactly 50% (+25% relative),
//   by construction of each member's outcome (see composerConverts);
// - exp_feed_aa: an A/A test from a third of the period on, no effect at all.
// Assignment and outcomes hash the user id, so they never consume the simulator's random stream.
import { createHash } from 'node:crypto';

export const COMPOSER_EXPERIMENT = 'exp_composer_v2';
export const AA_EXPERIMENT = 'exp_feed_aa';

/** Chance that a control member posts within 7 days of exposure, and the planted relative lift. */
export const COMPOSER_CONTROL_POST_RATE = 0.4;
export const COMPOSER_TREATMENT_LIFT = 0.25;
/** Days after exposure the planted outcome covers (the A/B analysis window). */
export const COMPOSER_WINDOW_DAYS = 7;

export interface PostbookExperiment {
  experimentName: string;
  description: string;
  variants: { name: 'control' | 'treatment'; configuredShare: number }[];
  analysisWindowDays: number;
  primaryMetric: string;
  status: 'running';
}

function fiftyFifty(experimentName: string, description: string): PostbookExperiment {
  return {
    experimentName,
    description,
    variants: [
      { name: 'control', configuredShare: 0.5 },
      { name: 'treatment', configuredShare: 0.5 },
    ],
    analysisWindowDays: COMPOSER_WINDOW_DAYS,
    primaryMetric: 'posted_7d',
    status: 'running',
  };
}

export const POSTBOOK_EXPERIMENTS: readonly PostbookExperiment[] = [
  fiftyFifty(COMPOSER_EXPERIMENT, 'New post composer with hashtag suggestions'),
  fiftyFifty(AA_EXPERIMENT, 'A/A check of the feed ranking assignment'),
];

export type Variant = 'control' | 'treatment';

export function variantOf(experiment: string, userId: string): Variant {
  return unitHash(`${experiment}:${userId}`) < 0.5 ? 'treatment' : 'control';
}

/** The first day a member can be exposed to the experiment (the A/A test starts later, for CUPED). */
export function experimentStartDay(experiment: string, days: number): number {
  return experiment === COMPOSER_EXPERIMENT ? 0 : Math.floor(days / 3);
}

/** Whether the member publishes a post within the window after exposure: drawn once from the id. */
export function composerConverts(userId: string): boolean {
  const treated = variantOf(COMPOSER_EXPERIMENT, userId) === 'treatment';
  const chance = COMPOSER_CONTROL_POST_RATE * (treated ? 1 + COMPOSER_TREATMENT_LIFT : 1);
  return unitHash(`composer-outcome:${userId}`) < chance;
}

/** A uniform number in [0, 1) from a string: stable across runs and machines. */
function unitHash(text: string): number {
  return createHash('sha256').update(text).digest().readUInt32BE(0) / 2 ** 32;
}
