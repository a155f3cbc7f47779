import { describe, expect, it } from 'vitest';
import { AstCache } from './ast-cache.ts';

describe('AstCache', () => {
  const counting = () => {
    const parsed: string[] = [];
    return {
      parsed,
      parse: (text: string) => {
        parsed.push(text);
        return text.startsWith('bad')
          ? Promise.reject(new Error('syntax'))
          : Promise.resolve(`tree of ${text}`);
      },
    };
  };

  it('parses a text once, and again after it was the least recently used past the limit', async () => {
    const engine = counting();
    const cache = new AstCache(engine.parse, 2);
    expect(await cache.treeOf('a')).toBe('tree of a');
    await cache.treeOf('b');
    await cache.treeOf('a'); // a is now the most recent; b goes first
    await cache.treeOf('c');
    await cache.treeOf('a');
    await cache.treeOf('b');
    expect(engine.parsed).toEqual(['a', 'b', 'c', 'b']);
  });

  it('keeps no failure and no long text', async () => {
    const engine = counting();
    const cache = new AstCache(engine.parse, 10, 5);
    await expect(cache.treeOf('bad one')).rejects.toThrow('syntax');
    await expect(cache.treeOf('bad one')).rejects.toThrow('syntax');
    await cache.treeOf('longer text');
    await cache.treeOf('longer text');
    expect(engine.parsed).toEqual(['bad one', 'bad one', 'longer text', 'longer text']);
  });
});
