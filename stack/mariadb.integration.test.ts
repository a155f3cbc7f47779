// `tributary stack up --mysql` through the real CLI: MariaDB from Maven Central outlives the CLI,
// runs with what capture needs (ROW binlog, full images and metadata, GTIDs) and not as root;
// `status` sees it, `down` stops it, and a second `up` finds its databases again.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isRunning, readStackRecord, stopDetachedStack } from './index.ts';

const CLI = new URL('../bin/tributary.js', import.meta.url).pathname;

function tributary(...args: string[]) {
  const result = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 300_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr.trim() };
}

let scratch: string;
let dataDir: string;

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'tributary-mysql-stack-'));
  dataDir = join(scratch, 'stack');
});
afterAll(async () => {
  await stopDetachedStack(dataDir).catch(() => undefined);
  await rm(scratch, { recursive: true, force: true });
});

describe('tributary stack up --mysql', () => {
  it('starts MariaDB with the row binlog, status sees it, down stops it, up again keeps its data', async () => {
    const up = tributary('stack', 'up', '--mysql', '--data-dir', dataDir);
    expect(up.code, up.stderr).toBe(0);
    expect(up.stdout).not.toMatch(/bootstrap servers/);
    const url = /^mysql: (mysql:\/\/\S+)$/m.exec(up.stdout)?.[1] as string;
    expect(url).toMatch(/^mysql:\/\/tributary:[^@]+@127\.0\.0\.1:\d+\/$/);
    const connection = await mysql.createConnection({ uri: url });
    const [[settings]] = (await connection.query(
      'SELECT @@binlog_format AS format, @@binlog_row_image AS image, @@binlog_row_metadata AS metadata, @@log_bin AS logBin, VERSION() AS version',
    )) as unknown as [Record<string, unknown>[]];
    expect(settings).toMatchObject({ format: 'ROW', image: 'FULL', metadata: 'FULL', logBin: 1 });
    expect(String(settings?.version)).toMatch(/^11\.4\.\d+-MariaDB/);
    await connection.query('CREATE DATABASE kept');
    await connection.query('CREATE TABLE kept.t (id INT PRIMARY KEY)');
    await connection.query('INSERT INTO kept.t VALUES (1), (2)');
    const [[gtid]] = (await connection.query('SELECT @@gtid_binlog_pos AS pos')) as unknown as [
      { pos: string }[],
    ];
    expect(gtid?.pos).toMatch(/^0-1-\d+$/);
    await connection.end();

    const record = await readStackRecord(dataDir);
    const pid = record?.mysql?.pid as number;
    if (process.getuid?.() === 0) {
      // mariadbd would refuse root; it runs as an unprivileged user instead.
      const uid = /^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
      expect(Number(uid)).not.toBe(0);
    }
    const status = tributary('stack', 'status', '--data-dir', dataDir);
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/^mysql +pid \d+ +answering +mysql:\/\//m);
    const down = tributary('stack', 'down', '--data-dir', dataDir);
    expect(down.stdout).toMatch(/^mysql \(pid \d+\): stopped$/m);
    expect(isRunning(pid)).toBe(false);

    const again = tributary('stack', 'up', '--mysql', '--data-dir', dataDir);
    expect(again.code, again.stderr).toBe(0);
    const url2 = /^mysql: (mysql:\/\/\S+)$/m.exec(again.stdout)?.[1] as string;
    const reconnected = await mysql.createConnection({ uri: url2 });
    const [rows] = (await reconnected.query('SELECT id FROM kept.t ORDER BY id')) as unknown as [
      { id: number }[],
    ];
    expect(rows.map((row) => row.id)).toEqual([1, 2]);
    await reconnected.end();
    expect(tributary('stack', 'down', '--data-dir', dataDir).code).toBe(0);
  });
});
