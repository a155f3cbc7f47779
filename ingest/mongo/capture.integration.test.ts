// Native MongoDB capture into the embedded ClickHouse engine. Runs against the mongo-java-server
// stand-in (no real mongod exists for this machine kind) or, with TRIBUTARY_MONGO_URL, against a
// real replica set; every title names the server.
import { join } from 'node:path';
import { Code, Int32, type MongoClient } from 'mongodb';
import { z } from 'zod';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
import {
  listDeadLetters,
  openWarehouse,
  readCheckpoint,
  writeCheckpoint,
  type Warehouse,
} from '../../warehouse/index.ts';
import { WarehouseSink } from '../landing/warehouse-sink.ts';
import { createPiiPolicy, DEFAULT_DROP_FIELDS, DEFAULT_HASH_FIELDS } from '../pii.ts';
import type { DocumentField } from '../source-table.ts';
import { runMongoCapture, type MongoCaptureResult } from './capture.ts';
import { scratchDir } from '../../test/scratch.ts';

const pii = createPiiPolicy({
  dropFields: DEFAULT_DROP_FIELDS,
  hashFields: DEFAULT_HASH_FIELDS,
  hashPii: true,
  hashKey: 'test-key-0123456789',
});
const FIELDS: DocumentField[] = [
  { name: 'user_id', type: 'string' },
  { name: 'session_id', type: 'string' },
  { name: 'event_type', type: 'string' },
  { name: 'timestamp', type: 'datetime' },
];

let mongo: TestMongo;
let client: MongoClient;
let warehouse: Warehouse;

beforeAll(async () => {
  mongo = await startTestMongo();
  client = await connectMongo(mongo.url);
  warehouse = await openWarehouse({
    kind: 'chdb',
    path: join(await scratchDir('wh'), 'warehouse'),
  });
});
afterAll(async () => {
  await client?.close();
  await mongo?.stop();
  await warehouse?.close();
});

function capture(
  database: string,
  collection: string,
  options: { untilCaughtUp?: boolean; signal?: AbortSignal } = {},
): Promise<MongoCaptureResult> {
  return runMongoCapture({
    sourceUrl: mongo.url,
    sourceName: database,
    collections: { kind: 'list', collections: [`${database}.${collection}`] },
    sink: new WarehouseSink(warehouse),
    pii,
    documentFields: () => FIELDS,
    untilCaughtUp: options.untilCaughtUp ?? true,
    batchRows: 300,
    batchDelayMs: 50,
    snapshotChunkRows: 100,
    signal: options.signal,
  });
}

