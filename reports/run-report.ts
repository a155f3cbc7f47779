// A daily or weekly report for one pack: the period's active users against the period before, new
// users, recent cohorts' day-1/7/30 retention against the cohorts before them, top and bottom
// content, every experiment with its decision and sample so far (SRM warnings first), and pipeline
// health; written to DIR/<pack>/<period>/ (report.html + one CSV per table), then delivered by
// webhook and e-mail. The files are written before any delivery, so a failed delivery never loses
// them; each delivery is retried and every attempt recorded in tributary.report_deliveries.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { panelById, shiftDay, type Column, type ResolvedFilters, type Row } from '../dashboards/index.ts';
import { TributaryError } from '../errors/index.ts';
import { bookkeepingTable, migrate, type Warehouse } from '../warehouse/index.ts';
import { deliverByEmail, deliverByWebhook, type DeliveryOutcome } from './deliver.ts';
import { renderReport, type ReportSection } from './render.ts';
import { InvariantError } from '../errors/index.ts';

export class ReportError extends TributaryError {}

const day = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'a day is YYYY-MM-DD');

export const retrySchema = z.object({
  attempts: z.number().int().min(1).max(20).default(4),
  /** The first wait; each next one doubles. */
  backoffMs: z.number().int().min(0).default(1000),
});

