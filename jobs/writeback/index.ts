// The write-back seam: the job kind, the engine and the learning pack's targets.
export { runWriteback, writebackCollections, writebackJobKind, writtenCollections } from './kind.ts';
export type { WritebackOptions } from './kind.ts';
export { formatReport, runTarget } from './engine.ts';
export type { TargetReport, WritebackTarget } from './engine.ts';
export { abResultFields, LEARNING_WRITEBACK_COLLECTIONS, learningTargets, significance } from './learning.ts';
export { dayStep, daysBetween, localGap, streakOf } from './streaks.ts';
export type { Streak, ZonedActivity } from './streaks.ts';
