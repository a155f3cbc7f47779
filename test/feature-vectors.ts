// Feature vectors as an export writes them, and a comparison of a served or stored vector with one:
// the online store's tests hold every read path to a fresh export as of the same instant.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tableFromIPC } from 'apache-arrow';
import { expect } from 'vitest';
import { exportFeatures, type Entity, type FeatureRegistry } from '../features/index.ts';
import type { Warehouse } from '../warehouse/index.ts';

/** An export as of `asOf` (Arrow, read back with apache-arrow), as rows keyed by entity id. */
export async function exportedVectors(
  warehouse: Warehouse,
  options: { pack: string; entity?: Entity; asOf: string; dir: string; name: string },
): Promise<Map<string, Record<string, unknown>>> {
  const entity = options.entity ?? 'user';
  const out = join(options.dir, `${options.name}.arrow`);
  await exportFeatures(warehouse, { pack: options.pack, entity, asOf: options.asOf, format: 'arrow', out });
  const rows = tableFromIPC(readFileSync(out)).toArray();
  return new Map(
    rows.map((row) => {
      const values = row.toJSON() as Record<string, unknown>;
      return [String(values[`${entity}_id`]), values];
    }),
  );
}

/** Every feature of `registry` equal in both (floats within 1e-12 relative: text round trips). */
export function expectSameVector(
  stored: Record<string, unknown> | null | undefined,
  exported: Record<string, unknown> | undefined,
  registry: FeatureRegistry,
): void {
  expect(stored).toBeDefined();
  expect(exported).toBeDefined();
  const mismatches: string[] = [];
  for (const feature of registry.features) {
    const a = stored?.[feature.name];
    const raw = exported?.[feature.name];
    const b = typeof raw === 'bigint' ? Number(raw) : raw;
    const same =
      typeof a === 'number' && typeof b === 'number'
        ? Math.abs(a - b) <= 1e-12 * Math.max(1, Math.abs(b))
        : a === b;
    if (!same) mismatches.push(`${feature.name}: stored ${String(a)}, export ${String(b)}`);
  }
  expect(mismatches).toEqual([]);
}
