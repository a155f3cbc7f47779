// The landing runner under warehouse faults, with the native Postgres capture as its reader: a
// warehouse that refuses inserts for a while, and a warehouse directory on a filesystem that fills
// up (a tmpfs the test mounts, as root). While the fault lasts, capture waits and says why in one
// line; once it passes, the mirror equals the source with no (key, _version) twice and no dead letter.
import { execFileSync, spawn } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type pg from 'pg';
import { describe, expect, it } from 'vitest';
import { exited } from '../../test/child-process.ts';
import { expectMirrorEqualsSource, expectNoDuplicateVersions } from '../../test/mirror-equality.ts';
import { createTestDatabase, withClient } from '../../test/postgres.ts';
import { scratchDir } from '../../test/scratch.ts';
import { openWarehouse, WarehouseError, type Warehouse } from '../../warehouse/index.ts';
import { createPiiPolicy } from '../pii.ts';
import { runPostgresCapture } from '../postgres/capture.ts';
import { WarehouseSink } from './warehouse-sink.ts';

const CLI = new URL('../../bin/tributary.js', import.meta.url).pathname;
const pii = createPiiPolicy({
  dropFields: [],
  hashFields: [],
  hashPii: false,
  hashKey: 'fault-key-0123456789',
});

/** Transactions of inserts (2 kB notes that do not compress much), updates and deletes on `readings`. */
async function writeReadings(client: pg.Client, from: number, count: number): Promise<void> {
  await client.query('BEGIN');
  await client.query(
    `INSERT INTO readings SELECT g, g % 17, (SELECT string_agg(md5(random()::text || i || g), '') FROM generate_series(1, 64) AS i)
     FROM generate_series($1::int, $2::int) AS g`,
    [from, from + count - 1],
  );
  await client.query('UPDATE readings SET value = value + 1 WHERE id % 5 = 0 AND id BETWEEN $1 AND $2', [
    from,
    from + count - 1,
  ]);
  await client.query('DELETE FROM readings WHERE id % 11 = 0 AND id BETWEEN $1 AND $2', [
    from,
    from + count - 1,
  ]);
  await client.query('COMMIT');
}

const READINGS_DDL = 'CREATE TABLE readings (id int PRIMARY KEY, value int, note text)';

