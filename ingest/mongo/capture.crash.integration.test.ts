// Crash safety of the native MongoDB capture: the capture process is SIGKILLed at random moments
// while a document workload runs; after restarts the mirror equals the collection and holds no
// duplicate (_id, _version). Against the stand-in unless TRIBUTARY_MONGO_URL names a real server.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exited } from '../../test/child-process.ts';
import { DocumentWorkload } from '../../test/document-workload.ts';
import { expectNoDuplicateVersions } from '../../test/mirror-equality.ts';
import {
  connectMongo,
  expectDocumentMirrorEqualsCollection,
  MONGO_SERVER,
  startTestMongo,
  uniqueDatabaseName,
  type TestMongo,
} from '../../test/mongo.ts';
import { listDeadLetters, openWarehouse } from '../../warehouse/index.ts';
import { createPiiPolicy, DEFAULT_DROP_FIELDS, DEFAULT_HASH_FIELDS } from '../pii.ts';
import { scratchDir } from '../../test/scratch.ts';

const CLI = new URL('../../bin/tributary.js', import.meta.url).pathname;
const PII_KEY = 'crash-test-key-0123456789';

let mongo: TestMongo;
beforeAll(async () => {
  mongo = await startTestMongo();
});
afterAll(async () => {
  await mongo?.stop();
});

function startCapture(collection: string, warehouseDir: string, extra: string[] = []): ChildProcess {
  return spawn(
    process.execPath,
    [
      CLI,
      'capture',
      '--source',
      mongo.url,
      '--collections',
      collection,
      '--source-name',
      'crash',
      '--warehouse',
      warehouseDir,
      '--batch-rows',
      '200',
      '--batch-delay-ms',
      '50',
      ...extra,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, TRIBUTARY_PII_KEY: PII_KEY } },
  );
}

describe(`native MongoDB capture under SIGKILL (${MONGO_SERVER})`, () => {
  it('leaves the mirror equal to the collection after 5 kills mid-stream, with no duplicate (_id, _version)', async () => {
    const database = uniqueDatabaseName('crash');
    const warehouseDir = join(await scratchDir('mongo-crash'), 'warehouse');
    const client = await connectMongo(mongo.url);
    try {
      const workload = new DocumentWorkload(client.db(database).collection('events'), 23);
      await workload.run(100);
      let stop = false;
      let operations = 0;
      const writing = (async () => {
        while (!stop) {
          await workload.step();
          operations++;
        }
      })();
      let seed = 42;
      const random = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
      for (let kill = 0; kill < 5; kill++) {
        const child = startCapture(`${database}.events`, warehouseDir);
        const exit = exited(child);
        await new Promise((resolve) => setTimeout(resolve, 2500 + random() * 3000));
        child.kill('SIGKILL');
        const { signal, stderr } = await exit;
        expect(signal, stderr).toBe('SIGKILL');
        console.log(`kill ${kill + 1}: ${stderr.trim().split('\n').join(' | ')}`);
      }
      stop = true;
      await writing;
      expect(operations).toBeGreaterThan(100);
      const final = await exited(startCapture(`${database}.events`, warehouseDir, ['--until-caught-up']));
      expect(final.code, final.stderr).toBe(0);
      const warehouse = await openWarehouse({ kind: 'chdb', path: warehouseDir });
      try {
        const mirror = 'raw.crash_events';
        await expectNoDuplicateVersions(warehouse, mirror, ['_id']);
        expect(await listDeadLetters(warehouse)).toEqual([]);
        await expectDocumentMirrorEqualsCollection({
          client,
          warehouse,
          database,
          collection: 'events',
          mirror,
          pii: createPiiPolicy({
            dropFields: DEFAULT_DROP_FIELDS,
            hashFields: DEFAULT_HASH_FIELDS,
            hashPii: true,
            hashKey: PII_KEY,
          }),
        });
      } finally {
        await warehouse.close();
      }
    } finally {
      await client.close();
    }
  });
});
