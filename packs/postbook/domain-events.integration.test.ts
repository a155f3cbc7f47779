// The seed's domain events, published by the sync from the captured changes: UserCreated for each
// new Auth account and UserProfileUpdated for each applied name change, in the seed's JSON shapes,
// to a real Kafka topic and to a RabbitMQ exchange (a rabbitmq-server this test starts itself).
import { join } from 'node:path';
import amqp from 'amqplib';
import { Kafka, logLevel } from 'kafkajs';
import { idempotentProducer } from '../../ingest/kafka/producer.ts';
import { ObjectId, type Db, type MongoClient } from 'mongodb';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TeeSink } from '../../ingest/landing/tee-sink.ts';
import { WarehouseSink } from '../../ingest/landing/warehouse-sink.ts';
import { runMongoCapture } from '../../ingest/mongo/capture.ts';
import { createPiiPolicy, DEFAULT_DROP_FIELDS, DEFAULT_HASH_FIELDS } from '../../ingest/pii.ts';
import { runPostgresCapture } from '../../ingest/postgres/capture.ts';
import { startKafka, type RunningKafka } from '../../stack/index.ts';
import { startRabbitMq, type RunningRabbitMq } from '../../stack/rabbitmq.ts';
import { connectMongo, startTestMongo, uniqueDatabaseName, type TestMongo } from '../../test/mongo.ts';
import { createTestDatabase, dropTestDatabase } from '../../test/postgres.ts';
import { scratchDir } from '../../test/scratch.ts';
import { openWarehouse, type Warehouse } from '../../warehouse/index.ts';
import { Denormalizer } from './denormalize.ts';
import {
  allOf,
  amqpPublisher,
  domainEventSchema,
  kafkaPublisher,
  POSTBOOK_EVENTS_EXCHANGE,
  POSTBOOK_EVENTS_TOPIC,
  type DomainEvent,
} from './domain-events.ts';
import { POSTBOOK_AUTH_SCHEMA_SQL } from './index.ts';

// The default policy: the warehouse gets hashed emails and names, the events the real ones.
const pii = createPiiPolicy({
  dropFields: DEFAULT_DROP_FIELDS,
  hashFields: DEFAULT_HASH_FIELDS,
  hashPii: true,
  hashKey: 'events-test-key-0123456',
});

let postgresUrl: string;
let postgres: pg.Client;
let mongo: TestMongo;
let client: MongoClient;
let db: Db;
let warehouse: Warehouse;
let kafka: RunningKafka;
let rabbit: RunningRabbitMq;

beforeAll(async () => {
  const root = await scratchDir('pb-events');
  [kafka, rabbit] = await Promise.all([
    startKafka({ dataDir: join(root, 'kafka') }),
    startRabbitMq({ dataDir: join(root, 'rabbitmq') }),
  ]);
  postgresUrl = await createTestDatabase('events');
  postgres = new pg.Client({ connectionString: postgresUrl });
  await postgres.connect();
  await postgres.query(POSTBOOK_AUTH_SCHEMA_SQL);
  mongo = await startTestMongo();
  client = await connectMongo(mongo.url);
  db = client.db(uniqueDatabaseName('events'));
  warehouse = await openWarehouse({ kind: 'chdb', path: join(root, 'warehouse') });
}, 300_000);
afterAll(async () => {
  await postgres?.end();
  if (postgresUrl) await dropTestDatabase(postgresUrl);
  await client?.close();
  await mongo?.stop();
  await warehouse?.close();
  await rabbit?.stop();
  await kafka?.stop();
});

