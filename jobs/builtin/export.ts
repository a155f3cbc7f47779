// `export` jobs: a point-in-time feature export (features/) as of the run's scheduled time; `out`
// may hold {as_of}, replaced by the run's day, so each scheduled time writes its own file and a
// re-run of a time rewrites the same one.
import { z } from 'zod';
import { ENTITIES, exportFeatures } from '../../features/index.ts';
import { defineJobKind } from '../kinds.ts';

export const exportJobKind = defineJobKind({
  name: 'export',
  options: z.strictObject({
    pack: z.string().min(1),
    entity: z.enum(ENTITIES).default('user'),
    sourceName: z
      .string()
      .regex(/^[a-z][a-z0-9_]{0,40}$/)
      .optional(),
    features: z.array(z.string().min(1)).min(1).optional(),
    set: z.string().min(1).optional(),
    labels: z.array(z.string().min(1)).default([]),
    format: z.enum(['parquet', 'arrow', 'csv']),
    out: z.string().min(1),
    dropUnknown: z.boolean().default(false),
  }),
  async run(options, context) {
    const out = options.out.replaceAll('{as_of}', context.asOfDay);
    if (context.dryRun)
      return {
        rowsAffected: 0,
        summary: `would export ${options.pack} ${options.entity} features as of ${context.scheduledFor.toISOString()} to ${out}`,
      };
    const result = await exportFeatures(context.warehouse, {
      ...options,
      out,
      asOf: context.scheduledFor.toISOString(),
    });
    return {
      rowsAffected: result.rows,
      summary: `${result.rows} row(s), ${result.features} feature(s) to ${result.path}`,
    };
  },
});
