// `tributary transform`: facts and marts from the raw mirrors of a pack's capture, incrementally
// (only what changed since the last run) or, with --full, from scratch.
import { z } from 'zod';
import { parseConfig } from '../../config/index.ts';
import { materializePack } from '../../features/index.ts';
import { getPack } from '../../packs/index.ts';
import { runTransforms } from '../../transforms/index.ts';
import { openWarehouse, parseWarehouseTarget } from '../../warehouse/index.ts';
import { parseCommandArgs, UsageError } from '../args.ts';

const usage = `Usage: tributary transform --warehouse DIR|http(s)://URL --pack NAME [--source-name NAME] [--full]
         [--materialize-to redis://HOST:PORT[/DB]]

Builds the canonical facts (fact_activity, fact_exposures, fact_ratings, dim_users, dim_content)
from the pack's raw mirrors, the partial aggregates (agg_daily_active_users, agg_ab_users) and the
marts: mart_daily_user_metrics, mart_dau, mart_content_performance, mart_retention and
mart_ab_results. By default only source rows that changed since the last run are re-mapped and
only the days they touch are recomputed; --full rebuilds everything (the result is the same).

Options:
  --warehouse DIR|URL   the embedded ClickHouse directory, or a ClickHouse HTTP URL
  --pack NAME           the source pack whose mapping to apply (e.g. learning)
  --source-name NAME    the capture's --source-name, which names the mirrors (default: the pack's name)
  --full                recompute everything
  --materialize-to URL  then write the users whose features changed to the Redis online store
                        (as \`tributary features materialize\` does)`;

const spec = {
  usage,
  options: {
    warehouse: { type: 'string' },
    pack: { type: 'string' },
    'source-name': { type: 'string' },
    full: { type: 'boolean' },
    'materialize-to': { type: 'string' },
  },
} as const;

const transformConfigSchema = z.object({
  warehouse: z.string().min(1, 'is required'),
  pack: z.string().min(1, 'is required'),
  sourceName: z
    .string()
    .regex(/^[a-z][a-z0-9_]{0,40}$/, 'must start with a letter and use only a-z, 0-9 and _'),
});

export const transformCommand = {
  async run(argv: string[]): Promise<number> {
    const { values } = parseCommandArgs(argv, spec);
    if (values.help) {
      console.log(usage);
      return 0;
    }
    if (values.warehouse === undefined) throw new UsageError('--warehouse is required', usage);
    if (values.pack === undefined) throw new UsageError('--pack is required', usage);
    const config = parseConfig(transformConfigSchema, {
      warehouse: values.warehouse,
      pack: values.pack,
      sourceName: values['source-name'] ?? values.pack,
    });
    const pack = getPack(config.pack);
    const warehouse = await openWarehouse(parseWarehouseTarget(config.warehouse));
    try {
      const result = await runTransforms({
        warehouse,
        pack: pack.name,
        mapping: pack.mapping(config.sourceName),
        marts: pack.marts,
        source: config.sourceName,
        full: values.full ?? false,
      });
      const days = result.recomputedDays === 'all' ? 'all days' : `${result.recomputedDays.length} day(s)`;
      console.error(
        result.mode === 'unchanged'
          ? `done: nothing landed in the mirrors since the last run; the marts stand (${result.seconds.toFixed(2)} s)`
          : `done: ${result.mode} run, ${days} of daily marts recomputed, in ${result.seconds.toFixed(2)} s`,
      );
      const to = values['materialize-to'];
      if (to !== undefined && pack.features)
        for (const run of await materializePack(warehouse, {
          pack: pack.name,
          to,
          sourceName: config.sourceName,
        }))
          console.error(
            'skipped' in run
              ? `online store: ${run.entity} vectors left out: ${run.skipped}`
              : `online store: ${run.result.written} of ${run.result.entities} ${run.entity} vectors written (${run.result.mode}) in ${run.result.seconds.toFixed(2)} s`,
          );
      return 0;
    } finally {
      await warehouse.close();
    }
  },
};
