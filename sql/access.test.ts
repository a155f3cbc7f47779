import { describe, expect, it } from 'vitest';
import { bindParameters, checkReadOnlyAst, checkSettings, parseSetStatement } from './access.ts';
import type { SqlUser } from './users.ts';

const analyst: SqlUser = {
  name: 'a',
  readonly: true,
  bookkeeping: false,
  limits: { max_result_rows: 1000, max_execution_time: 30 },
};
const writer: SqlUser = { name: 'w', readonly: false, bookkeeping: false, limits: {} };

describe('checkSettings', () => {
  it('lets read-only users shape output and lower limits, as SQL literals', () => {
    expect(
      checkSettings(analyst, [
        ['output_format_json_quote_64bit_integers', '1'],
        ['date_time_output_format', 'iso'],
        ['max_result_rows', '10'],
        ['readonly', '1'],
      ]),
    ).toEqual([
      ['output_format_json_quote_64bit_integers', '1'],
      ['date_time_output_format', "'iso'"],
      ['max_result_rows', '10'],
    ]);
    expect(checkSettings(analyst, [['max_memory_usage', '1000000']])).toEqual([
      ['max_memory_usage', '1000000'],
    ]);
  });

  it.each([
    [['max_result_rows', '0'], 452],
    [['max_result_rows', '1001'], 452],
    [['max_execution_time', '31'], 452],
    [['readonly', '0'], 164],
    [['allow_ddl', '1'], 164],
    [['max_result_rows', 'lots'], 36],
    [["x'; DROP", '1'], 115],
  ] as const)('refuses %j to a read-only user (code %i)', (setting, code) => {
    expect(() => checkSettings(analyst, [setting])).toThrow(expect.objectContaining({ code }));
  });

  it('lets read-write users set anything with a valid name, quoting strings', () => {
    expect(checkSettings(writer, [['insert_deduplication_token', "a'b"]])).toEqual([
      ['insert_deduplication_token', "'a\\'b'"],
    ]);
  });
});

describe('checkReadOnlyAst', () => {
  const tree = (...lines: string[]) => lines.join('\n');
  it('refuses SETTINGS clauses, unsafe table functions, OUTFILE and bookkeeping tables', () => {
    expect(() => checkReadOnlyAst(analyst, tree('SelectWithUnionQuery', ' ExpressionList', '  Set'))).toThrow(
      /Code: 164/,
    );
    expect(() =>
      checkReadOnlyAst(
        analyst,
        tree('SelectWithUnionQuery', '     TableExpression (children 1)', '      Function file (children 1)'),
      ),
    ).toThrow(/table function file/);
    expect(() =>
      checkReadOnlyAst(
        analyst,
        tree(
          'SelectWithUnionQuery',
          '     TableExpression (children 1)',
          '      TableIdentifier tributary.checkpoints (alias c)',
        ),
      ),
    ).toThrow(/Code: 497/);
    expect(() => checkReadOnlyAst(analyst, tree('ShowTables (children 1)', ' Identifier tributary'))).toThrow(
      /Code: 497.*tributary/,
    );
    expect(() =>
      checkReadOnlyAst(
        analyst,
        tree('ShowCreateTableQuery tributary x (children 2)', ' Identifier tributary'),
      ),
    ).toThrow(/Code: 497/);
    // SHOW COLUMNS keeps its database out of the tree: the statement's text tells.
    expect(() => checkReadOnlyAst(analyst, 'ShowColumns', 'SHOW COLUMNS FROM x FROM tributary')).toThrow(
      /Code: 497/,
    );
    // A user whose entry grants the bookkeeping (a dashboards user) may read it.
    expect(() =>
      checkReadOnlyAst(
        { ...analyst, bookkeeping: true },
        tree('SelectWithUnionQuery', '      TableIdentifier tributary.checkpoints'),
      ),
    ).not.toThrow();
    expect(() => checkReadOnlyAst(analyst, tree('SelectWithUnionQuery', " Literal '/tmp/x'"))).toThrow(
      /OUTFILE/,
    );
  });

  it('accepts plain reads and safe table functions', () => {
    expect(() =>
      checkReadOnlyAst(
        analyst,
        tree(
          'SelectWithUnionQuery',
          '     TableExpression (children 1)',
          '      Function numbers (children 1)',
          '      TableIdentifier mart_dau',
        ),
      ),
    ).not.toThrow();
    // A column or a `default` table that merely has the word in its name is not the database.
    expect(() =>
      checkReadOnlyAst(
        analyst,
        tree('SelectWithUnionQuery', '    Identifier tributary', '      TableIdentifier tributary_notes'),
        'SELECT tributary FROM tributary_notes',
      ),
    ).not.toThrow();
  });
});

describe('bindParameters', () => {
  it('undoes the escaped format for scalars, keeps composite literals, and reads \\N as NULL', () => {
    expect(
      bindParameters(
        'SELECT {s:String}, {a:Array(String)}, {n:Nullable(Int64)}, {t:Tuple(String, UInt8)}',
        new Map([
          ['s', "it\\'s\\ta \\\\ b"],
          ['a', "['x','y\\'z']"],
          ['n', '\\N'],
          ['t', "('q',1)"],
        ]),
      ),
    ).toEqual({ s: "it's\ta \\ b", a: "['x','y\\'z']", n: null, t: "('q',1)" });
  });
});

describe('parseSetStatement', () => {
  it('reads the assignments', () => {
    expect(parseSetStatement("SET max_threads = 2, date_time_output_format = 'iso'")).toEqual([
      ['max_threads', '2'],
      ['date_time_output_format', 'iso'],
    ]);
  });
});
