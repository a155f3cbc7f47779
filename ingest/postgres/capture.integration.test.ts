// Native Postgres capture against a real (embedded) Postgres and the embedded ClickHouse engine:
// random workloads over every column type the seeds use must leave the mirror equal to the source.
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import fc from 'fast-check';
import { apply, EVERYTHING_DDL, operation } from '../../test/everything-workload.ts';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, withClient } from '../../test/postgres.ts';
import { expectMirrorEqualsSource, expectNoDuplicateVersions } from '../../test/mirror-equality.ts';
import { openWarehouse, type Warehouse } from '../../warehouse/index.ts';
import { createPiiPolicy, DEFAULT_DROP_FIELDS, DEFAULT_HASH_FIELDS } from '../pii.ts';
import { WarehouseSink } from '../landing/warehouse-sink.ts';
import { runPostgresCapture, startPostgresCapture, type RunningCapture } from './capture.ts';
import { scratchDir } from '../../test/scratch.ts';
import { STRADDLE_TABLE_DDL, straddleSlotCreation } from '../../test/straddling-transaction.ts';

let warehouse: Warehouse;
const pii = createPiiPolicy({
  dropFields: DEFAULT_DROP_FIELDS,
  hashFields: DEFAULT_HASH_FIELDS,
  hashPii: true,
  hashKey: 'test-key-0123456789',
});

beforeAll(async () => {
  warehouse = await openWarehouse({
    kind: 'chdb',
    path: join(await scratchDir('wh'), 'warehouse'),
  });
});
afterAll(async () => {
  await warehouse?.close();
});

async function capture(url: string, sourceName: string) {
  return runPostgresCapture({
    sourceUrl: url,
    sourceName,
    tables: { kind: 'all' },
    sink: new WarehouseSink(warehouse),
    pii,
    untilCaughtUp: true,
    batchRows: 5000,
  });
}

/** A finished capture leaves no replication connection behind. */
async function expectSlotReleased(client: pg.Client): Promise<void> {
  const activeSlots = async () =>
    (
      await client.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM pg_replication_slots WHERE active AND database = current_database()',
      )
    ).rows[0]?.n;
  await expect.poll(activeSlots, { timeout: 5000 }).toBe(0);
}

/** A 1 MB value that pglz cannot shrink below the TOAST threshold. */
const toastedText = () => randomBytes(512 * 1024).toString('hex');