describe('landing under warehouse faults', () => {
  it('waits while the warehouse refuses inserts, says why in one line each time, and lands everything once', async () => {
    const url = await createTestDatabase('refusing');
    // chDB binds one directory per process: this test opens its own and closes it.
    const warehouse = await openWarehouse({
      kind: 'chdb',
      path: join(await scratchDir('refusing'), 'warehouse'),
    });
    await withClient(url, async (client) => {
      await client.query(READINGS_DDL);
      await writeReadings(client, 1, 500);
      let refusals = 5;
      const refusing: Warehouse = {
        ...warehouse,
        target: warehouse.target,
        command: (sql, params) => warehouse.command(sql, params),
        query: (sql, params, settings) => warehouse.query(sql, params, settings),
        insert: (table, rows, options) => warehouse.insert(table, rows, options),
        queryBytes: (sql, format, params) => warehouse.queryBytes(sql, format, params),
        close: async () => undefined,
        insertLines: async (table, batch, options) => {
          if (table.startsWith('raw.') && refusals > 0) {
            refusals--;
            throw new WarehouseError('connect ECONNREFUSED 127.0.0.1:8123', { retriable: true });
          }
          await warehouse.insertLines(table, batch, options);
        },
      };
      const warnings: string[] = [];
      const capture = () =>
        runPostgresCapture({
          sourceUrl: url,
          sourceName: 'refusing',
          tables: { kind: 'all' },
          sink: new WarehouseSink(refusing),
          pii,
          untilCaughtUp: true,
          batchRows: 300,
          events: { warn: (message) => warnings.push(message) },
        });
      await capture();
      for (let round = 0; round < 4; round++) await writeReadings(client, 1000 + round * 400, 400);
      await capture();
      expect(refusals).toBe(0);
      expect(warnings).toHaveLength(5);
      for (const warning of warnings) {
        expect(warning).not.toContain('\n');
        expect(warning).toMatch(/ECONNREFUSED 127\.0\.0\.1:8123; trying again in \d+ ms$/);
      }
      await expectMirrorEqualsSource({
        client,
        warehouse,
        table: 'readings',
        mirror: 'raw.refusing_readings',
        key: ['id'],
      });
      await expectNoDuplicateVersions(warehouse, 'raw.refusing_readings', ['id']);
      const [letters] = await warehouse.query<{ n: string }>(
        "SELECT count() AS n FROM tributary.dead_letters WHERE pipeline = 'postgres:refusing'",
      );
      expect(letters?.n).toBe('0');
    }).finally(() => warehouse.close());
  });

  // Mounting a small tmpfs needs root; elsewhere the test is skipped (and says so in its name).
  it.runIf(process.getuid?.() === 0)(
    'waits while the warehouse directory is on a full filesystem, and lands everything once it has room (tmpfs, as root)',
    async () => {
      const url = await createTestDatabase('fulldisk');
      const mountPoint = join(await scratchDir('fulldisk'), 'small');
      await mkdir(mountPoint);
      // A filesystem just big enough for the engine's own files and the snapshot, not for the stream.
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=24m', 'tmpfs', mountPoint]);
      try {
        const warehouseDir = join(mountPoint, 'warehouse');
        await withClient(url, async (client) => {
          await client.query(READINGS_DDL);
          await writeReadings(client, 1, 200);
          const start = (...extra: string[]) => {
            const child = spawn(
              process.execPath,
              [
                CLI,
                'capture',
                '--source',
                url,
                '--source-name',
                'fulldisk',
                '--warehouse',
                warehouseDir,
                ...extra,
              ],
              {
                stdio: ['ignore', 'ignore', 'pipe'],
                env: { ...process.env, TRIBUTARY_PII_KEY: 'fault-key-0123456789' },
              },
            );
            return { child, exit: exited(child) };
          };
          const first = await start('--until-caught-up').exit;
          expect(first.code, first.stderr).toBe(0);
          const streaming = start('--batch-rows', '2000');
          let stderr = '';
          streaming.child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
          // 60 MB of notes: more than the filesystem has left.
          for (let round = 0; round < 30; round++) await writeReadings(client, 10_000 + round * 1000, 1000);
          await expect
            .poll(() => /No space left on device|not enough space/i.test(stderr), { timeout: 120_000 })
            .toBe(true);
          const faultLines = stderr
            .split('\n')
            .filter((line) => /No space left on device|not enough space/i.test(line));
          for (const line of faultLines) expect(line).toMatch(/^warning: .*trying again in \d+ ms$/);
          // Room again: the capture goes on by itself.
          execFileSync('mount', ['-o', 'remount,size=512m', mountPoint]);
          await expect
            .poll(() => stderr.includes('the warehouse accepts again'), { timeout: 60_000 })
            .toBe(true);
          streaming.child.kill('SIGTERM');
          const stopped = await streaming.exit;
          expect(stopped.code, stopped.stderr).toBe(0);
          const last = await start('--until-caught-up').exit;
          expect(last.code, last.stderr).toBe(0);
          const landed = await openWarehouse({ kind: 'chdb', path: warehouseDir });
          try {
            await expectMirrorEqualsSource({
              client,
              warehouse: landed,
              table: 'readings',
              mirror: 'raw.fulldisk_readings',
              key: ['id'],
            });
            await expectNoDuplicateVersions(landed, 'raw.fulldisk_readings', ['id']);
            const [letters] = await landed.query<{ n: string }>(
              'SELECT count() AS n FROM tributary.dead_letters',
            );
            expect(letters?.n).toBe('0');
          } finally {
            await landed.close();
          }
        });
      } finally {
        execFileSync('umount', ['-l', mountPoint]);
      }
    },
  );
});
