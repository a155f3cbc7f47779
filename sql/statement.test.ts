import { describe, expect, it } from 'vitest';
import { describeStatement } from './statement.ts';

describe('describeStatement', () => {
  it.each([
    ['SELECT 1', 'SELECT', undefined],
    ['  -- note\n(SELECT 1) UNION ALL (SELECT 2)', 'SELECT', undefined],
    ['select * from t FORMAT JSONEachRow', 'SELECT', 'JSONEachRow'],
    ['SELECT 1 FORMAT JSON SETTINGS max_threads = 1', 'SELECT', 'JSON'],
    ['SELECT format FROM t WHERE x = 1', 'SELECT', undefined],
    ["SELECT 'FORMAT CSV'", 'SELECT', undefined],
    ['WITH a AS (SELECT 1) SELECT * FROM a FORMAT Parquet;', 'WITH', 'Parquet'],
    ['INSERT INTO t (a, b) FORMAT CSV', 'INSERT', 'CSV'],
    ['SHOW TABLES', 'SHOW', undefined],
  ])('%s', (sql, kind, format) => {
    const shape = describeStatement(sql);
    expect([shape.kind, shape.format, shape.multiStatement]).toEqual([kind, format, false]);
  });

  it('tells a second statement from a trailing semicolon, ignoring those in strings and comments', () => {
    expect(describeStatement('SELECT 1;').multiStatement).toBe(false);
    expect(describeStatement("SELECT ';' /* ; */ -- ;\n;  ").multiStatement).toBe(false);
    expect(describeStatement('SELECT 1; DROP TABLE t').multiStatement).toBe(true);
    expect(describeStatement('SELECT 1;').text).toBe('SELECT 1');
  });

  it("splits an INSERT's inline data from the statement, whatever the data holds", () => {
    const shape = describeStatement('INSERT INTO t FORMAT CSV\n1,"it\'s ; -- fine"\n2,x\n');
    expect(shape.text).toBe('INSERT INTO t FORMAT CSV');
    expect(shape.inlineData).toBe('1,"it\'s ; -- fine"\n2,x\n');
    expect(shape.multiStatement).toBe(false);
  });

  it('puts settings where each statement takes them', () => {
    const settings = [['max_threads', '2'] as const, ['date_time_output_format', "'iso'"] as const];
    expect(describeStatement('SELECT 1 FORMAT JSON').withSettings(settings)).toBe(
      "SELECT 1 FORMAT JSON\nSETTINGS max_threads = 2, date_time_output_format = 'iso'",
    );
    expect(describeStatement('SELECT 1 SETTINGS final = 1').withSettings(settings)).toBe(
      "SELECT 1 SETTINGS final = 1, max_threads = 2, date_time_output_format = 'iso'",
    );
    expect(describeStatement('SELECT * FROM system.settings').withSettings(settings)).toBe(
      "SELECT * FROM system.settings\nSETTINGS max_threads = 2, date_time_output_format = 'iso'",
    );
    expect(describeStatement('INSERT INTO t (a) FORMAT JSONEachRow').withSettings([['x', '1']])).toBe(
      'INSERT INTO t (a) SETTINGS x = 1 FORMAT JSONEachRow',
    );
    expect(describeStatement('SELECT 1').withSettings([])).toBe('SELECT 1');
  });

  it('refuses an unterminated string', () => {
    expect(() => describeStatement("SELECT 'abc")).toThrow(/unterminated string/);
  });
});
