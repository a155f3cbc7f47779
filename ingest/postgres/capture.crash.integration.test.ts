// Crash safety of native capture: the capture process is SIGKILLed at random moments while a
// workload runs; after restarts the mirror equals the source and holds no duplicate versions.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { exited } from '../../test/child-process.ts';
import { runActivityWorkload, type ActivityWorkload } from '../../test/activity-workload.ts';
import { createTestDatabase, withClient } from '../../test/postgres.ts';
import { expectMirrorEqualsSource, expectNoDuplicateVersions } from '../../test/mirror-equality.ts';
import { openWarehouse } from '../../warehouse/index.ts';
import { scratchDir } from '../../test/scratch.ts';
import {
  describeShape,
  keyColumns,
  keyPool,
  shapeDdl,
  shapeWorkload,
  ShapeWriter,
  type TableShape,
} from '../../test/table-shapes.ts';

const CLI = new URL('../../bin/tributary.js', import.meta.url).pathname;

function startCapture(
  url: string,
  warehouseDir: string,
  extra: string[] = [],
  sourceName = 'crash',
): ChildProcess {
  return spawn(
    process.execPath,
    [
      CLI,
      'capture',
      '--source',
      url,
      '--source-name',
      sourceName,
      '--warehouse',
      warehouseDir,
      '--batch-rows',
      '3000',
      '--batch-delay-ms',
      '50',
      ...extra,
    ],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, TRIBUTARY_PII_KEY: 'crash-test-key-0123456789' },
    },
  );
}

const WORKLOAD: ActivityWorkload = {
  seed: 7,
  maxTransactionSize: 400,
  insertSql: `INSERT INTO activity (id, user_id, score, note, at, tags)
    SELECT g, gen_random_uuid(), (g % 100), 'note ' || g || ' ✓', now() - (g % 1000) * interval '1 minute', ARRAY['t' || (g % 7)]
    FROM generate_series($1::int, $2::int) AS g`,
};

describe('native capture under SIGKILL', () => {
  it('leaves the mirror equal to the source after 20 kills at seeded random moments, with no duplicate (key, _version)', async () => {
    const url = await createTestDatabase('crash');
    const warehouseDir = join(await scratchDir('crash'), 'warehouse');
    await withClient(url, async (client) => {
      await client.query(
        `CREATE TABLE activity (id int PRIMARY KEY, user_id uuid NOT NULL, score int, note text, at timestamptz, tags text[])`,
      );
      let stop = false;
      const workload = withClient(url, (writer) => runActivityWorkload(writer, WORKLOAD, () => stop));
      let seed = 42;
      const random = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
      // From 0.3 s to 3 s after start: while starting, snapshotting, streaming and landing.
      for (let kill = 0; kill < 20; kill++) {
        const child = startCapture(url, warehouseDir);
        const exit = exited(child);
        await new Promise((resolve) => setTimeout(resolve, 300 + random() * 2700));
        child.kill('SIGKILL');
        const { signal, stderr } = await exit;
        expect(signal, stderr).toBe('SIGKILL');
        console.log(`kill ${kill + 1}: ${stderr.trim().split('\n').join(' | ')}`);
      }
      stop = true;
      expect(await workload).toBeGreaterThan(10);
      const final = await exited(startCapture(url, warehouseDir, ['--until-caught-up']));
      expect(final.code, final.stderr).toBe(0);
      const warehouse = await openWarehouse({ kind: 'chdb', path: warehouseDir });
      try {
        await expectNoDuplicateVersions(warehouse, 'raw.crash_activity', ['id']);
        await expectMirrorEqualsSource({
          client,
          warehouse,
          table: 'activity',
          mirror: 'raw.crash_activity',
          key: ['id'],
        });
      } finally {
        await warehouse.close();
      }
    });
  });

  it('keeps a compound-key table with TOASTed values exact through 5 kills, and the restart does not loop', async () => {
    const shape: TableShape = {
      keyTypes: ['bigint', 'numeric(12,2)', 'text'],
      identity: 'default',
      toast: ['text', 'jsonb'],
    };
    const [pool, transactions] = fc.sample(
      fc.tuple(
        keyPool(shape, { minLength: 60, maxLength: 60 }),
        shapeWorkload(60, { minLength: 2000, maxLength: 2000 }),
      ),
      { numRuns: 1, seed: 5 },
    )[0] ?? [[], []];
    const url = await createTestDatabase('shapecrash');
    const warehouseDir = join(await scratchDir('shapecrash'), 'warehouse');
    const writer = new ShapeWriter('items', shape, pool);
    await withClient(url, async (client) => {
      await client.query(shapeDdl('items', shape));
      let stop = false;
      const workload = withClient(url, async (source) => {
        for (let index = 0; !stop; index = (index + 1) % transactions.length)
          await writer.apply(source, transactions.slice(index, index + 1));
      });
      for (let kill = 0; kill < 5; kill++) {
        const child = startCapture(url, warehouseDir, [], 'shapecrash');
        const exit = exited(child);
        await new Promise((resolve) => setTimeout(resolve, 2000 + kill * 700));
        child.kill('SIGKILL');
        const { signal, stderr } = await exit;
        expect(signal, stderr).toBe('SIGKILL');
      }
      stop = true;
      await workload;
      const final = await exited(startCapture(url, warehouseDir, ['--until-caught-up'], 'shapecrash'));
      expect(final.code, final.stderr).toBe(0);
      expect(final.stderr).not.toMatch(/failed again/);
      expect(final.stderr.match(/resuming:/g)?.length ?? 0).toBeLessThanOrEqual(1);
      const warehouse = await openWarehouse({ kind: 'chdb', path: warehouseDir });
      try {
        await expectNoDuplicateVersions(warehouse, 'raw.shapecrash_items', keyColumns(shape));
        await expectMirrorEqualsSource(
          { client, warehouse, table: 'items', mirror: 'raw.shapecrash_items', key: keyColumns(shape) },
          describeShape(shape),
        );
      } finally {
        await warehouse.close();
      }
    });
  });
});
