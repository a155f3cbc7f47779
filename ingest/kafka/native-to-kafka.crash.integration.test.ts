// Crash safety of the native capture onto Kafka: `tributary capture --to kafka` is SIGKILLed at
// seeded random moments while a workload runs (while it starts, reads its checkpoints, publishes and
// confirms); after a last run to caught-up, a worker lands everything and the mirror equals the
// source with no (key, _version) twice. A batch a killed capture published but did not confirm is
// rebuilt on restart and must not reach the topic a second time (native-to-kafka.integration.test.ts
// forces that moment; here the kills fall where they fall).
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startKafka, type RunningKafka } from '../../stack/index.ts';
import { exited } from '../../test/child-process.ts';
import { expectMirrorEqualsSource, expectNoDuplicateVersions } from '../../test/mirror-equality.ts';
import { runActivityWorkload, type ActivityWorkload } from '../../test/activity-workload.ts';
import { createTestDatabase, withClient } from '../../test/postgres.ts';
import { scratchDir } from '../../test/scratch.ts';
import { openWarehouse, type Warehouse } from '../../warehouse/index.ts';
import { createPiiPolicy } from '../pii.ts';
import { runKafkaWorker } from './worker.ts';

const CLI = new URL('../../bin/tributary.js', import.meta.url).pathname;
const PII_KEY = 'kafka-crash-key-0123456789';
/** Enough for several snapshot chunks (10,000 rows each): the kill falls between them. */
const SNAPSHOT_ROWS = 60_000;

let kafka: RunningKafka;
let warehouse: Warehouse;

beforeAll(async () => {
  const root = await scratchDir('native-kafka-crash');
  kafka = await startKafka({ dataDir: join(root, 'kafka') });
  warehouse = await openWarehouse({ kind: 'chdb', path: join(root, 'warehouse') });
});

afterAll(async () => {
  await warehouse?.close();
  await kafka?.stop();
});

function startCapture(url: string, extra: string[] = [], sourceName = 'kcrash'): ChildProcess {
  return spawn(
    process.execPath,
    [
      CLI,
      'capture',
      '--source',
      url,
      '--source-name',
      sourceName,
      '--to',
      'kafka',
      '--brokers',
      kafka.bootstrapServers,
      '--batch-rows',
      '700',
      '--batch-delay-ms',
      '50',
      ...extra,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, TRIBUTARY_PII_KEY: PII_KEY } },
  );
}

// A few thousand changes a second: each short-lived capture gets somewhere.
const WORKLOAD: ActivityWorkload = {
  seed: 11,
  maxTransactionSize: 200,
  insertSql: `INSERT INTO activity (id, score, note) SELECT g, g % 100, 'note ' || g FROM generate_series($1::int, $2::int) AS g`,
  pauseMs: 20,
};

describe('native capture onto Kafka under SIGKILL', () => {
  it('lands the source exactly after 20 kills at seeded random moments, with no duplicate (key, _version)', async () => {
    const url = await createTestDatabase('kcrash');
    await withClient(url, async (client) => {
      await client.query('CREATE TABLE activity (id int PRIMARY KEY, score int, note text)');
      // The (empty) snapshot completes first: the kills fall while streaming (a snapshot cut short
      // is the next test's).
      const first = await exited(startCapture(url, ['--until-caught-up']));
      expect(first.code, first.stderr).toBe(0);
      let stop = false;
      const workload = withClient(url, (writer) => runActivityWorkload(writer, WORKLOAD, () => stop));
      let seed = 43;
      const random = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
      for (let kill = 0; kill < 20; kill++) {
        const child = startCapture(url);
        const exit = exited(child);
        // From 1 s to 6 s after start: while starting (which alone can take seconds on a loaded
        // machine), reading checkpoints, publishing, confirming.
        await new Promise((resolve) => setTimeout(resolve, 1000 + random() * 5000));
        child.kill('SIGKILL');
        const { signal, stderr } = await exit;
        expect(signal, stderr).toBe('SIGKILL');
        console.log(`kill ${kill + 1}: ${stderr.trim().split('\n').join(' | ')}`);
      }
      stop = true;
      expect(await workload).toBeGreaterThan(10);
      const final = await exited(startCapture(url, ['--until-caught-up']));
      expect(final.code, final.stderr).toBe(0);
      await runKafkaWorker({
        brokers: [kafka.bootstrapServers],
        group: 'kcrash',
        topics: /^kcrash\./,
        warehouse,
        pii: createPiiPolicy({ dropFields: [], hashFields: [], hashPii: false, hashKey: PII_KEY }),
        untilIdleSeconds: 4,
      });
      await expectNoDuplicateVersions(warehouse, 'raw.kcrash_activity', ['id']);
      await expectMirrorEqualsSource({
        client,
        warehouse,
        table: 'activity',
        mirror: 'raw.kcrash_activity',
        key: ['id'],
      });
    });
  });

  it('retracts the rows a snapshot cut short published that the source deleted before the next snapshot', async () => {
    const url = await createTestDatabase('ksnapcut');
    await withClient(url, async (client) => {
      await client.query('CREATE TABLE item (id int PRIMARY KEY, label text)');
      await client.query(
        `INSERT INTO item SELECT g, repeat(md5(g::text), 3) FROM generate_series(1, ${SNAPSHOT_ROWS}) AS g`,
      );
      const topic = 'ksnapcut.public.item';
      const child = startCapture(url, [], 'ksnapcut');
      const exit = exited(child);
      // Killed as soon as the snapshot's first rows are on the topic: it has more chunks to go.
      const admin = new Kafka({ brokers: [kafka.bootstrapServers], logLevel: logLevel.NOTHING }).admin();
      await admin.connect();
      // A topic created a moment ago may not have its leaders yet: nothing is readable on it then.
      const published = async () => {
        if (!(await admin.listTopics()).includes(topic)) return 0;
        const offsets = await admin.fetchTopicOffsets(topic).catch(() => []);
        return offsets.reduce((sum, partition) => sum + Number(partition.high), 0);
      };
      while ((await published()) === 0) await new Promise((resolve) => setTimeout(resolve, 20));
      child.kill('SIGKILL');
      const { signal, stderr } = await exit;
      expect(signal, stderr).toBe('SIGKILL');
      const cut = await published();
      await admin.disconnect();
      expect(cut, 'the snapshot was killed before it ended').toBeLessThan(SNAPSHOT_ROWS);
      // Among them, rows the source deletes (and changes) before the snapshot is taken again.
      await client.query('DELETE FROM item WHERE id % 7 = 0');
      await client.query(`UPDATE item SET label = 'changed' WHERE id % 11 = 0`);
      await client.query(
        `INSERT INTO item SELECT g, 'new' FROM generate_series(${SNAPSHOT_ROWS + 1}, ${SNAPSHOT_ROWS + 500}) AS g`,
      );
      const final = await exited(startCapture(url, ['--until-caught-up'], 'ksnapcut'));
      expect(final.code, final.stderr).toBe(0);
      await runKafkaWorker({
        brokers: [kafka.bootstrapServers],
        group: 'ksnapcut',
        topics: /^ksnapcut\./,
        warehouse,
        pii: createPiiPolicy({ dropFields: [], hashFields: [], hashPii: false, hashKey: PII_KEY }),
        untilIdleSeconds: 4,
      });
      await expectNoDuplicateVersions(warehouse, 'raw.ksnapcut_item', ['id']);
      await expectMirrorEqualsSource({
        client,
        warehouse,
        table: 'item',
        mirror: 'raw.ksnapcut_item',
        key: ['id'],
      });
    });
  });
});
