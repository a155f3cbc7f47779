// The pages, rendered on the server: navigation, the filter form (a GET form, so the filters are
// the URL and a link can be shared) and one section per panel that assets/app.js fills from the
// JSON API, with its loading, empty and error states.
import { escapeHtml } from './html.ts';
import { EVERY_SEGMENT, PANELS, type Panel, type Segment } from './panels.ts';
import { toQueryString, type ResolvedFilters } from './filters.ts';

export interface PageDefinition {
  path: string;
  title: string;
  panels: string[];
  /** Filters the form shows beyond pack and dates. */
  fields: ('segment' | 'retention' | 'experiment' | 'content')[];
}

export const PAGES: readonly PageDefinition[] = [
  {
    path: '/overview',
    title: 'Overview',
    panels: ['overview.summary', 'overview.active', 'overview.new_users'],
    fields: ['segment'],
  },
  {
    path: '/retention',
    title: 'Retention',
    panels: ['retention.cohorts', 'retention.curve'],
    fields: ['segment', 'retention'],
  },
  // The segment fields where some panel may narrow by them or the page should say it does not.
  { path: '/content', title: 'Content', panels: ['content.leaderboard'], fields: ['segment'] },
  {
    path: '/content/item',
    title: 'Content item',
    panels: ['content.trend'],
    fields: ['content', 'segment'],
  },
  {
    path: '/experiments',
    title: 'Experiments',
    panels: ['experiments.results'],
    fields: ['segment', 'experiment'],
  },
  {
    path: '/health',
    title: 'Pipeline health',
    panels: ['health.tables', 'health.transforms', 'health.dead_letters'],
    fields: [],
  },
];

export interface FilterChoices {
  packs: string[];
  countries: string[];
  platforms: string[];
  cohorts: string[];
  experiments: string[];
}

function options(values: string[], selected: string, anyLabel: string): string {
  return [`<option value="">${escapeHtml(anyLabel)}</option>`]
    .concat(
      values.map(
        (value) =>
          `<option value="${escapeHtml(value)}"${value === selected ? ' selected' : ''}>${escapeHtml(value)}</option>`,
      ),
    )
    .join('');
}

function select(name: string, label: string, body: string): string {
  return `<label for="f-${name}">${escapeHtml(label)}</label><select id="f-${name}" name="${name}">${body}</select>`;
}

function filterForm(page: PageDefinition, filters: ResolvedFilters, choices: FilterChoices): string {
  const fields = [
    select(
      'pack',
      'Pack',
      choices.packs
        .map(
          (pack) =>
            `<option value="${escapeHtml(pack)}"${pack === filters.pack ? ' selected' : ''}>${escapeHtml(pack)}</option>`,
        )
        .join(''),
    ),
    `<label for="f-from">From</label><input id="f-from" type="date" name="from" value="${escapeHtml(filters.from)}">`,
    `<label for="f-to">To</label><input id="f-to" type="date" name="to" value="${escapeHtml(filters.to)}">`,
  ];
  if (page.fields.includes('segment'))
    fields.push(
      select('country', 'Country', options(choices.countries, filters.country, 'all countries')),
      select('platform', 'Platform', options(choices.platforms, filters.platform, 'all platforms')),
      select('cohort', 'Signup cohort (month)', options(choices.cohorts, filters.cohort, 'all cohorts')),
    );
  if (page.fields.includes('retention'))
    fields.push(
      select(
        'kind',
        'Cohorts by',
        options(['first_activity', 'signup'], filters.kind, 'first activity').replace(
          '<option value="">first activity</option>',
          '',
        ),
      ),
      select(
        'grain',
        'Grain',
        options(['day', 'week'], filters.grain, '').replace('<option value=""></option>', ''),
      ),
      select(
        'curve',
        'Curve',
        options(['retained', 'unbounded'], filters.curve, '').replace('<option value=""></option>', ''),
      ),
    );
  if (page.fields.includes('experiment'))
    fields.push(
      select('experiment', 'Experiment', options(choices.experiments, filters.experiment, 'all experiments')),
    );
  if (page.fields.includes('content'))
    fields.push(
      `<label for="f-content">Content id</label><input id="f-content" name="content" value="${escapeHtml(filters.content)}">`,
    );
  return `<form class="filters" method="get" action="${page.path}" aria-label="Filters">${fields
    .map((field) => `<span class="field">${field}</span>`)
    .join('')}<button type="submit">Apply</button></form>`;
}

