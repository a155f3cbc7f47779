// `transform` jobs: the pack's incremental transform run (or a full one). Runs of one warehouse are
// serialised in the process, so a scheduled run never overlaps the service's own transform loop.
import { z } from 'zod';
import type { PipelineConfig } from '../../config/pipeline.ts';
import { getPack } from '../../packs/index.ts';
import { runTransforms, type TransformResult } from '../../transforms/index.ts';
import type { Warehouse } from '../../warehouse/index.ts';
import { defineJobKind } from '../kinds.ts';

const running = new WeakMap<Warehouse, Promise<unknown>>();

/** Runs `action` after any transform of this warehouse in progress in this process. */
export function exclusively<T>(warehouse: Warehouse, action: () => Promise<T>): Promise<T> {
  const previous = running.get(warehouse) ?? Promise.resolve();
  const next = previous.catch(() => undefined).then(action);
  running.set(warehouse, next);
  return next;
}

/** The source whose mirrors a pack's mapping reads: the config's `packs` entry, or the pack's name. */
export function packSource(config: PipelineConfig, pack: string): string {
  return config.packs.find((entry) => entry.name === pack)?.source ?? pack;
}

export function transformPack(
  warehouse: Warehouse,
  config: PipelineConfig,
  packName: string,
  full = false,
): Promise<TransformResult> {
  const pack = getPack(packName);
  const source = packSource(config, pack.name);
  return exclusively(warehouse, () =>
    runTransforms({
      warehouse,
      pack: pack.name,
      mapping: pack.mapping(source),
      marts: pack.marts,
      source,
      full,
    }),
  );
}

export const transformJobKind = defineJobKind({
  name: 'transform',
  options: z.strictObject({
    pack: z.string().min(1),
    full: z.boolean().default(false),
  }),
  async run(options, context) {
    if (context.dryRun)
      return {
        rowsAffected: 0,
        summary: `would run the ${options.full ? 'full' : 'incremental'} transform of ${options.pack}`,
      };
    const result = await transformPack(context.warehouse, context.config, options.pack, options.full);
    const days = result.recomputedDays === 'all' ? 'all days' : `${result.recomputedDays.length} day(s)`;
    return { rowsAffected: 0, summary: `${result.mode} run, ${days}, ${result.seconds.toFixed(2)} s` };
  },
});
