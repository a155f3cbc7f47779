import { describe, expect, it } from 'vitest';
import { Random } from './random.ts';

function draw(seed: number, count: number): number[] {
  const random = new Random(seed);
  return Array.from({ length: count }, () => random.uint32());
}

describe('Random', () => {
  it('repeats the same sequence for the same seed', () => {
    expect(draw(42, 100)).toEqual(draw(42, 100));
  });

  it('gives different sequences for different seeds', () => {
    expect(draw(42, 10)).not.toEqual(draw(43, 10));
  });

  it('draws version-4 UUIDs that are reproducible from the seed', () => {
    const ids = Array.from(
      { length: 50 },
      (
        (random) => () =>
          random.uuid()
      )(new Random(7)),
    );
    for (const id of ids)
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(new Set(ids).size).toBe(ids.length);
    expect(new Random(7).uuid()).toBe(ids[0]);
  });

  it.each([
    [0, 0],
    [1, 6],
    [-3, 3],
  ])('keeps int(%i, %i) within both bounds and reaches them', (min, max) => {
    const random = new Random(1);
    const seen = new Set(Array.from({ length: 500 }, () => random.int(min, max)));
    expect(Math.min(...seen)).toBe(min);
    expect(Math.max(...seen)).toBe(max);
  });

  it('samples distinct items and never more than there are', () => {
    const random = new Random(3);
    expect(new Set(random.sample([1, 2, 3, 4, 5], 3)).size).toBe(3);
    expect(random.sample([1, 2], 5).sort()).toEqual([1, 2]);
  });

  it('fills digit patterns without touching the other characters', () => {
    expect(new Random(5).digits('+1 408-###-####')).toMatch(/^\+1 408-\d{3}-\d{4}$/);
  });

  it('refuses to pick from an empty list', () => {
    expect(() => new Random(1).pick([])).toThrow(/at least one item/);
  });
});
