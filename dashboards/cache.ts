// Panel results cached per (panel, filters) until the marts change: the key includes the newest
// transform run's checkpoint revision, read at most once a second, so a run that rewrote the marts
// is seen by the next request and nothing older is served after it.
import { bookkeepingTable, type Warehouse } from '../warehouse/index.ts';

export interface MartsVersionOptions {
  /** How long one read of the transform runs' revision is trusted. Default 1000 ms. */
  checkEveryMs?: number;
  now?: () => number;
}

/** Reads the transform checkpoints' newest revision, throttled. */
export function martsVersion(warehouse: Warehouse, options: MartsVersionOptions = {}): () => Promise<string> {
  const every = options.checkEveryMs ?? 1000;
  const now = options.now ?? Date.now;
  let known: { value: string; at: number } | undefined;
  let pending: Promise<string> | undefined;
  return async () => {
    if (known && now() - known.at < every) return known.value;
    pending ??= warehouse
      .query<{ version: string }>(
        `SELECT toString(max(updated_at)) AS version FROM ${bookkeepingTable('checkpoints')}
         WHERE pipeline LIKE 'transform:%'`,
      )
      .then((rows) => {
        known = { value: rows[0]?.version ?? '', at: now() };
        return known.value;
      })
      .finally(() => {
        pending = undefined;
      });
    return pending;
  };
}

export class ResultCache<T> {
  private entries = new Map<string, { version: string; value: Promise<T> }>();
  constructor(private readonly maxEntries = 2000) {}

  /** The cached value for `key` at `version`, or `load()`'s (a failed load is not kept). */
  get(key: string, version: string, load: () => Promise<T>): Promise<T> {
    const hit = this.entries.get(key);
    if (hit && hit.version === version) return hit.value;
    const value = load();
    this.entries.set(key, { version, value });
    value.catch(() => {
      if (this.entries.get(key)?.value === value) this.entries.delete(key);
    });
    // Oldest first out: a Map iterates in insertion order.
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest === undefined) break;
      this.entries.delete(oldest);
    }
    return value;
  }

  get size(): number {
    return this.entries.size;
  }
}

/** (panel, filters) as one key: the filters' keys sorted, so equal filters give equal keys. */
export function cacheKey(panel: string, filters: Record<string, unknown>): string {
  return `${panel}?${JSON.stringify(
    Object.keys(filters)
      .sort()
      .map((key) => [key, filters[key]]),
  )}`;
}
