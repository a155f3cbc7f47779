// `tributary jobs`: the scheduled jobs of the config: list them, run one now (or for a past day),
// read their run history.
import { findConfigFile, loadPipelineConfig, warehouseTargetOf } from '../../config/pipeline.ts';
import { builtinJobKinds, openScheduler, type RunRecord } from '../../jobs/index.ts';
import { migrate, openWarehouse } from '../../warehouse/index.ts';
import { intFlag, parseCommandArgs, UsageError } from '../args.ts';
import { formatTable } from '../progress.ts';

const usage = `Usage: tributary jobs list [--config FILE]
       tributary jobs run NAME [--as-of DAY] [--dry-run] [--config FILE]
       tributary jobs history [NAME] [--limit N] [--config FILE]

list      every job: kind, schedule and time zone, next run, last run and its status
run       runs the job now under its lease and records it in job_runs; --as-of DAY runs it for that
          day (a backfill; the run is idempotent for its day); --dry-run prints what it would do
          (a write-back: per target, how many documents it would insert, update, leave unchanged,
          with a few example diffs) and records nothing
history   the latest runs (of one job, or all), newest first (default --limit 20)

Embedded warehouses admit one process: stop "tributary run" first, or use a ClickHouse server.`;

const spec = {
  usage,
  options: {
    config: { type: 'string' },
    'as-of': { type: 'string' },
    'dry-run': { type: 'boolean' },
    limit: { type: 'string' },
  },
} as const;

export const jobsCommand = {
  async run(argv: string[]): Promise<number> {
    const [action, ...rest] = argv;
    if (action === undefined || action === '--help' || action === '-h') {
      console.log(usage);
      return action === undefined ? 2 : 0;
    }
    if (!['list', 'run', 'history'].includes(action))
      throw new UsageError(`unknown action "${action}"`, usage);
    const positional = rest[0] !== undefined && !rest[0].startsWith('-') ? rest[0] : undefined;
    const { values } = parseCommandArgs(positional === undefined ? rest : rest.slice(1), spec);
    if (values.help) {
      console.log(usage);
      return 0;
    }
    if (action === 'run' && positional === undefined)
      throw new UsageError('jobs run needs the job NAME', usage);
    const limit = intFlag('limit', values.limit, 20, usage);
    const config = loadPipelineConfig(findConfigFile(values.config));
    const warehouse = await openWarehouse(warehouseTargetOf(config.warehouse));
    try {
      await migrate(warehouse);
      const { scheduler, store, close } = await openScheduler({
        config,
        warehouse,
        registry: builtinJobKinds(),
        log: (message) => console.error(message),
      });
      try {
        if (action === 'list') {
          const rows: string[][] = [];
          for (const job of scheduler.jobs) {
            const [last] = await store.history(job.name, 1);
            rows.push([
              job.name,
              job.kind.name,
              `${job.cron} (${job.timezone})`,
              scheduler.scheduleOf(job.name).next(1)[0]?.toISOString() ?? '',
              last ? `${last.scheduledFor.toISOString()} ${last.status}` : 'never',
            ]);
          }
          console.log(formatTable(['job', 'kind', 'schedule', 'next run', 'last run'], rows));
          return 0;
        }
        if (action === 'run') {
          const { run, outcome } = await scheduler.runNow(positional ?? '', {
            dryRun: values['dry-run'] ?? false,
            asOfDay: values['as-of'],
          });
          if (outcome?.summary) console.log(outcome.summary);
          if (run) console.log(describe(run));
          return run === undefined || run.status === 'succeeded' ? 0 : 1;
        }
        const runs = await store.history(positional, limit);
        console.log(
          formatTable(
            ['job', 'scheduled for', 'status', 'attempt', 'started', 'seconds', 'rows', 'error'],
            runs.map((run) => [
              run.job,
              run.scheduledFor.toISOString(),
              run.status,
              String(run.attempt),
              run.startedAt?.toISOString() ?? '',
              run.startedAt && run.finishedAt
                ? ((run.finishedAt.getTime() - run.startedAt.getTime()) / 1000).toFixed(2)
                : '',
              String(run.rowsAffected),
              run.error.slice(0, 80),
            ]),
          ),
        );
        return 0;
      } finally {
        await close();
      }
    } finally {
      await warehouse.close();
    }
  },
};

function describe(run: RunRecord): string {
  return `${run.job} for ${run.scheduledFor.toISOString()}: ${run.status} (attempt ${run.attempt}, ${run.rowsAffected} rows)${run.error ? `: ${run.error}` : ''}`;
}
