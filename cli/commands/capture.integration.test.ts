// The capture command's contract for wrong input: a non-zero exit and one line that says what is
// wrong (and, where it can, how to fix it); usage errors print the usage.
import { spawnSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedPostgres, type RunningPostgres } from '../../stack/index.ts';
import { createTestDatabase, withClient } from '../../test/postgres.ts';
import { scratchDir } from '../../test/scratch.ts';

const CLI = new URL('../../bin/tributary.js', import.meta.url).pathname;

function tributary(...args: string[]) {
  const result = spawnSync(process.execPath, [CLI, ...args], {
    encoding: 'utf8',
    env: { ...process.env, TRIBUTARY_PII_KEY: 'cli-test-key-0123456789' },
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr.trim() };
}

let scratch: string;
let replicaOnly: RunningPostgres;

beforeAll(async () => {
  scratch = await scratchDir('cli');
  replicaOnly = await startEmbeddedPostgres({ dataDir: join(scratch, 'replica-pg'), walLevel: 'replica' });
});
afterAll(async () => {
  await replicaOnly?.stop();
});

describe('tributary capture, wrong input', () => {
  const warehouse = () => join(scratch, 'warehouse');

  it('an unreachable source: one line naming the source, password hidden', () => {
    const result = tributary(
      'capture',
      '--source',
      'postgres://app:hunter2@127.0.0.1:1/app',
      '--warehouse',
      warehouse(),
      '--until-caught-up',
    );
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      /^tributary: cannot connect to the source postgres:\/\/app:\*\*\*@127\.0\.0\.1:1\/app: .*ECONNREFUSED/,
    );
    expect(result.stderr).not.toContain('hunter2');
    expect(result.stderr.split('\n')).toHaveLength(1);
  });

  it('a source that is not a Postgres, MySQL or MongoDB URL', () => {
    const result = tributary('capture', '--source', 'mssql://localhost/app', '--warehouse', warehouse());
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      'tributary: --source must be a URL like postgres://USER:PASSWORD@HOST:PORT/DATABASE',
    );
  });

  it('a MongoDB source without --collections or --database prints the usage', () => {
    const result = tributary('capture', '--source', 'mongodb://127.0.0.1:1/', '--warehouse', warehouse());
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(
      /^tributary: a mongodb:\/\/ source needs either --collections or --database\n/,
    );
    expect(result.stderr).toContain('Usage: tributary capture');
  });

  it('a collection not written as database.collection names the flag', () => {
    const result = tributary(
      'capture',
      '--source',
      'mongodb://127.0.0.1:1/',
      '--collections',
      'events',
      '--warehouse',
      warehouse(),
    );
    expect(result.code).toBe(1);
    expect(result.stderr).toBe('tributary: --collections must be database.collection');
  });

  it('an unreachable MongoDB: one line naming it, password hidden', () => {
    const result = tributary(
      'capture',
      '--source',
      'mongodb://app:hunter2@127.0.0.1:1/?serverSelectionTimeoutMS=500',
      '--database',
      'learning',
      '--warehouse',
      warehouse(),
    );
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      /^tributary: cannot connect to MongoDB at mongodb:\/\/\*\*\*@127\.0\.0\.1:1\//,
    );
    expect(result.stderr).not.toContain('hunter2');
    expect(result.stderr.split('\n')).toHaveLength(1);
  });

  it('wal_level is not logical: says how to fix it', () => {
    const result = tributary(
      'capture',
      '--source',
      replicaOnly.url,
      '--warehouse',
      warehouse(),
      '--until-caught-up',
    );
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      "tributary: the source has wal_level=replica, but change capture needs wal_level=logical: run ALTER SYSTEM SET wal_level = 'logical' and restart Postgres",
    );
  });

  it('a missing table', async () => {
    const url = await createTestDatabase('cli');
    await withClient(url, (client) => client.query('CREATE TABLE present (id int PRIMARY KEY)'));
    const result = tributary(
      'capture',
      '--source',
      url,
      '--tables',
      'public.present,public.absent',
      '--warehouse',
      warehouse(),
      '--until-caught-up',
    );
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      'tributary: table public.absent does not exist in the source (check --tables)',
    );
  });

  it('an unwritable warehouse path', async () => {
    const file = join(scratch, 'a-file');
    await writeFile(file, 'not a directory');
    const result = tributary(
      'capture',
      '--source',
      'postgres://u:p@127.0.0.1:1/db',
      '--warehouse',
      join(file, 'warehouse'),
    );
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      `tributary: the warehouse directory ${join(file, 'warehouse')} is not writable (ENOTDIR)`,
    );
  });

  it('an unknown flag prints the usage', () => {
    const result = tributary('capture', '--sauce', 'x');
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^tributary: Unknown option '--sauce'/);
    expect(result.stderr).toContain('Usage: tributary capture');
  });

  it('a missing --source prints the usage', () => {
    const result = tributary('capture', '--warehouse', warehouse());
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^tributary: --source is required\n\nUsage: tributary capture/);
  });

  it.each(['capture', 'demo'])('%s --help prints its usage and exits 0', (command) => {
    const result = tributary(command, '--help');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`Usage: tributary ${command}`);
  });

  it('an unknown command lists the commands', () => {
    const result = tributary('frobnicate');
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('unknown command "frobnicate"');
    expect(result.stderr).toContain('capture');
  });
});