const SEGMENT_LABELS: Record<Segment, string> = {
  country: 'country',
  platform: 'platform',
  cohort: 'signup cohort',
};

/** `a`, `a and b`, `a, b and c`. */
function listed(words: string[]): string {
  return words.length > 1 ? `${words.slice(0, -1).join(', ')} and ${words.at(-1)}` : (words[0] ?? '');
}

function section(panel: Panel, filters: ResolvedFilters): string {
  const applied = panel.segments(filters);
  const ignored = EVERY_SEGMENT.filter((segment) => filters[segment] !== '' && !applied.includes(segment));
  const note =
    ignored.length > 0
      ? `<p class="note">The ${listed(ignored.map((segment) => SEGMENT_LABELS[segment]))} ${ignored.length > 1 ? 'filters do' : 'filter does'} not narrow this panel.</p>`
      : '';
  return `<section class="panel" data-panel="${escapeHtml(panel.id)}" aria-labelledby="h-${escapeHtml(panel.id)}">
  <h2 id="h-${escapeHtml(panel.id)}">${escapeHtml(panel.title)}</h2>
  <p class="description">${escapeHtml(panel.description)}</p>${note}
  <p class="status" role="status" aria-live="polite">Loading…</p>
  ${panel.chart ? `<div class="chart" role="img" aria-label="${escapeHtml(panel.title)} chart"></div>` : ''}
  <div class="table" role="region" tabindex="0" aria-label="${escapeHtml(panel.title)} table"></div>
  <p><a class="csv" href="#" download>Download CSV of these numbers</a></p>
</section>`;
}

export function renderPage(page: PageDefinition, filters: ResolvedFilters, choices: FilterChoices): string {
  const panels = page.panels
    .map((id) => PANELS.find((panel) => panel.id === id))
    .filter((p) => p !== undefined);
  const query = toQueryString({
    pack: filters.pack,
    from: filters.from,
    to: filters.to,
    country: filters.country,
    platform: filters.platform,
    cohort: filters.cohort,
  });
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(page.title)} · Tributary</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/assets/app.css">
</head>
<body>
<header>
<nav aria-label="Pages"><ul>${PAGES.filter((entry) => entry.path !== '/content/item')
    .map(
      (entry) =>
        `<li><a href="${entry.path}?${escapeHtml(query)}"${entry.path === page.path ? ' aria-current="page"' : ''}>${escapeHtml(entry.title)}</a></li>`,
    )
    .join('')}</ul></nav>
</header>
<main>
<h1>${escapeHtml(page.title)}</h1>
${filterForm(page, filters, choices)}
<div class="banner" hidden></div>
${panels.map((panel) => section(panel, filters)).join('\n')}
</main>
<script src="/assets/echarts.js"></script>
<script src="/assets/app.js"></script>
</body>
</html>`;
}

export function renderLogin(next: string, failed: boolean): string {
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Sign in · Tributary</title><link rel="icon" href="data:,">
<style>body { font-family: system-ui, sans-serif; margin: 2rem; } .error { color: #a40000; }</style></head>
<body><main>
<h1>Tributary dashboards</h1>
${failed ? '<p class="error" role="alert">That token is not right.</p>' : '<p>These dashboards need the access token they were started with.</p>'}
<form method="post" action="/login">
<input type="hidden" name="next" value="${escapeHtml(next)}">
<label for="token">Access token</label> <input id="token" name="token" type="password" autocomplete="current-password" required>
<button type="submit">Sign in</button>
</form>
</main></body></html>`;
}
