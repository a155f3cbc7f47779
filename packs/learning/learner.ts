// A simulated learner: who they are, the habits that decide when and how much they study, and the
// in-memory mirror of their rows, so the simulator never has to read the database back.
import type { CatalogLesson, CatalogSeries } from './catalog.ts';
import {
  assignVariants,
  completesOnboarding,
  ONBOARDING_EXPERIMENT,
  type Assignment,
} from './experiments.ts';
import { MINUTE, SECOND } from './context.ts';
import { createDevice, createIdentity, type Device, type Identity } from './people.ts';
import type { Random } from '../common/random.ts';

export type LearningMode = 'casual' | 'standard' | 'intensive';

export interface LessonProgress {
  id: string;
  lesson: CatalogLesson;
  status: 'in_progress' | 'completed' | 'failed';
  paragraphsDone: number;
  activitiesDone: number;
  score: number;
  attempts: number;
}

export interface SeriesProgress {
  id: string;
  series: CatalogSeries;
  completedLessonIds: string[];
}

export interface Learner {
  id: string;
  identity: Identity;
  device: Device;
  signupDay: number;
  /** Set when the sign-up is written. */
  signedUpAt: number;
  /** Day on which the learner deletes the account, if they ever do. */
  deletionDay: number | null;
  deleted: boolean;
  /** 0..1: how likely the learner is to show up at all. */
  engagement: number;
  /** How fast interest fades: activity chance decays with e^(-age / retentionDays). */
  retentionDays: number;
  /** 0..1: chance of getting an exercise right, grows with practice. */
  skill: number;
  learningMode: LearningMode;
  dailyGoalMinutes: number;
  /** Local hour at which the learner usually opens the app. */
  usualLocalHour: number;
  proficiencyLevel: number;
  emailVerified: boolean;
  twoFactorEnabled: boolean;
  dormant: boolean;
  lastActiveDay: number | null;
  lessons: Map<string, LessonProgress>;
  series: Map<string, SeriesProgress>;
  reviews: Map<string, { id: string; rating: number }>;
  lessonBookmarks: Set<string>;
  wordBookmarks: Set<string>;
  wordsSavedEver: number;
  activityAttempts: Map<string, number>;
  completedLessons: number;
  perfectLessons: number;
  completedSeries: number;
  streak: { current: number; longest: number; lastActiveDay: number | null; freezes: number };
  achievements: Set<string>;
  /** The learner's variant in each experiment, fixed at creation. */
  experiments: Assignment[];
  /** First exposure to each experiment the learner has seen so far (epoch ms). */
  exposures: Map<string, number>;
  /** Planted outcome: completes a lesson within 7 days of exposure (see experiments.ts). */
  completesOnboarding: boolean;
  /** The session in progress, for the documents it produces. */
  sessionId: string | null;
}

const ONBOARDING_WINDOW_MS = 7 * 24 * 60 * MINUTE;

/** Within the 7 days after exposure, whose outcome the onboarding experiment plants. */
export function inOnboardingWindow(learner: Learner, at: number): boolean {
  const exposedAt = learner.exposures.get(ONBOARDING_EXPERIMENT);
  return exposedAt !== undefined && at < exposedAt + ONBOARDING_WINDOW_MS;
}

const GOAL_MINUTES: Record<LearningMode, readonly number[]> = {
  casual: [5, 10, 15],
  standard: [15, 20, 30],
  intensive: [30, 45, 60],
};

export function createLearner(
  random: Random,
  index: number,
  days: number,
  takenPhones: Set<string>,
): Learner {
  const identity = createIdentity(random, index, takenPhones);
  const id = random.uuid();
  const experiments = assignVariants(id);
  const learningMode = random.weighted<LearningMode>([
    ['casual', 30],
    ['standard', 55],
    ['intensive', 15],
  ]);
  return {
    id,
    identity,
    device: createDevice(random),
    // Sign-ups grow slowly over the period, as for a product gaining traction.
    signupDay: Math.min(days - 1, Math.floor(days * random.next() ** 0.85)),
    signedUpAt: 0,
    deletionDay: null,
    deleted: false,
    engagement: random.between(0.35, 1),
    retentionDays:
      random.weighted([
        [2, 30],
        [7, 30],
        [21, 25],
        [90, 15],
      ]) * random.between(0.7, 1.3),
    skill: random.between(0.45, 0.85),
    learningMode,
    dailyGoalMinutes: random.pick(GOAL_MINUTES[learningMode]),
    usualLocalHour: random.weighted([
      [7, 3],
      [12, 2],
      [19, 4],
      [21, 4],
      [23, 1],
    ]),
    proficiencyLevel: random.weighted([
      [1, 6],
      [2, 3],
      [3, 2],
      [5, 1],
    ]),
    emailVerified: false,
    twoFactorEnabled: false,
    dormant: false,
    lastActiveDay: null,
    lessons: new Map(),
    series: new Map(),
    reviews: new Map(),
    lessonBookmarks: new Set(),
    wordBookmarks: new Set(),
    wordsSavedEver: 0,
    activityAttempts: new Map(),
    completedLessons: 0,
    perfectLessons: 0,
    completedSeries: 0,
    streak: { current: 0, longest: 0, lastActiveDay: null, freezes: 0 },
    achievements: new Set(),
    experiments,
    exposures: new Map(),
    completesOnboarding: completesOnboarding(id, experiments),
    sessionId: null,
  };
}

/**
 * Chance that the learner studies on `day`: certain on sign-up day, then decaying towards a small
 * floor of loyal users, lower at weekends, and higher while a streak is worth protecting.
 */
export function activityChance(learner: Learner, day: number, isWeekend: boolean): number {
  const age = day - learner.signupDay;
  if (age === 0) return 1;
  const interest = 0.1 + 0.9 * Math.exp(-age / learner.retentionDays);
  const weekendFactor = isWeekend ? 0.8 : 1;
  const streakFactor = learner.streak.current >= 3 ? 1.25 : 1;
  return Math.min(0.97, learner.engagement * interest * weekendFactor * streakFactor);
}

/** When today's session starts: near the learner's usual local hour, kept inside the UTC day. */
export function sessionStart(random: Random, learner: Learner, dayStart: number): number {
  const localMinutes = learner.usualLocalHour * 60 + random.int(-90, 90);
  const utcMinutes = (((localMinutes - learner.identity.utcOffsetHours * 60) % 1440) + 1440) % 1440;
  return dayStart + utcMinutes * MINUTE + random.int(0, 59) * SECOND;
}

export function isLive(learner: Learner, day: number): boolean {
  return !learner.deleted && learner.signupDay <= day;
}
