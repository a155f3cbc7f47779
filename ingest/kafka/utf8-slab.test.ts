import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Utf8Slab } from './utf8-slab.ts';

describe('Utf8Slab', () => {
  it('gives the bytes Buffer.from gives, each in its own view, whatever the text and its length', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            fc.string({ unit: 'grapheme', maxLength: 200 }),
            fc.string({ unit: 'binary', maxLength: 400_000 }),
          ),
          { maxLength: 40 },
        ),
        (texts) => {
          const slab = new Utf8Slab();
          const views = texts.map((text) => slab.bytes(text));
          // Checked after all were written: a later string does not overwrite an earlier one.
          expect(views.map((view) => view.toString('hex'))).toEqual(
            texts.map((text) => Buffer.from(text).toString('hex')),
          );
        },
      ),
      { numRuns: 100, seed: 12 },
    );
    // Strings past the slab's chunk size (hundreds of kB) are the point: on a loaded machine the
    // 100 runs take longer than vitest's default 5 s.
  }, 60_000);
});
