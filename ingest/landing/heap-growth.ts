// How far V8 lets its old generation grow past what survived the last full collection. A landing
// process keeps each change's decoded envelope alive until its batch lands, so nearly all of it is
// promoted and is garbage by the next full collection; V8's own heuristic lets the old generation
// grow up to 4× its live size first, which made the garbage, not the batches, the Kafka worker's
// largest use of memory (bench/README.md, "The worker's memory").
import { setFlagsFromString } from 'node:v8';
import { CaptureError } from '../errors.ts';

/** Grow to at most twice the live heap: 100% more (the figures are in bench/README.md). */
export const HEAP_GROWING_PERCENT = 100;

/**
 * Caps the old generation's growth between full collections at `percent` of its live size, for
 * the whole process (V8 reads the flag at each full collection; 0 gives V8 its heuristic back).
 */
export function boundHeapGrowth(percent: number = HEAP_GROWING_PERCENT): void {
  if (!Number.isInteger(percent) || percent < 0)
    throw new CaptureError(`the heap growth must be a whole percentage (0 or more), not ${percent}`);
  setFlagsFromString(`--heap-growing-percent=${percent}`);
}
