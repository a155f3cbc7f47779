// A simulated lingo learner: who they are, where they live and travel (their device's time zone
// day by day), the habits that decide when and how much they study, and the in-memory copy of the
// rows the app keeps for them, so the simulator never reads the database back.
import type { Random } from '../common/random.ts';
import { DAY } from '../learning/context.ts';
import { completesFirstWeek } from './experiments.ts';

/** Where learners live, by relative weight: both hemispheres' DST rules and half-hour offsets. */
const HOME_ZONES: readonly (readonly [string, number])[] = [
  ['America/New_York', 3],
  ['America/Los_Angeles', 2],
  ['America/Sao_Paulo', 1],
  ['Europe/London', 2],
  ['Europe/Berlin', 2],
  ['Asia/Kolkata', 1],
  ['Asia/Tokyo', 1],
  ['Australia/Sydney', 1],
  ['UTC', 0.5],
];
const DAILY_GOALS = [10, 20, 30, 50] as const;
const TRIP_SHARE = 0.08;
const MOVE_SHARE = 0.03;
const DELETED_ACCOUNT_SHARE = 0.03;

export interface Enrollment {
  /** user_courses.id */
  id: string;
  courseId: string;
  /** Index of the next lesson not yet completed in the course's order. */
  nextLesson: number;
}

export interface LessonRecord {
  /** user_lesson_progress.id */
  id: string;
  completed: boolean;
  bestScore: number;
}

export interface Learner {
  index: number;
  id: string;
  signupDay: number;
  homeZone: string;
  /** A trip: the device is in `zone` on days [from, to). */
  trip: { from: number; to: number; zone: string } | null;
  /** A move: from `day` on, home is `zone`. */
  move: { day: number; zone: string } | null;
  /** users.timezone as the app last wrote it. */
  profileZone: string;
  provider: 'email' | 'google' | 'tiktok';
  dailyGoal: number;
  /** 0..1: how likely the learner is to open the app on a given day. */
  habit: number;
  /** 0..1: chance of answering an average exercise right. */
  skill: number;
  /** From this day on the learner never comes back. */
  churnDay: number;
  deletionDay: number | null;
  deleted: boolean;
  /** Planted (AC-11): the app once refills this learner's hearts without logging it. */
  heartsBug: 'no' | 'pending' | 'done';
  /** The planted first-week outcome of exp_lesson_preview. */
  completesFirstWeek: boolean;
  firstOpenAt: number | null;
  lastEventAt: number;
  emailVerified: boolean;
  resetPending: boolean;
  oauthId: string | null;
  courses: Enrollment[];
  lessons: Map<string, LessonRecord>;
  hearts: number;
  /** When the next heart regenerates from (the first loss since full, advanced per regenerated heart). */
  regenFrom: number | null;
  totalXp: number;
  exposures: Set<string>;
  achievements: Set<string>;
}

export function createLearners(random: Random, users: number, days: number): Learner[] {
  const learners = Array.from({ length: users }, (_, index) => createLearner(random, index, days));
  const canLeave = learners.filter((learner) => learner.signupDay < days - 1);
  const leaving = Math.min(canLeave.length, Math.max(1, Math.round(users * DELETED_ACCOUNT_SHARE)));
  const left = random.sample(canLeave, leaving);
  for (const learner of left) learner.deletionDay = random.int(learner.signupDay + 1, days - 1);
  // About 1% (at least one) meet the hearts bug; never one who deletes the account.
  const staying = learners.filter((learner) => !left.includes(learner));
  for (const learner of random.sample(staying, Math.max(1, Math.round(users * 0.01))))
    learner.heartsBug = 'pending';
  return learners;
}

function createLearner(random: Random, index: number, days: number): Learner {
  const id = random.uuid();
  const homeZone = random.weighted(HOME_ZONES);
  // A quarter are there from the first day; the rest arrive evenly over the period.
  const signupDay = random.chance(0.25) ? 0 : random.int(0, days - 1);
  const otherZone = () => random.pick(HOME_ZONES.map(([zone]) => zone).filter((zone) => zone !== homeZone));
  const tripFrom = random.int(signupDay + 1, signupDay + days);
  const moveDay = random.int(signupDay + 1, signupDay + days);
  return {
    index,
    id,
    signupDay,
    homeZone,
    trip: random.chance(TRIP_SHARE)
      ? { from: tripFrom, to: tripFrom + random.int(2, 9), zone: otherZone() }
      : null,
    move: random.chance(MOVE_SHARE) ? { day: moveDay, zone: otherZone() } : null,
    profileZone: homeZone,
    provider: random.weighted([
      ['email', 6],
      ['google', 3],
      ['tiktok', 1],
    ] as const),
    dailyGoal: random.pick(DAILY_GOALS),
    habit: random.between(0.25, 0.95),
    skill: random.between(0.55, 0.95),
    // Interest fades: a geometric lifetime with a mean of about 40 days.
    churnDay: signupDay + 1 + Math.floor(Math.log(1 - random.next()) / Math.log(1 - 0.025)),
    deletionDay: null,
    deleted: false,
    heartsBug: 'no',
    completesFirstWeek: completesFirstWeek(id),
    firstOpenAt: null,
    lastEventAt: 0,
    emailVerified: false,
    resetPending: false,
    oauthId: null,
    courses: [],
    lessons: new Map(),
    hearts: 5,
    regenFrom: null,
    totalXp: 0,
    exposures: new Set(),
    achievements: new Set(),
  };
}

/** The device's time zone on `day`. */
export function zoneOn(learner: Learner, day: number): string {
  if (learner.trip && day >= learner.trip.from && day < learner.trip.to) return learner.trip.zone;
  if (learner.move && day >= learner.move.day) return learner.move.zone;
  return learner.homeZone;
}

/** Whether the learner is in their first week after first opening the app at `at`. */
export function inFirstWeek(learner: Learner, at: number): boolean {
  return learner.firstOpenAt !== null && at < learner.firstOpenAt + 7 * DAY;
}

/** Relative activity by local weekday (Sunday first): Monday resolutions, Friday and Saturday dips. */
export const WEEKDAY_FACTOR = [0.95, 1.1, 1.05, 1, 0.95, 0.8, 0.75] as const;
