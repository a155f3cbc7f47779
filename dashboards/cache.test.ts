import { describe, expect, it } from 'vitest';
import { cacheKey, ResultCache } from './cache.ts';

describe('the panel cache', () => {
  it('answers equal filters from one load until the marts version changes', async () => {
    const cache = new ResultCache<number>();
    let loads = 0;
    const load = async () => ++loads;
    const key = cacheKey('overview.active', { to: '2026-10-31', from: '2026-10-01' });
    expect(key).toBe(cacheKey('overview.active', { from: '2026-10-01', to: '2026-10-31' }));
    expect(await cache.get(key, 'run-1', load)).toBe(1);
    expect(await cache.get(key, 'run-1', load)).toBe(1);
    expect(await cache.get(cacheKey('overview.active', { from: '2026-10-02' }), 'run-1', load)).toBe(2);
    expect(await cache.get(key, 'run-2', load)).toBe(3);
  });

  it('does not keep a failed load', async () => {
    const cache = new ResultCache<number>();
    await expect(cache.get('k', 'v', () => Promise.reject(new Error('down')))).rejects.toThrow('down');
    expect(await cache.get('k', 'v', async () => 7)).toBe(7);
  });

  it('drops the oldest entries beyond its size', async () => {
    const cache = new ResultCache<number>(2);
    for (const key of ['a', 'b', 'c']) await cache.get(key, 'v', async () => 1);
    expect(cache.size).toBe(2);
  });
});
