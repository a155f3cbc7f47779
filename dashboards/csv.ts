// CSV of a panel's rows (RFC 4180), the same numbers the page shows, unrounded. Text cells that a
// spreadsheet would run as a formula are prefixed with a quote mark.
import type { Column, Row } from './panels.ts';

export function toCsv(columns: readonly Column[], rows: readonly Row[]): string {
  const lines = [columns.map((column) => cell(column.name)).join(',')];
  for (const row of rows) lines.push(columns.map((column) => cell(row[column.name] ?? null)).join(','));
  return `${lines.join('\r\n')}\r\n`;
}

function cell(value: string | number | null): string {
  if (value === null) return '';
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : '';
  const text = /^[=+\-@\t\r]/.test(value) && !/^-?\d/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}