describe('native Postgres capture', () => {
  it('mirrors random workloads over every seed column type exactly (snapshot, then stream)', async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(operation, { minLength: 20, maxLength: 80 }),
        fc.array(operation, { minLength: 20, maxLength: 120 }),
        async (beforeSnapshot, afterSnapshot) => {
          const url = await createTestDatabase('prop');
          const source = `prop${run++}`;
          await withClient(url, async (client) => {
            await client.query(EVERYTHING_DDL);
            await client.query("INSERT INTO everything (id, t, big) VALUES (0, 'toast', $1)", [
              toastedText(),
            ]);
            for (const op of beforeSnapshot) if (op.kind !== 'truncate') await apply(client, op);
            await capture(url, source);
            // Later updates leave the 1 MB value untouched, so Postgres does not resend it.
            await client.query("UPDATE everything SET t = 'toast, updated', i = 7 WHERE id = 0");
            for (const op of afterSnapshot)
              await apply(client, op.kind === 'truncate' || op.id !== 0 ? op : { kind: 'delete', id: 999 });
            await client.query("INSERT INTO serials (note) VALUES ('a'), ('b'), ('ż')");
            await client.query("UPDATE everything SET v = 'last' WHERE id = 0");
            await capture(url, source);
            await expectMirrorEqualsSource({
              client,
              warehouse,
              table: 'everything',
              mirror: `raw.${source}_everything`,
              key: ['id'],
            });
            await expectMirrorEqualsSource({
              client,
              warehouse,
              table: 'serials',
              mirror: `raw.${source}_serials`,
              key: ['id'],
            });
            await expectNoDuplicateVersions(warehouse, `raw.${source}_everything`, ['id']);
            await expectSlotReleased(client);
          });
        },
      ),
      // Each run costs seconds of real I/O: report the failing workload as found, without shrinking.
      { numRuns: 4, seed: 20261123, endOnFailure: true },
    );
  });

  it('keeps the unchanged 1 MB TOAST value through updates that do not touch it', async () => {
    const url = await createTestDatabase('toast');
    await withClient(url, async (client) => {
      await client.query(EVERYTHING_DDL);
      await capture(url, 'toast');
      const big = toastedText();
      await client.query('INSERT INTO everything (id, big) VALUES (1, $1)', [big]);
      await client.query('UPDATE everything SET i = 1 WHERE id = 1');
      await capture(url, 'toast');
      await client.query('UPDATE everything SET i = 2 WHERE id = 1');
      await client.query('UPDATE everything SET i = 3 WHERE id = 1');
      await capture(url, 'toast');
      const rows = await warehouse.query<{ big: string; i: number }>(
        'SELECT big, i FROM raw.toast_everything FINAL WHERE id = 1',
      );
      expect(rows).toEqual([{ big, i: 3 }]);
    });
  });

  it('returns within 2 s from an idle --until-caught-up run, and from one whose only changes are in tables not captured', async () => {
    const url = await createTestDatabase('idle');
    await withClient(url, async (client) => {
      await client.query(`CREATE TABLE kept (id int PRIMARY KEY, v text); CREATE TABLE other (id int PRIMARY KEY, v text);
        INSERT INTO kept VALUES (1, 'a');`);
      const catchUp = async () => {
        const started = performance.now();
        const result = await runPostgresCapture({
          sourceUrl: url,
          sourceName: 'idle',
          tables: { kind: 'list', tables: ['public.kept'] },
          sink: new WarehouseSink(warehouse),
          pii,
          untilCaughtUp: true,
        });
        return { ...result, seconds: (performance.now() - started) / 1000 };
      };
      await catchUp();
      await client.query("UPDATE kept SET v = 'b' WHERE id = 1");
      expect((await catchUp()).streamedChanges).toBe(1);
      const idle = await catchUp();
      expect(idle.streamedChanges).toBe(0);
      expect(idle.seconds).toBeLessThan(2);
      await client.query("INSERT INTO other SELECT g, 'x' FROM generate_series(1, 50) AS g");
      const elsewhere = await catchUp();
      expect(elsewhere.streamedChanges).toBe(0);
      expect(elsewhere.seconds).toBeLessThan(2);
      await expectSlotReleased(client);
    });
  });

  it('lands a 100k-row transaction whole', async () => {
    const url = await createTestDatabase('bulk');
    await withClient(url, async (client) => {
      await client.query(EVERYTHING_DDL);
      await capture(url, 'bulk');
      await client.query(
        `INSERT INTO everything (id, t, n, ts, ta) SELECT g, 'row ' || g, g / 7.0, timestamp '2026-01-01' + g * interval '1 second', ARRAY['x' || g]
         FROM generate_series(1, 100000) AS g`,
      );
      const result = await capture(url, 'bulk');
      expect(result.streamedChanges).toBe(100_000);
      await expectMirrorEqualsSource({
        client,
        warehouse,
        table: 'everything',
        mirror: 'raw.bulk_everything',
        key: ['id'],
      });
    });
  });

  it('keeps the changes a transaction made before the consistent point it commits after', async () => {
    const url = await createTestDatabase('straddle');
    await withClient(url, async (client) => {
      await client.query(STRADDLE_TABLE_DDL);
      let running: RunningCapture | undefined;
      try {
        await straddleSlotCreation(url, 'tributary_straddle', async () => {
          running = startPostgresCapture({
            sourceUrl: url,
            sourceName: 'straddle',
            tables: { kind: 'all' },
            sink: new WarehouseSink(warehouse),
            pii,
            untilCaughtUp: false,
          });
        });
      } finally {
        await running?.catchUpAndStop();
      }
      await expectMirrorEqualsSource({
        client,
        warehouse,
        table: 'items',
        mirror: 'raw.straddle_items',
        key: ['id'],
      });
    });
  });

  it('mirrors a column added while capture runs, without a restart', async () => {
    const url = await createTestDatabase('ddl');
    await withClient(url, async (client) => {
      await client.query(EVERYTHING_DDL);
      await client.query("INSERT INTO everything (id, t) VALUES (1, 'before')");
      const running = runPostgresCapture({
        sourceUrl: url,
        sourceName: 'ddl',
        tables: { kind: 'all' },
        sink: new WarehouseSink(warehouse),
        pii,
        untilCaughtUp: false,
        signal: AbortSignal.timeout(8000),
      });
      await new Promise((resolve) => setTimeout(resolve, 1500));
      await client.query(
        'ALTER TABLE everything ADD COLUMN added_later numeric(6,2), ADD COLUMN labels text[]',
      );
      await client.query(
        "INSERT INTO everything (id, t, added_later, labels) VALUES (2, 'after', 12.5, '{a,b}')",
      );
      await client.query('UPDATE everything SET added_later = 1.25 WHERE id = 1');
      await running;
      await expectMirrorEqualsSource({
        client,
        warehouse,
        table: 'everything',
        mirror: 'raw.ddl_everything',
        key: ['id'],
      });
    });
  });

  it('drops secret columns and hashes emails before anything reaches the warehouse', async () => {
    const url = await createTestDatabase('pii');
    await withClient(url, async (client) => {
      await client.query(`CREATE TABLE accounts (id int PRIMARY KEY, email text, phone text, password_hash text, salt text,
        two_factor_secret text, recovery_codes text[], session_token text, note text)`);
      await client.query(
        "INSERT INTO accounts VALUES (1, 'Lan@Example.vn', '+84 90 000 0000', 'h', 's', 'x', '{a}', 't', 'kept')",
      );
      await capture(url, 'pii');
      await client.query(
        "INSERT INTO accounts VALUES (2, 'minh@example.vn', NULL, 'h2', 's2', NULL, NULL, 't2', 'kept too')",
      );
      await capture(url, 'pii');
      const columns = (
        await warehouse.query<{ name: string }>(
          "SELECT name FROM system.columns WHERE database = 'raw' AND table = 'pii_accounts'",
        )
      ).map((row) => row.name);
      expect(columns.filter((name) => !name.startsWith('_')).sort()).toEqual([
        'email',
        'id',
        'note',
        'phone',
      ]);
      const rows = await warehouse.query<{ email: string; phone: string | null }>(
        'SELECT email, phone FROM raw.pii_accounts FINAL ORDER BY id',
      );
      expect(rows.map((row) => row.email)).toEqual([pii.hash('Lan@Example.vn'), pii.hash('minh@example.vn')]);
      expect(rows[0]?.email).toMatch(/^[0-9a-f]{8}:[0-9a-f]{64}$/);
      expect(rows[1]?.phone).toBeNull();
    });
  });

  it('captures an insert-only table without any key, like pgbench_history, and leaves its updates to the application', async () => {
    const url = await createTestDatabase('history');
    await withClient(url, async (client) => {
      await client.query(`CREATE TABLE history (tid int, bid int, aid int, delta int, mtime timestamp, filler char(22));
        INSERT INTO history SELECT g % 10, g % 3, g, g * 7, timestamp '2026-12-01' + g * interval '1 minute', NULL
        FROM generate_series(1, 40) AS g;
        -- Twice the same row: a table without a key may hold duplicates.
        INSERT INTO history VALUES (1, 1, 1, 7, timestamp '2026-12-01 00:01', NULL);`);
      const logs: string[] = [];
      const capture = () =>
        runPostgresCapture({
          sourceUrl: url,
          sourceName: 'history',
          tables: { kind: 'list', tables: ['public.history'] },
          sink: new WarehouseSink(warehouse),
          pii,
          untilCaughtUp: true,
          events: { warn: (message) => logs.push(message) },
        });
      await capture();
      await client.query(
        `INSERT INTO history SELECT g % 10, g % 3, g, -g, timestamp '2026-12-02' + g * interval '1 minute', 'x'
         FROM generate_series(41, 90) AS g`,
      );
      await capture();
      await expectMirrorEqualsSource({
        client,
        warehouse,
        table: 'history',
        mirror: 'raw.history_history',
        key: ['aid'],
      });
      expect(logs).toContainEqual(
        expect.stringMatching(
          /history has no key .* its inserts are mirrored, its updates and deletes are not/,
        ),
      );
      // Its updates and deletes are not published, so the application's still work.
      await expect(client.query('UPDATE history SET delta = 0 WHERE aid = 5')).resolves.toBeDefined();
      await expect(client.query('DELETE FROM history WHERE aid = 6')).resolves.toBeDefined();
    });
  });
});