export const reportOptionsSchema = z.object({
  pack: z.string().regex(/^[a-z][a-z0-9_]{0,40}$/, 'a pack name: a-z, 0-9 and _'),
  period: z.enum(['daily', 'weekly']),
  /** The period's last day (UTC); default: the newest day with activity. */
  asOf: day.optional(),
  outDir: z.string().min(1),
  webhook: z
    .object({ url: z.url(), retry: retrySchema.default({ attempts: 4, backoffMs: 1000 }) })
    .optional(),
  email: z
    .object({
      /** smtp://user:pass@host:port or smtps://… */
      smtpUrl: z.string().regex(/^smtps?:\/\//, 'an smtp:// or smtps:// URL'),
      from: z.string().min(3),
      to: z.array(z.string().min(3)).min(1),
      retry: retrySchema.default({ attempts: 4, backoffMs: 1000 }),
    })
    .optional(),
  /** The dashboards' base URL, for links in the webhook and the e-mail. */
  dashboardsUrl: z.url().optional(),
});

export type ReportOptions = z.input<typeof reportOptionsSchema>;

export interface ReportResult {
  dir: string;
  files: string[];
  period: { first: string; last: string };
  summary: ReportSummary;
  deliveries: DeliveryOutcome[];
}

export interface ReportSummary {
  pack: string;
  period: 'daily' | 'weekly';
  first: string;
  last: string;
  dau: number | null;
  wau: number | null;
  mau: number | null;
  previousDau: number | null;
  newUsers: number | null;
  decisions: { experiment: string; metric: string; variant: string; decision: string; srm: boolean }[];
  deadLetters: number;
}

/** Builds, writes and delivers one report. The clock is only read for the generation line. */
export async function runReport(
  input: ReportOptions & { warehouse: Warehouse; now?: () => Date },
): Promise<ReportResult> {
  const parsed = reportOptionsSchema.safeParse(input);
  if (!parsed.success)
    throw new ReportError(
      `report: ${parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ')}`,
    );
  const options = parsed.data;
  const { warehouse } = input;
  await migrate(warehouse);
  const last = options.asOf ?? (await newestDay(warehouse, options.pack));
  if (!last)
    throw new ReportError(`report: pack ${options.pack} has no activity yet; run the transforms first`);
  const length = options.period === 'daily' ? 1 : 7;
  const first = shiftDay(last, 1 - length);
  const sections = await buildSections(warehouse, options.pack, first, last);
  const summary = summarize(options.pack, options.period, first, last, sections);

  const label = options.period === 'daily' ? `daily-${last}` : `weekly-${first}_${last}`;
  const dir = join(options.outDir, options.pack, label);
  await mkdir(dir, { recursive: true });
  const rendered = renderReport(
    {
      title: `${options.pack}: ${options.period} report, ${first === last ? last : `${first} to ${last}`}`,
      subtitle: `Days are UTC. Compared with the ${length === 1 ? 'day' : `${length} days`} before.`,
      generatedAt: (input.now ?? (() => new Date()))().toISOString(),
    },
    sections,
  );
  const files = ['report.html', ...rendered.csv.keys()];
  await writeFile(join(dir, 'report.html'), rendered.html);
  for (const [name, text] of rendered.csv) await writeFile(join(dir, name), text);

  const deliveries: DeliveryOutcome[] = [];
  const links = {
    report: join(dir, 'report.html'),
    dashboards: options.dashboardsUrl
      ? `${options.dashboardsUrl.replace(/\/$/, '')}/overview?pack=${options.pack}`
      : null,
  };
  if (options.webhook) deliveries.push(await deliverByWebhook(options.webhook, { ...summary, links, files }));
  if (options.email)
    deliveries.push(
      await deliverByEmail(options.email, {
        subject: `${options.pack} ${options.period} report ${last}`,
        html: rendered.html,
        attachments: [
          { filename: 'report.html', content: rendered.html },
          ...[...rendered.csv].map(([filename, content]) => ({ filename, content })),
        ],
      }),
    );
  if (deliveries.length > 0)
    await warehouse.insert(
      bookkeepingTable('report_deliveries'),
      deliveries.flatMap((delivery) =>
        delivery.attempts.map((attempt, index) => ({
          pack: options.pack,
          period: options.period,
          first_day: first,
          last_day: last,
          channel: delivery.channel,
          target: delivery.target,
          attempt: index + 1,
          ok: attempt.ok ? 1 : 0,
          error: attempt.error ?? '',
          at: attempt.at,
        })),
      ),
    );
  return { dir, files, period: { first, last }, summary, deliveries };
}

async function newestDay(warehouse: Warehouse, pack: string): Promise<string | undefined> {
  const [row] = await warehouse.query<{ day: string; days: string }>(
    `SELECT toString(max(m.day)) AS day, toString(count()) AS days FROM mart_dau AS m WHERE m.pack = {pack:String}`,
    { pack },
  );
  return row && Number(row.days) > 0 ? row.day : undefined;
}

const filtersFor = (pack: string, from: string, to: string): ResolvedFilters => ({
  pack,
  from,
  to,
  country: '',
  platform: '',
  cohort: '',
  grain: 'day',
  kind: 'first_activity',
  curve: 'retained',
  experiment: '',
  content: '',
});

async function panelSection(
  warehouse: Warehouse,
  id: string,
  filters: ResolvedFilters,
  overrides: Partial<ReportSection> & { omit?: string[] } = {},
): Promise<ReportSection> {
  const panel = panelById(id);
  if (!panel) throw new InvariantError(`no panel ${id}`);
  const rows = numbers(panel.columns, await panel.query(warehouse, filters));
  const columns = panel.columns.filter((column) => !overrides.omit?.includes(column.name));
  return {
    id: id.replace('.', '-'),
    title: panel.title,
    description: panel.description,
    columns,
    rows: rows.map((row) =>
      Object.fromEntries(columns.map((column) => [column.name, row[column.name] ?? null])),
    ),
    chart: panel.chart && rows.length > 0 ? panel.chart(rows, filters) : undefined,
    ...overrides,
  };
}

/** ClickHouse's JSON quotes 64-bit integers; columns with numeric units hold numbers. */
function numbers(columns: readonly Column[], rows: Row[]): Row[] {
  const numeric = columns.filter((column) => column.unit !== 'text' && column.unit !== 'day');
  return rows.map((row) => {
    const copy = { ...row };
    for (const column of numeric) {
      const value = copy[column.name];
      if (typeof value === 'string' && value !== '') copy[column.name] = Number(value);
    }
    return copy;
  });
}

async function buildSections(
  warehouse: Warehouse,
  pack: string,
  first: string,
  last: string,
): Promise<ReportSection[]> {
  const period = filtersFor(pack, first, last);
  const sections: ReportSection[] = [];
  sections.push(await panelSection(warehouse, 'overview.summary', period));
  // Four weeks of context around the period, so the trend is visible.
  sections.push(
    await panelSection(warehouse, 'overview.active', filtersFor(pack, shiftDay(last, -27), last)),
  );
  sections.push(await retentionSection(warehouse, pack, last));
  const leaderboard = await panelSection(warehouse, 'content.leaderboard', period);
  const ranked = leaderboard.rows.filter((row) => row.completion_rate !== null);
  sections.push({
    ...leaderboard,
    id: 'content-top',
    title: 'Top content',
    rows: leaderboard.rows.slice(0, 5),
  });
  sections.push({
    ...leaderboard,
    id: 'content-bottom',
    title: 'Lowest completion rates',
    description: 'Among the period’s 25 most used items, the five with the lowest completion rate.',
    rows: [...ranked].sort((a, b) => Number(a.completion_rate) - Number(b.completion_rate)).slice(0, 5),
    chart: undefined,
  });
  const experiments = await panelSection(warehouse, 'experiments.results', period, {
    omit: ['cuped_ci_low', 'cuped_ci_high', 'srm_p_value'],
  });
  const broken = [
    ...new Set(experiments.rows.filter((row) => row.srm_flag === 1).map((row) => row.experiment)),
  ];
  sections.push({
    ...experiments,
    title: 'Running experiments',
    description: `${experiments.description} The sample so far is each variant's n.`,
    alert:
      broken.length > 0
        ? `Sample-ratio mismatch in ${broken.join(', ')}: users were not split as configured; do not act on these results.`
        : undefined,
  });
  // Health without "seconds since": a value of the reading time would make a past report differ.
  const health = await panelSection(warehouse, 'health.tables', period, { omit: ['lag_s'] });
  const waiting = health.rows.reduce((sum, row) => sum + Number(row.dead_letters ?? 0), 0);
  sections.push({
    ...health,
    title: 'Pipeline health',
    description:
      'Per source table or collection: rows landed, the newest change landed and dead letters waiting (the dashboards show how long ago).',
    alert:
      waiting > 0 ? `${waiting} dead letters wait for a fix and a replay (tributary dlq list).` : undefined,
  });
  sections.push(await panelSection(warehouse, 'health.transforms', period));
  return sections;
}

/** Recent cohorts (the last 7 complete first-activity days that reached day N) against the 28 before. */
async function retentionSection(warehouse: Warehouse, pack: string, last: string): Promise<ReportSection> {
  const rows = await warehouse.query<Row>(
    `SELECT r.period AS day_n, if(r.cohort_start > toDate({last:Date}) - 7 - r.period, 'recent', 'before') AS cohorts,
       toString(min(r.cohort_start)) AS first_cohort, toString(max(r.cohort_start)) AS last_cohort,
       sum(r.cohort_size) AS users, sum(r.retained) / sum(r.cohort_size) AS rate
     FROM mart_retention AS r
     WHERE r.pack = {pack:String} AND r.cohort_kind = 'first_activity' AND r.grain = 'day' AND r.period IN (1, 7, 30)
       AND r.cohort_start > toDate({last:Date}) - 35 - r.period AND r.cohort_start <= toDate({last:Date}) - r.period
     GROUP BY day_n, cohorts ORDER BY day_n, cohorts DESC`,
    { pack, last },
  );
  return {
    id: 'retention-recent',
    title: 'Retention of recent cohorts',
    description:
      'Day-1, day-7 and day-30 retention of the 7 newest first-activity cohorts old enough to have reached that day, against the 28 cohorts before them (weighted by size).',
    columns: [
      { name: 'day_n', label: 'day N', unit: 'count' },
      { name: 'cohorts', label: 'cohorts', unit: 'text' },
      { name: 'first_cohort', label: 'from cohort', unit: 'day' },
      { name: 'last_cohort', label: 'to cohort', unit: 'day' },
      { name: 'users', label: 'users', unit: 'users' },
      { name: 'rate', label: 'retained', unit: 'percent' },
    ],
    rows: numbers(
      [
        { name: 'day_n', label: '', unit: 'count' },
        { name: 'users', label: '', unit: 'users' },
      ],
      rows,
    ),
  };
}

function summarize(
  pack: string,
  period: 'daily' | 'weekly',
  first: string,
  last: string,
  sections: ReportSection[],
): ReportSummary {
  const active = sections.find((section) => section.id === 'overview-active')?.rows ?? [];
  const current = active.find((row) => row.day === last);
  const before = active.find((row) => row.day === shiftDay(first, -1));
  const summaryRow = sections
    .find((section) => section.id === 'overview-summary')
    ?.rows.find((row) => row.period === 'current');
  const experiments = sections.find((section) => section.id === 'experiments-results')?.rows ?? [];
  const health = sections.find((section) => section.id === 'health-tables')?.rows ?? [];
  const value = (row: Row | undefined, key: string) =>
    row?.[key] === null || row?.[key] === undefined ? null : Number(row[key]);
  return {
    pack,
    period,
    first,
    last,
    dau: value(current, 'dau'),
    wau: value(current, 'wau'),
    mau: value(current, 'mau'),
    previousDau: value(before, 'dau'),
    newUsers: value(summaryRow, 'new_users'),
    decisions: experiments
      .filter((row) => row.variant !== 'control')
      .map((row) => ({
        experiment: String(row.experiment),
        metric: String(row.metric),
        variant: String(row.variant),
        decision: String(row.decision),
        srm: row.srm_flag === 1,
      })),
    deadLetters: health.reduce((sum, row) => sum + Number(row.dead_letters ?? 0), 0),
  };
}
