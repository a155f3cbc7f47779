// `tributary capture --source mysql://…` on wrong input: a server whose binlog is not ROW, a user
// without replication rights, a wrong password, a missing table. Each exits non-zero with one line
// saying what is wrong and how to fix it, and leaves no mirror behind.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execute, MYSQL_SERVER, startTestMysql, withDatabase, type TestMysql } from '../../test/mysql.ts';
import { scratchDir } from '../../test/scratch.ts';
import { openWarehouse } from '../../warehouse/index.ts';

const CLI = new URL('../../bin/tributary.js', import.meta.url).pathname;

function tributary(...args: string[]) {
  const result = spawnSync(process.execPath, [CLI, ...args], {
    encoding: 'utf8',
    env: { ...process.env, TRIBUTARY_PII_KEY: 'cli-test-key-0123456789' },
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr.trim() };
}

let server: TestMysql;
let scratch: string;
let database: { name: string; url: string };

beforeAll(async () => {
  server = await startTestMysql();
  scratch = await scratchDir('mysql-cli');
  database = await server.createDatabase('badinput');
  await execute(
    database.url,
    'CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(10)); INSERT INTO t VALUES (1, "a")',
  );
});
afterAll(async () => {
  await server?.stop();
});

/** Nothing was captured: the warehouse holds no mirror (or was never created). */
async function expectNothingWritten(dir: string): Promise<void> {
  if (!existsSync(dir)) return;
  const warehouse = await openWarehouse({ kind: 'chdb', path: dir });
  try {
    const tables = await warehouse.query<{ name: string }>(
      "SELECT name FROM system.tables WHERE database = 'raw'",
    );
    expect(tables).toEqual([]);
  } finally {
    await warehouse.close();
  }
}

function capture(url: string, warehouse: string, ...extra: string[]) {
  return tributary('capture', '--source', url, '--warehouse', warehouse, '--until-caught-up', ...extra);
}

describe(`tributary capture --source mysql://, wrong input (${MYSQL_SERVER})`, () => {
  it('a server whose binlog_format is STATEMENT', async () => {
    const warehouse = join(scratch, 'statement');
    await execute(server.url, 'SET GLOBAL binlog_format = STATEMENT');
    try {
      const result = capture(database.url, warehouse);
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(
        /^tributary: the server's binlog_format is STATEMENT, capture needs binlog_format=ROW/,
      );
      expect(result.stderr.split('\n')).toHaveLength(1);
    } finally {
      await execute(server.url, 'SET GLOBAL binlog_format = ROW');
    }
    await expectNothingWritten(warehouse);
  });

  it('a user without replication rights', async () => {
    const warehouse = join(scratch, 'norepl');
    await execute(
      server.url,
      `CREATE USER IF NOT EXISTS 'norepl'@'127.0.0.1' IDENTIFIED BY 'pw'; GRANT SELECT ON \`${database.name}\`.* TO 'norepl'@'127.0.0.1'`,
    );
    const url = new URL(database.url);
    url.username = 'norepl';
    url.password = 'pw';
    const result = capture(url.toString(), warehouse);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      /^tributary: "norepl" may not read the binary log: GRANT REPLICATION SLAVE, /,
    );
    expect(result.stderr.split('\n')).toHaveLength(1);
    await expectNothingWritten(warehouse);
  });

  it('a wrong password: one line, the password not shown', async () => {
    const warehouse = join(scratch, 'password');
    const url = new URL(database.url);
    url.password = 'not-the-password';
    const result = capture(url.toString(), warehouse);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      /^tributary: MySQL at 127\.0\.0\.1:\d+ refused the login of "tributary": check the user and password in --source$/,
    );
    expect(result.stderr).not.toContain('not-the-password');
    await expectNothingWritten(warehouse);
  });

  it('a missing table', async () => {
    const warehouse = join(scratch, 'missing');
    const result = capture(database.url, warehouse, '--tables', `${database.name}.nope,t`);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      `tributary: table ${database.name}.nope does not exist (or the user may not see it): check --tables`,
    );
    await expectNothingWritten(warehouse);
  });

  it('a URL without a database prints what it must look like', () => {
    const result = capture(withDatabase(server.url, '').replace(/\/$/, ''), join(scratch, 'nodb'));
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      'tributary: --source must be a URL like mysql://USER:PASSWORD@HOST:PORT/DATABASE',
    );
  });
});