describe('domain events from the captured changes, to Kafka and RabbitMQ', () => {
  it('UserCreated per new account and UserProfileUpdated per name change, in the seed shapes, on both', async () => {
    // A queue bound to every event before anything is published, as a subscriber service has.
    const consumerConnection = await amqp.connect(rabbit.url);
    const consumerChannel = await consumerConnection.createChannel();
    await consumerChannel.assertExchange(POSTBOOK_EVENTS_EXCHANGE, 'topic', { durable: true });
    const { queue } = await consumerChannel.assertQueue('', { exclusive: true });
    await consumerChannel.bindQueue(queue, POSTBOOK_EVENTS_EXCHANGE, '#');

    const broker = new Kafka({ brokers: [kafka.bootstrapServers], logLevel: logLevel.NOTHING });
    const admin = broker.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: POSTBOOK_EVENTS_TOPIC, numPartitions: 3 }] });
    await admin.disconnect();
    const producer = idempotentProducer(broker);
    await producer.connect();
    const rabbitPublisher = await amqpPublisher(rabbit.url);
    const denormalizer = new Denormalizer(db, {
      publish: allOf([kafkaPublisher(producer), rabbitPublisher.publish]),
      auth: postgres,
    });
    const settle = async () => {
      const sink = () =>
        new TeeSink(new WarehouseSink(warehouse), (changes) =>
          denormalizer.applyChanges(changes).then(() => undefined),
        );
      await runPostgresCapture({
        sourceUrl: postgresUrl,
        sourceName: 'ev',
        tables: { kind: 'list', tables: ['public.users'] },
        sink: sink(),
        pii,
        untilCaughtUp: true,
      });
      await runMongoCapture({
        sourceUrl: mongo.url,
        sourceName: 'ev',
        collections: { kind: 'list', collections: [`${db.databaseName}.user_profiles`] },
        sink: sink(),
        pii,
        untilCaughtUp: true,
      });
    };

    // The capture's first pass is a snapshot: accounts created before it are not "created" events.
    await settle();
    const ids = ['3f0c2a8e-1d5b-4c1e-9a57-0b6a1c2d3e4f', '7b1e5d2c-8a3f-4b6e-8c9d-1e2f3a4b5c6d'];
    for (const [index, id] of ids.entries()) {
      await postgres.query(
        `INSERT INTO users (user_id, username, email, email_normalized, password_hash, first_name, last_name)
         VALUES ($1, $2, $3, $3, $4, $5, 'Tran')`,
        [id, `member_${index}`, `member_${index}@mail.test`, 'x'.repeat(60), `First${index}`],
      );
      await db.collection('user_profiles').insertOne({
        _id: new ObjectId(),
        userId: id,
        username: `member_${index}`,
        displayName: `Member ${index}`,
        avatarUrl: `https://cdn.test/${index}.jpg`,
      });
    }
    await settle();
    await db
      .collection('user_profiles')
      .updateOne({ userId: ids[0] }, { $set: { displayName: 'Renamed Zero' } });
    await postgres.query("UPDATE users SET username = 'member_one' WHERE user_id = $1", [ids[1]]);
    await settle();
    await producer.disconnect();
    await rabbitPublisher.close();

    const fromRabbit: DomainEvent[] = [];
    for (let message = await consumerChannel.get(queue); message; message = await consumerChannel.get(queue))
      fromRabbit.push(domainEventSchema.parse(JSON.parse(message.content.toString())));
    await consumerConnection.close();

    const consumer = broker.consumer({ groupId: 'events-test' });
    await consumer.connect();
    await consumer.subscribe({ topic: POSTBOOK_EVENTS_TOPIC, fromBeginning: true });
    const fromKafka: DomainEvent[] = [];
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => resolve(), 20_000);
      consumer
        .run({
          eachMessage: async ({ message }) => {
            fromKafka.push(domainEventSchema.parse(JSON.parse(message.value?.toString() ?? '')));
            if (fromKafka.length >= fromRabbit.length) {
              clearTimeout(timer);
              resolve();
            }
          },
        })
        .catch(reject);
    });
    await consumer.disconnect();

    const created = fromRabbit.filter((event) => event.eventType === 'UserCreated');
    expect(
      created.map(({ timestamp: _t, ...event }) => event).sort((a, b) => a.userId.localeCompare(b.userId)),
    ).toEqual(
      ids.map((id, index) => ({
        eventType: 'UserCreated',
        userId: id,
        username: `member_${index}`,
        email: `member_${index}@mail.test`,
        firstName: `First${index}`,
        lastName: 'Tran',
      })),
    );
    // The warehouse holds the same accounts' emails and names hashed, never the real ones.
    const mirrored = await warehouse.query<{ email: string; first_name: string }>(
      'SELECT email, first_name FROM raw.ev_users FINAL WHERE user_id IN {ids:Array(String)}',
      { ids },
    );
    expect(mirrored).toHaveLength(ids.length);
    for (const row of mirrored) {
      expect(row.email).toMatch(new RegExp(`^${pii.keyId}:[0-9a-f]{64}$`));
      expect(row.first_name).toMatch(new RegExp(`^${pii.keyId}:`));
    }
    const updated = fromRabbit.filter((event) => event.eventType === 'UserProfileUpdated');
    // The last word on each member: the names it holds after both changes.
    const last = (id: string) => updated.filter((event) => event.userId === id).at(-1);
    expect(last(ids[0] ?? '')).toMatchObject({
      username: 'member_0',
      displayName: 'Renamed Zero',
      avatarUrl: 'https://cdn.test/0.jpg',
    });
    expect(last(ids[1] ?? '')).toMatchObject({
      username: 'member_one',
      displayName: 'Member 1',
      avatarUrl: 'https://cdn.test/1.jpg',
    });
    // Kafka carries the same events, each member's in order.
    const key = (event: DomainEvent) => JSON.stringify(event);
    expect(fromKafka.map(key).sort()).toEqual(fromRabbit.map(key).sort());
  });
});
