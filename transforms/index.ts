// The transforms seam: facts and marts from raw mirrors, and the statistics behind A/B results.
export { existingTables, recomputeMarts, runTransforms, transformVersion } from './run.ts';
export type { TransformOptions, TransformResult } from './run.ts';
export {
  AB_MEASURES,
  recomputeAbResults,
  segmentAbResults,
  SRM_ALPHA,
  type UserSegment,
} from './marts/ab-results.ts';
export { lineageOf } from './lineage.ts';
export { mondayOf } from './marts/content-weekly.ts';
export { contentDaysSelect } from './marts/content-performance.ts';
export { IN_SEGMENT_CELL, IN_USER_SEGMENT } from './marts/segments.ts';
