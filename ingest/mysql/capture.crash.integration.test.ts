// Crash safety of the native MySQL capture: the capture process is SIGKILLed five times at random
// moments while the awkward-types workload writes (multi-statement transactions, key changes,
// binlog rotations); after a final catch-up the mirror equals the table, no (key, _version) pair is
// stored twice even before FINAL, and nothing went to the dead letters. `tallies` (upserts and
// deletes beside them) has only types the mirror writes from the binlog's row images, so both
// landing paths are killed mid-batch.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exited } from '../../test/child-process.ts';
import { expectNoDuplicateVersions } from '../../test/mirror-equality.ts';
import { expectMysqlMirrorEqualsSource } from '../../test/mysql-mirror-equality.ts';
import { AWKWARD_DDL, KEYLESS_DDL, MysqlWorkload } from '../../test/mysql-workload.ts';
import { execute, MYSQL_SERVER, startTestMysql, type TestMysql } from '../../test/mysql.ts';
import { scratchDir } from '../../test/scratch.ts';
import { listDeadLetters, openWarehouse } from '../../warehouse/index.ts';

const CLI = new URL('../../bin/tributary.js', import.meta.url).pathname;
const TALLIES_DDL = `CREATE TABLE tallies (
  id INT NOT NULL PRIMARY KEY, n BIGINT NOT NULL, label VARCHAR(40), at DATETIME(6), amount DECIMAL(12,2)
)`;
const PII_KEY = 'crash-test-key-0123456789';

let server: TestMysql;
beforeAll(async () => {
  server = await startTestMysql();
});
afterAll(async () => {
  await server?.stop();
});

function startCapture(url: string, warehouseDir: string, extra: string[] = []): ChildProcess {
  return spawn(
    process.execPath,
    [
      CLI,
      'capture',
      '--source',
      url,
      '--source-name',
      'crash',
      '--warehouse',
      warehouseDir,
      '--batch-rows',
      '150',
      '--batch-delay-ms',
      '50',
      ...extra,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, TRIBUTARY_PII_KEY: PII_KEY } },
  );
}

describe(`native MySQL capture under SIGKILL (${MYSQL_SERVER})`, () => {
  it('leaves the mirrors equal to the tables after 5 kills mid-stream, with no duplicate (key, _version)', async () => {
    const { name, url } = await server.createDatabase('crash');
    await execute(url, `${AWKWARD_DDL}; ${KEYLESS_DDL}; ${TALLIES_DDL}`);
    const warehouseDir = join(await scratchDir('mysql-crash'), 'warehouse');
    // Megabyte rows are the random-workload test's; here they would only slow the catch-up.
    const workload = await MysqlWorkload.connect(url, 11, { largeRows: false });
    try {
      await workload.run(40);
      // The snapshot first: the kills are meant for the stream.
      const first = await exited(startCapture(url, warehouseDir, ['--until-caught-up']));
      expect(first.code, first.stderr).toBe(0);
      let stop = false;
      let steps = 0;
      const writing = (async () => {
        while (!stop) {
          await workload.step();
          steps++;
          await execute(
            url,
            `INSERT INTO tallies VALUES (${steps % 97}, 1, 'step ${steps}', NOW(6), ${steps}.25)
               ON DUPLICATE KEY UPDATE n = n + 1, label = VALUES(label), at = VALUES(at), amount = amount + 1;
             DELETE FROM tallies WHERE id = ${(steps * 7) % 97} AND ${steps % 13} = 0`,
          );
          await new Promise((resolve) => setTimeout(resolve, 10));
          if (steps % 150 === 0) await execute(url, 'FLUSH BINARY LOGS');
        }
      })();
      let seed = 4242;
      const random = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
      for (let kill = 0; kill < 5; kill++) {
        const child = startCapture(url, warehouseDir);
        const exit = exited(child);
        // Killed while it streams: a moment after it says it captures (node's start-up varies a lot).
        await new Promise<void>((resolve) => {
          const onData = (chunk: Buffer) => {
            if (!chunk.toString().includes('capturing')) return;
            child.stderr?.off('data', onData);
            resolve();
          };
          child.stderr?.on('data', onData);
          child.once('exit', () => resolve());
        });
        await new Promise((resolve) => setTimeout(resolve, 500 + random() * 2500));
        child.kill('SIGKILL');
        const { signal, stderr } = await exit;
        expect(signal, stderr).toBe('SIGKILL');
        console.log(`kill ${kill + 1}: ${stderr.trim().split('\n').join(' | ')}`);
        expect(stderr).not.toMatch(/snapshot/);
      }
      stop = true;
      await writing;
      expect(steps).toBeGreaterThan(50);
      const final = await exited(startCapture(url, warehouseDir, ['--until-caught-up']));
      expect(final.code, final.stderr).toBe(0);
      const warehouse = await openWarehouse({ kind: 'chdb', path: warehouseDir });
      try {
        for (const table of ['awkward', 'keyless', 'tallies'])
          await expectMysqlMirrorEqualsSource({
            url,
            database: name,
            table,
            warehouse,
            mirror: `raw.crash_${name}_${table}`,
            exclude: ['password_hash', 'email'],
          });
        await expectNoDuplicateVersions(warehouse, `raw.crash_${name}_awkward`, ['id']);
        await expectNoDuplicateVersions(warehouse, `raw.crash_${name}_keyless`, ['_row_id']);
        await expectNoDuplicateVersions(warehouse, `raw.crash_${name}_tallies`, ['id']);
        expect(await listDeadLetters(warehouse)).toEqual([]);
        // Emails are stored as keyed hashes, never as they are.
        const emails = await warehouse.query<{ email: string }>(
          `SELECT email FROM raw.crash_${name}_awkward FINAL WHERE _is_deleted = 0 AND email IS NOT NULL LIMIT 20`,
        );
        expect(emails.length).toBeGreaterThan(0);
        for (const { email } of emails) expect(email).toMatch(/^[0-9a-f]{8}:[0-9a-f]{64}$/);
      } finally {
        await warehouse.close();
      }
    } finally {
      await workload.close();
    }
  });
});
