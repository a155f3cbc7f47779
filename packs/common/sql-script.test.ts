import { describe, expect, it } from 'vitest';
import { appendTo, array, date, increment, json, literal, raw, SqlScript, timestamp } from './sql-script.ts';

describe('literal', () => {
  it.each([
    [null, 'NULL'],
    [true, 'TRUE'],
    [false, 'FALSE'],
    [42, '42'],
    [4.5, '4.5'],
    ['phở', "'phở'"],
    ["O'Brien", "'O''Brien'"],
    ['C:\\path', " E'C:\\\\path'"],
    [raw('view_count + 1'), 'view_count + 1'],
  ] as const)('renders %j as %s', (value, expected) => {
    expect(literal(value)).toBe(expected);
  });

  it('rejects numbers SQL cannot hold', () => {
    expect(() => literal(Number.NaN)).toThrow(/cannot write/);
  });
});

describe('value helpers', () => {
  it.each([
    [
      'timestamp keeps UTC wall-clock time to the millisecond',
      timestamp(Date.UTC(2026, 9, 1, 7, 5, 3, 42)),
      "'2026-10-01 07:05:03.042'",
    ],
    ['date drops the time of day', date(Date.UTC(2026, 9, 1, 23, 59)), "'2026-10-01'"],
    ['array quotes each element', array(['a', 'Tết']), `'{"a","Tết"}'`],
    ['array escapes quotes inside elements', array(['say "hi"']), String.raw` E'{"say \\"hi\\""}'`],
    ['array of nothing is an empty array', array([]), "'{}'"],
    ['json escapes quotes', json({ name: "O'Brien" }), `'{"name":"O''Brien"}'`],
    ['increment adds to the stored value', increment('view_count', 3), 'view_count + 3'],
    [
      'appendTo appends to the stored array',
      appendTo('completed_paragraphs', 'p1'),
      "array_append(completed_paragraphs, 'p1')",
    ],
  ])('%s', (_behaviour, fragment, expected) => {
    expect(fragment.sql).toBe(expected);
  });
});

describe('SqlScript', () => {
  it('renders one multi-row INSERT and counts statements and rows by kind', () => {
    const script = new SqlScript();
    script.insert('words', [
      { id: 'a', text: 'phở' },
      { id: 'b', text: 'cơm' },
    ]);
    script.update('lessons', { view_count: increment('view_count', 1) }, { id: 'l1' });
    script.delete('user_lesson_bookmarks', { user_id: 'u1', lesson_id: 'l1' });
    expect(script.statementCounts).toEqual({ insert: 1, update: 1, delete: 1 });
    expect(script.rowsInserted).toBe(2);
    expect(script.pendingCount).toBe(3);
  });

  it('sends pending statements as one query and then starts empty', async () => {
    const script = new SqlScript();
    script.insert('words', [{ id: 'a', text: 'phở' }]);
    script.update('lessons', { is_published: true }, raw('id IS NOT NULL'));
    const sent: string[] = [];
    await script.flush({ query: async (text: string) => sent.push(text) } as never);
    expect(sent).toEqual([
      "INSERT INTO words (id, text) VALUES ('a', 'phở');\nUPDATE lessons SET is_published = TRUE WHERE id IS NOT NULL",
    ]);
    expect(script.pendingCount).toBe(0);
  });

  it('skips an INSERT of no rows', () => {
    const script = new SqlScript();
    script.insert('words', []);
    expect(script.pendingCount).toBe(0);
  });

  it('names the missing column when rows disagree', () => {
    const script = new SqlScript();
    expect(() => script.insert('words', [{ id: 'a', text: 'x' }, { id: 'b' }])).toThrow(
      /missing column text/,
    );
  });
});
