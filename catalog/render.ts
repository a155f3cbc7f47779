// The data dictionary as Markdown (for a repository or wiki) and as one self-contained HTML page.
import { escapeHtml } from '../dashboards/index.ts';
import { TABLE_KINDS, type DataDictionary, type DictionaryTable, type TableKind } from './dictionary.ts';

const KIND_NOTES: Record<TableKind, string> = {
  mart: 'Metrics ready to chart or report (DESIGN §5 definitions in each column).',
  fact: 'One row per user action, exposure or rating, mapped from the mirrors: build your own metrics here.',
  dimension: 'Users and content as they are now, to join facts and marts with.',
  'current state':
    'Each captured source table as it is now (one row per live row). Start here for anything about the source data.',
  mirror:
    'Every version of each source row, deletions included (`_version`, `_is_deleted`, `_ingested_at`): for history and audits. Read the `raw.current_` view instead for the present state.',
  'partial aggregate': 'Intermediate results the marts are computed from; not meant for analysis.',
  pipeline:
    'Not a table Tributary documents (its own bookkeeping is in the `tributary` database). Not for analysis.',
};

/** The databases by purpose, said once at the top of both forms. */
export const DATABASES_NOTE =
  "Marts, facts, dimensions and partial aggregates are in `analytics`, every connection's default database (their names need no prefix); " +
  'the mirrors of the source tables and their current-state views are in `raw` (`raw.current_<source>_<table>`, `raw.<source>_<table>`); ' +
  "the pipeline's own bookkeeping is in `tributary`, which analysts are not granted.";

const byKind = (dictionary: DataDictionary) =>
  TABLE_KINDS.map((kind) => ({
    kind,
    tables: dictionary.tables.filter((table) => table.kind === kind),
  })).filter((group) => group.tables.length > 0);

const rowsText = (table: DictionaryTable) =>
  table.rows === null
    ? ''
    : `${table.rows.toLocaleString('en-US')}${table.kind === 'mirror' ? ' row versions' : ' rows'}`;

/** Pipes and line breaks would break a Markdown table cell. */
const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');

export function renderMarkdown(dictionary: DataDictionary): string {
  const lines = [
    `# Data dictionary`,
    '',
    `Generated from the warehouse at ${dictionary.generatedAt} UTC.`,
    '',
    DATABASES_NOTE,
    '',
  ];
  for (const { kind, tables } of byKind(dictionary)) {
    lines.push(`## ${capitalised(kind)} tables`, '', KIND_NOTES[kind], '');
    for (const table of tables) {
      lines.push(`### \`${table.name}\``, '');
      if (table.comment) lines.push(table.comment, '');
      const facts = [
        rowsText(table),
        table.freshness ? `last change landed ${table.freshness} UTC` : '',
        table.upstream.length > 0
          ? `computed from ${table.upstream.map((name) => `\`${name}\``).join(', ')}`
          : '',
      ].filter((fact) => fact !== '');
      if (facts.length > 0) lines.push(facts.join(' · '), '');
      if (table.columns.length > 0) {
        lines.push('| column | type | description |', '| --- | --- | --- |');
        for (const column of table.columns)
          lines.push(`| \`${column.name}\` | \`${cell(column.type)}\` | ${cell(column.comment)} |`);
        lines.push('');
      }
    }
  }
  return lines.join('\n');
}

export function renderHtml(dictionary: DataDictionary): string {
  const names = new Set(dictionary.tables.map((table) => table.name));
  const link = (name: string) =>
    names.has(name)
      ? `<a href="#${escapeHtml(name)}"><code>${escapeHtml(name)}</code></a>`
      : `<code>${escapeHtml(name)}</code>`;
  const sections = byKind(dictionary).map(({ kind, tables }) => {
    const body = tables.map((table) => {
      const facts = [
        rowsText(table),
        table.freshness ? `last change landed ${table.freshness} UTC` : '',
        table.upstream.length > 0 ? `computed from ${table.upstream.map(link).join(', ')}` : '',
      ]
        .filter((fact) => fact !== '')
        .map((fact) => (fact.startsWith('computed') ? fact : escapeHtml(fact)));
      const columns =
        table.columns.length === 0
          ? ''
          : `<table><thead><tr><th>column</th><th>type</th><th>description</th></tr></thead><tbody>${table.columns
              .map(
                (column) =>
                  `<tr><td><code>${escapeHtml(column.name)}</code></td><td><code>${escapeHtml(column.type)}</code></td><td>${escapeHtml(column.comment)}</td></tr>`,
              )
              .join('')}</tbody></table>`;
      return `<section id="${escapeHtml(table.name)}"><h3><code>${escapeHtml(table.name)}</code></h3>${
        table.comment ? `<p>${escapeHtml(table.comment)}</p>` : ''
      }${facts.length > 0 ? `<p class="facts">${facts.join(' · ')}</p>` : ''}${columns}</section>`;
    });
    return `<h2>${escapeHtml(capitalised(kind))} tables</h2><p>${escapeHtml(KIND_NOTES[kind])}</p>${body.join('')}`;
  });
  const contents = byKind(dictionary)
    .map(
      ({ kind, tables }) =>
        `<li>${escapeHtml(capitalised(kind))}: ${tables.map((table) => link(table.name)).join(', ')}</li>`,
    )
    .join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Data dictionary</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font-family:system-ui,sans-serif;margin:2rem auto;max-width:70rem;padding:0 1rem;color:#1b1b1b}
table{border-collapse:collapse;margin:.5rem 0 1.5rem;width:100%}th,td{border:1px solid #ccc;padding:.3rem .5rem;text-align:left;vertical-align:top}
th{background:#f2f2f2}code{font-size:.9em}.facts{color:#444}section{margin-bottom:1.5rem}
</style></head><body><main>
<h1>Data dictionary</h1><p>Generated from the warehouse at ${escapeHtml(dictionary.generatedAt)} UTC.</p><p>${escapeHtml(DATABASES_NOTE).replace(/`([^`]+)`/g, '<code>$1</code>')}</p>
<nav aria-label="Tables"><ul>${contents}</ul></nav>
${sections.join('\n')}
</main></body></html>
`;
}

const capitalised = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);