describe(`native MongoDB capture (${MONGO_SERVER})`, () => {
  it('keeps the mirror equal to the collection through a random workload with every BSON type and a 1 MB document', async () => {
    const database = uniqueDatabaseName('random');
    const collection = client.db(database).collection('events');
    const workload = new DocumentWorkload(collection, 7);
    await workload.run(300);
    const big = await workload.insert({
      blob: 'x'.repeat(1024 * 1024),
      nested: { deep: { deeper: [1, 2, 3] } },
    });
    const first = await capture(database, 'events');
    expect(first.snapshotDocuments).toBeGreaterThan(50);

    // Changes while the capture streams, then a final catch-up.
    const stop = new AbortController();
    const streaming = capture(database, 'events', { untilCaughtUp: false, signal: stop.signal });
    await workload.run(600);
    await collection.updateOne({ _id: big } as never, { $set: { 'nested.deep.more': 'yes' } });
    await new Promise((resolve) => setTimeout(resolve, 1500));
    stop.abort();
    const streamed = await streaming;
    expect(streamed.streamedChanges).toBeGreaterThan(0);
    await capture(database, 'events');

    const mirror = `raw.${database}_events`;
    await expectDocumentMirrorEqualsCollection({
      client,
      warehouse,
      database,
      collection: 'events',
      mirror,
      pii,
    });
    await expectNoDuplicateVersions(warehouse, mirror, ['_id']);

    // Declared fields are typed columns holding the document's values; secrets are gone, PII hashed.
    const [row] = await warehouse.query<{ user_id: string; ts: string; doc: string }>(
      `SELECT user_id, toString(timestamp) AS ts, doc FROM ${mirror} FINAL WHERE _is_deleted = 0 LIMIT 1`,
    );
    const document = JSON.parse(row?.doc ?? '{}') as {
      user_id: string;
      timestamp: { $date: { $numberLong: string } };
    };
    expect(row?.user_id).toBe(document.user_id);
    expect(new Date(`${row?.ts ?? ''}Z`).getTime()).toBe(Number(document.timestamp.$date.$numberLong));
    const leaked = await warehouse.query(
      `SELECT _id FROM ${mirror} WHERE doc LIKE '%password_hash%' OR doc LIKE '%@example.com%' LIMIT 1`,
    );
    expect(leaked).toEqual([]);
  });

  it('sends documents the mirror cannot hold to dead_letters with the reason, and keeps going', async () => {
    const database = uniqueDatabaseName('bad');
    const collection = client.db(database).collection('events');
    await collection.insertOne({ _id: 'ok-1' as never, user_id: 'u1' });
    await capture(database, 'events');
    await collection.insertMany([
      { _id: 'collides' as never, user_id: 'u2', _version: 5 },
      { _id: 'code' as never, user_id: 'u3', script: new Code('function () { return 1; }') },
      { _id: 'typed' as never, user_id: new Int32(42) },
      { _id: 'ok-2' as never, user_id: 'u4' },
    ]);
    const result = await capture(database, 'events');
    expect(result.deadLetters).toBe(3);
    const letters = await listDeadLetters(warehouse, { pipeline: `mongo:${database}` });
    const reasons = letters.map((letter) => letter.error).join('\n');
    expect(reasons).toMatch(/"_version" collides with the mirror column/);
    expect(reasons).toMatch(/JavaScript code/);
    expect(reasons).toMatch(/"user_id" holds a BSON Int32, but the pack declares it string/);
    const ids = (
      await warehouse.query<{ _id: string }>(
        `SELECT _id FROM raw.${database}_events FINAL WHERE _is_deleted = 0 ORDER BY _id`,
      )
    ).map((row) => row._id);
    expect(ids).toEqual(['"ok-1"', '"ok-2"']);
  });

  it('snapshots a collection again when its stored position has left the oplog', async () => {
    const database = uniqueDatabaseName('lost');
    const collection = client.db(database).collection('events');
    const workload = new DocumentWorkload(collection, 11);
    await workload.run(200);
    await capture(database, 'events');
    // Changes the capture does not see, then a position older than anything the oplog holds.
    await workload.run(200);
    const pipeline = `mongo:${database}`;
    const stream = `${database}.events`;
    const stored = await readCheckpoint(warehouse, pipeline, stream, z.object({ state: z.unknown() }));
    expect(stored?.state).toBeDefined();
    await writeCheckpoint(warehouse, pipeline, stream, {
      state: { resumeAfter: '{"_data":"0000000100000001"}', version: String((1n << 32n) | 1n) },
    });
    const result = await capture(database, 'events');
    expect(result.resnapshots).toBe(1);
    const mirror = `raw.${database}_events`;
    await expectDocumentMirrorEqualsCollection({
      client,
      warehouse,
      database,
      collection: 'events',
      mirror,
      pii,
    });
    await expectNoDuplicateVersions(warehouse, mirror, ['_id']);
  });

  it.skipIf(process.env.TRIBUTARY_MONGO_URL !== undefined)(
    'snapshots again after the stand-in restarts empty, oplog included (stand-in only)',
    async () => {
      const database = uniqueDatabaseName('restart');
      let collection = client.db(database).collection('events');
      await new DocumentWorkload(collection, 13).run(150);
      await capture(database, 'events');
      await client.close();
      await mongo.restartEmpty?.();
      client = await connectMongo(mongo.url);
      collection = client.db(database).collection('events');
      await new DocumentWorkload(collection, 17).run(80);
      const result = await capture(database, 'events');
      expect(result.resnapshots).toBe(1);
      const mirror = `raw.${database}_events`;
      await expectDocumentMirrorEqualsCollection({
        client,
        warehouse,
        database,
        collection: 'events',
        mirror,
        pii,
      });
    },
  );
});
