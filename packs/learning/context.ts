// What every simulated behaviour shares: the random source, the SQL being written, the catalog,
// the simulated clock and the tallies that end up in the summary.
import type { Catalog } from './catalog.ts';
import type { DocumentLog } from './documents.ts';
import type { Random } from '../common/random.ts';
import type { SqlScript } from '../common/sql-script.ts';

export const SECOND = 1000;
export const MINUTE = 60 * SECOND;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;

export interface Tallies {
  /** Learners who signed up; the instructor accounts are part of the catalog, not counted here. */
  usersCreated: number;
  usersDeleted: number;
  sessions: number;
  lessonsStarted: number;
  lessonsCompleted: number;
  activityAttempts: number;
  reviews: number;
  achievements: number;
}

export interface PublicReview {
  id: string;
  userId: string;
}

export interface SimulationContext {
  readonly random: Random;
  readonly script: SqlScript;
  /** The MongoDB side: interactions, media usage, notifications. */
  readonly documents: DocumentLog;
  readonly catalog: Catalog;
  readonly tallies: Tallies;
  /** Lessons opened today; added to lessons.view_count once a day, as a counter service would. */
  readonly lessonViews: Map<string, number>;
  /** Lessons whose reviews changed today, so their rating columns are recomputed tonight. */
  readonly lessonsToRerate: Set<string>;
  /** Public reviews by lesson, for other learners to vote helpful. */
  readonly publicReviews: Map<string, PublicReview[]>;
}

/** Simulated wall-clock time (epoch milliseconds, UTC) that a learner's actions move forward. */
export class Clock {
  constructor(public now: number) {}

  advance(seconds: number): number {
    this.now += Math.round(seconds * SECOND);
    return this.now;
  }
}
