// The write-back seam: the job kind and the engine that packs' targets run on.
export { runWriteback, writebackCollections, writebackJobKind, writtenCollections } from './kind.ts';
export type { WritebackOptions } from './kind.ts';
export { formatReport, runTarget } from './engine.ts';
export type { TargetReport, WritebackTarget } from './engine.ts';
export { daysBetween, localGap } from './streaks.ts';
