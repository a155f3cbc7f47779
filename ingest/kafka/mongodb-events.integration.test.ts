// MongoDB events on Kafka, against a real broker and the embedded ClickHouse engine: Debezium's
// MongoDB envelopes (fixtures in its documented format: documents as extended-JSON strings, deletes
// named only by the message key) and the native reader's own `--to kafka` output must give the same
// mirror rows as the native reader writing straight into the warehouse. The documents live in the
// mongo-java-server stand-in (no real mongod exists for this machine kind) unless TRIBUTARY_MONGO_URL is set.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Kafka, logLevel, type Producer } from 'kafkajs';
import { idempotentProducer } from './producer.ts';
import type { Document, MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DocumentWorkload } from '../../test/document-workload.ts';
import {
  connectMongo,
  expectDocumentMirrorEqualsCollection,
  MONGO_SERVER,
  readDocumentMirror,
  startTestMongo,
  uniqueDatabaseName,
  type TestMongo,
} from '../../test/mongo.ts';
import { documentFieldsOf } from '../../packs/index.ts';
import { learningPack } from '../../packs/learning/index.ts';
import { startKafka, type RunningKafka } from '../../stack/index.ts';
import { openWarehouse, type Warehouse } from '../../warehouse/index.ts';
import type { LandingSink } from '../landing/sink.ts';
import { WarehouseSink } from '../landing/warehouse-sink.ts';
import { parseDebeziumJson } from '../documents/extended-json.ts';
import { runMongoCapture } from '../mongo/capture.ts';
import { createPiiPolicy, DEFAULT_DROP_FIELDS, DEFAULT_HASH_FIELDS } from '../pii.ts';
import { KafkaSink } from './kafka-sink.ts';
import { runKafkaWorker } from './worker.ts';
import { scratchDir } from '../../test/scratch.ts';

const pii = createPiiPolicy({
  dropFields: DEFAULT_DROP_FIELDS,
  hashFields: DEFAULT_HASH_FIELDS,
  hashPii: true,
  hashKey: 'mongo-kafka-test-key-0123456789',
});
const documentFields = documentFieldsOf(learningPack);

interface Fixture {
  key: { id: string };
  value: { op: 'r' | 'c' | 'u' | 'd'; after: string | null } | null;
}

let kafka: RunningKafka;
let producer: Producer;
let mongo: TestMongo;
let client: MongoClient;
let warehouse: Warehouse;

beforeAll(async () => {
  const root = await scratchDir('mongo-kafka');
  kafka = await startKafka({ dataDir: join(root, 'kafka') });
  producer = idempotentProducer(
    new Kafka({
      clientId: 'test',
      brokers: [kafka.bootstrapServers],
      logLevel: logLevel.NOTHING,
    }),
  );
  await producer.connect();
  mongo = await startTestMongo();
  client = await connectMongo(mongo.url);
  warehouse = await openWarehouse({ kind: 'chdb', path: join(root, 'warehouse') });
});

afterAll(async () => {
  await producer?.disconnect();
  await client?.close();
  await mongo?.stop();
  await warehouse?.close();
  await kafka?.stop();
});

function captureNative(database: string, collection: string, sourceName: string, sink: LandingSink) {
  return runMongoCapture({
    sourceUrl: mongo.url,
    sourceName,
    collections: { kind: 'list', collections: [`${database}.${collection}`] },
    sink,
    pii,
    documentFields,
    untilCaughtUp: true,
  });
}

function ingest(group: string, topics: RegExp) {
  return runKafkaWorker({
    brokers: [kafka.bootstrapServers],
    group,
    topics,
    warehouse,
    pii,
    documentFields,
    untilIdleSeconds: 2,
  });
}

/** Live rows with every column but the position: what an analyst sees. */
async function liveRows(mirror: string): Promise<Record<string, unknown>[]> {
  return warehouse.query(
    `SELECT _id, doc, user_id, session_id, event_type, event_category, toString(timestamp) AS timestamp
     FROM ${mirror} FINAL WHERE _is_deleted = 0 ORDER BY _id`,
  );
}

describe(`MongoDB events through Kafka (${MONGO_SERVER})`, () => {
  it('lands Debezium MongoDB fixtures as the same mirror rows the native reader writes for the same documents', async () => {
    const fixtures = JSON.parse(
      await readFile(new URL('../mongo/fixtures/debezium-mongodb-events.json', import.meta.url), 'utf8'),
    ) as Fixture[];
    // The same history, played on the server for the native reader.
    const database = uniqueDatabaseName('inventory');
    const collection = client.db(database).collection<Document>('user_interactions');
    for (const { key, value } of fixtures) {
      if (!value) continue;
      const id = parseDebeziumJson(key.id) as Document['_id'];
      if (value.op === 'd') await collection.deleteOne({ _id: id });
      else {
        const document = parseDebeziumJson(value.after ?? '{}') as Document;
        if (value.op === 'u') await collection.replaceOne({ _id: id }, document);
        else await collection.insertOne(document);
      }
    }
    await captureNative(database, 'user_interactions', 'native', new WarehouseSink(warehouse));

    await producer.send({
      topic: 'dbz.inventory.user_interactions',
      messages: fixtures.map(({ key, value }) => ({
        key: JSON.stringify(key),
        value: value === null ? null : JSON.stringify(value),
      })),
    });
    const result = await ingest('dbz-fixtures', /^dbz\./);
    expect(result.deadLetters).toBe(0);

    const debezium = await liveRows('raw.dbz_user_interactions');
    expect(debezium).toHaveLength(2);
    expect(debezium).toEqual(await liveRows('raw.native_user_interactions'));
    // The Double 7.0 of the strict-mode text stays a Double; the email is hashed on both paths.
    expect(JSON.stringify(debezium)).not.toContain('learner@example.com');
    const deleted = await warehouse.query(
      `SELECT argMax(_is_deleted, _version) AS deleted FROM raw.dbz_user_interactions WHERE _id = '{"$numberInt":"1004"}'`,
    );
    expect(deleted).toEqual([{ deleted: 1 }]);
  });

  it('gives the same mirror through Kafka (capture --to kafka, then ingest) as straight into the warehouse', async () => {
    const database = uniqueDatabaseName('viakafka');
    const collection = client.db(database).collection('events');
    const workload = new DocumentWorkload(collection, 31);
    await workload.run(300);
    await captureNative(
      database,
      'events',
      'viakafka',
      new KafkaSink({ brokers: [kafka.bootstrapServers], pii }),
    );
    await workload.run(300);
    await captureNative(
      database,
      'events',
      'viakafka',
      new KafkaSink({ brokers: [kafka.bootstrapServers], pii }),
    );
    await ingest('viakafka', /^viakafka\./);
    await captureNative(database, 'events', 'direct', new WarehouseSink(warehouse));

    const throughKafka = await readDocumentMirror(warehouse, 'raw.viakafka_events');
    expect(throughKafka.size).toBeGreaterThan(50);
    expect(throughKafka).toEqual(await readDocumentMirror(warehouse, 'raw.direct_events'));
    await expectDocumentMirrorEqualsCollection({
      client,
      warehouse,
      database,
      collection: 'events',
      mirror: 'raw.viakafka_events',
      pii,
    });
  });
});
