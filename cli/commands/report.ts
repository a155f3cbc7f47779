// `tributary report daily|weekly`: one report for a pack's period, written to DIR/<pack>/<period>/
// and delivered by webhook and/or e-mail when asked. The same runReport a scheduled job calls.
import { openWarehouse, parseWarehouseTarget } from '../../warehouse/index.ts';
import { runReport, type ReportOptions } from '../../reports/index.ts';
import { parseCommandArgs, UsageError } from '../args.ts';

const usage = `Usage: tributary report daily|weekly --pack NAME --warehouse DIR|URL --out DIR [--as-of YYYY-MM-DD]
         [--webhook URL] [--smtp-url smtp://HOST:PORT --mail-from ADDR --mail-to ADDR[,ADDR…]] [--dashboards-url URL]

Writes DIR/<pack>/daily-<day>/ (or weekly-<first>_<last>/): report.html (self-contained, charts as
inline SVG) and one CSV per table. --as-of is the period's last day (default: the newest day with
activity). A past period rendered again on unchanged data gives the same files, apart from the
line marked data-generated in report.html. Deliveries are retried (4 attempts, waits doubling
from 1 s) and every attempt is recorded in tributary.report_deliveries.`;

const spec = {
  usage,
  options: {
    pack: { type: 'string' },
    warehouse: { type: 'string' },
    out: { type: 'string' },
    'as-of': { type: 'string' },
    webhook: { type: 'string' },
    'smtp-url': { type: 'string' },
    'mail-from': { type: 'string' },
    'mail-to': { type: 'string' },
    'dashboards-url': { type: 'string' },
  },
} as const;

export const reportCommand = {
  async run(argv: string[]): Promise<number> {
    const [period, ...rest] = argv;
    if (period === '--help' || period === '-h') {
      console.log(usage);
      return 0;
    }
    if (period !== 'daily' && period !== 'weekly')
      throw new UsageError('the period must be daily or weekly', usage);
    const { values } = parseCommandArgs(rest, spec);
    if (values.help) {
      console.log(usage);
      return 0;
    }
    for (const required of ['pack', 'warehouse', 'out'] as const)
      if (values[required] === undefined) throw new UsageError(`--${required} is required`, usage);
    const mail = [values['smtp-url'], values['mail-from'], values['mail-to']];
    if (mail.some((value) => value !== undefined) && mail.some((value) => value === undefined))
      throw new UsageError('e-mail needs --smtp-url, --mail-from and --mail-to together', usage);
    const options: ReportOptions = {
      pack: values.pack ?? '',
      period,
      asOf: values['as-of'],
      outDir: values.out ?? '',
      dashboardsUrl: values['dashboards-url'],
      webhook: values.webhook ? { url: values.webhook } : undefined,
      email:
        values['smtp-url'] && values['mail-from'] && values['mail-to']
          ? { smtpUrl: values['smtp-url'], from: values['mail-from'], to: values['mail-to'].split(',') }
          : undefined,
    };
    const warehouse = await openWarehouse(parseWarehouseTarget(values.warehouse ?? ''));
    try {
      const result = await runReport({ ...options, warehouse });
      console.log(`report: ${result.dir} (${result.files.length} files)`);
      let failed = false;
      for (const delivery of result.deliveries) {
        console.log(
          `${delivery.channel} to ${delivery.target}: ${delivery.delivered ? 'delivered' : 'FAILED'} after ${delivery.attempts.length} attempt(s)${
            delivery.delivered ? '' : `: ${delivery.attempts.at(-1)?.error ?? ''}`
          }`,
        );
        failed ||= !delivery.delivered;
      }
      return failed ? 1 : 0;
    } finally {
      await warehouse.close();
    }
  },
};
