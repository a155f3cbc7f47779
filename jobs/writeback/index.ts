// The write-back seam: the job kind and the engine that packs' targets run on.
export {
  runWriteback,
  writebackCollections,
  writebackJobKind,
  writtenCollections,
  writtenTables,
} from './kind.ts';
export type { WritebackOptions } from './kind.ts';
export { formatReport, runTarget } from './engine.ts';
export type { TargetReport, TargetRow, WritebackTarget, WriteResult } from './engine.ts';
export { dayStep, daysBetween, localGap, streakOf } from './streaks.ts';
export type { Streak, ZonedActivity } from './streaks.ts';
