// `report` jobs: the dashboards' daily or weekly report (reports/) for the run's day, written to
// `outDir` and delivered as configured. A re-run of a day writes the same report again.
import { reportOptionsSchema, runReport } from '../../reports/index.ts';
import { defineJobKind } from '../kinds.ts';

export const reportJobKind = defineJobKind({
  name: 'report',
  // The day comes from the run (its scheduled time, or --as-of), not from the options.
  options: reportOptionsSchema.omit({ asOf: true }).strict(),
  async run(options, context) {
    if (context.dryRun)
      return {
        rowsAffected: 0,
        summary: `would write the ${options.period} report of ${options.pack} as of ${context.asOfDay} into ${options.outDir}`,
      };
    const result = await runReport({ ...options, asOf: context.asOfDay, warehouse: context.warehouse });
    return { rowsAffected: result.files.length, summary: `${result.files.length} file(s) in ${result.dir}` };
  },
});
