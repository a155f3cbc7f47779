// A report as files: one self-contained HTML page (charts as inline SVG, rendered here by ECharts'
// server-side SVG renderer from the dashboards' own chart definitions; no script needed to read
// it) and one CSV per table. Everything in it is a function of the warehouse's data and the
// period, except the one line marked `data-generated` (the generation time), so a past period
// rendered again on unchanged data gives byte-identical files apart from that line.
import * as echarts from 'echarts';
import { escapeHtml, toCsv, type ChartOption, type Column, type Row } from '../dashboards/index.ts';

export interface ReportSection {
  /** The CSV's file name (without .csv) and the section's anchor. */
  id: string;
  title: string;
  description: string;
  columns: Column[];
  rows: Row[];
  chart?: ChartOption;
  /** A warning that must not be missed (a sample-ratio mismatch, dead letters). */
  alert?: string;
}

export interface RenderedReport {
  html: string;
  csv: Map<string, string>;
}

/** ECharts' SVG string for one option; zrender's per-instance id prefix made per-chart and stable. */
export function renderChartSvg(option: ChartOption, index: number, width = 860, height = 360): string {
  const chart = echarts.init(null, null, { renderer: 'svg', ssr: true, width, height });
  try {
    chart.setOption(option);
    // zrender numbers its ids and classes by counters shared across instances: renumbered here by
    // first appearance, so the same chart is the same text whatever was drawn before it.
    const seen = new Map<string, number>();
    return chart
      .renderToSVGString()
      .replace(/zr\d+-([a-z]+)-?(\d*)/g, (_match, kind: string, number: string) => {
        const key = `${kind}:${number}`;
        if (!seen.has(key))
          seen.set(key, [...seen.keys()].filter((entry) => entry.startsWith(`${kind}:`)).length);
        return `chart${index}-${kind}${number === '' ? '' : `-${seen.get(key)}`}`;
      });
  } finally {
    chart.dispose();
  }
}

function format(value: string | number | null | undefined, unit: Column['unit']): string {
  if (value === null || value === undefined || value === '') return '–';
  if (typeof value !== 'number') return String(value);
  switch (unit) {
    case 'percent':
      return `${(value * 100).toFixed(1)}%`;
    case 'ratio':
      return value.toFixed(3);
    case 'p':
      return value < 0.0001 ? '< 0.0001' : value.toPrecision(2);
    case 'seconds':
      return `${value.toLocaleString('en-US', { maximumFractionDigits: 1 })} s`;
    case 'rating':
      return value.toFixed(2);
    default:
      return value.toLocaleString('en-US', { maximumFractionDigits: 2 });
  }
}

function table(section: ReportSection): string {
  const head = section.columns.map((column) => `<th scope="col">${escapeHtml(column.label)}</th>`).join('');
  const body = section.rows
    .map(
      (row) =>
        `<tr>${section.columns
          .map((column) => {
            const value = row[column.name];
            return `<td${typeof value === 'number' ? ' class="number"' : ''}>${escapeHtml(format(value, column.unit))}</td>`;
          })
          .join('')}</tr>`,
    )
    .join('\n');
  return `<table><thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}

export function renderReport(
  heading: { title: string; subtitle: string; generatedAt: string },
  sections: ReportSection[],
): RenderedReport {
  const csv = new Map<string, string>();
  const parts = sections.map((section, index) => {
    csv.set(`${section.id}.csv`, toCsv(section.columns, section.rows));
    const chart =
      section.chart && section.rows.length > 0
        ? `<figure role="img" aria-label="${escapeHtml(section.title)} chart">${renderChartSvg(section.chart, index)}</figure>`
        : '';
    return `<section id="${escapeHtml(section.id)}">
<h2>${escapeHtml(section.title)}</h2>
<p class="description">${escapeHtml(section.description)}</p>
${section.alert ? `<p class="alert" role="alert">${escapeHtml(section.alert)}</p>` : ''}
${section.rows.length === 0 ? '<p>No data for this period.</p>' : `${chart}\n${table(section)}`}
<p class="csv">Numbers: <a href="${escapeHtml(section.id)}.csv">${escapeHtml(section.id)}.csv</a></p>
</section>`;
  });
  const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${escapeHtml(heading.title)}</title>
<style>
body { font-family: system-ui, sans-serif; color: #1a1a1a; max-width: 960px; margin: 1rem auto; padding: 0 1rem; }
table { border-collapse: collapse; font-size: 0.85rem; }
th, td { border-bottom: 1px solid #ddd; padding: 0.2rem 0.6rem; text-align: left; }
td.number { text-align: right; font-variant-numeric: tabular-nums; }
.alert { background: #a40000; color: #fff; padding: 0.6rem 1rem; font-weight: bold; }
.description, .generated { color: #444; }
figure { margin: 0.5rem 0; }
</style>
</head>
<body>
<h1>${escapeHtml(heading.title)}</h1>
<p>${escapeHtml(heading.subtitle)}</p>
<p class="generated" data-generated>Generated ${escapeHtml(heading.generatedAt)}</p>
${parts.join('\n')}
</body>
</html>
`;
  return { html, csv };
}
