// A real Kafka broker and Connect worker from stack/: messages round-trip (5 MB ones too), survive a
// broker restart in place, and Connect offers the Debezium connectors.
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel, Partitioners } from 'kafkajs';
import { idempotentProducer } from '../ingest/kafka/producer.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DEBEZIUM_CONNECTORS,
  startKafka,
  startKafkaConnect,
  type RunningConnect,
  type RunningKafka,
} from './index.ts';

let scratch: string;
let kafka: RunningKafka | undefined;
let connect: RunningConnect | undefined;

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'tributary-kafka-'));
  kafka = await startKafka({ dataDir: join(scratch, 'kafka') });
});
afterAll(async () => {
  // Connect first: a worker whose broker is gone spends its shutdown waiting for it.
  await connect?.stop();
  await kafka?.stop();
  await rm(scratch, { recursive: true, force: true });
});

function client(): Kafka {
  if (!kafka) throw new Error('the broker did not start');
  // kafkajs logs the retries it makes on purpose (topic being created, coordinator loading) as
  // errors; a real failure still rejects.
  return new Kafka({ clientId: 'stack-test', brokers: [kafka.bootstrapServers], logLevel: logLevel.NOTHING });
}

async function produce(topic: string, values: Buffer[]): Promise<void> {
  const producer = idempotentProducer(client(), { createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  try {
    await producer.send({ topic, messages: values.map((value) => ({ value })) });
  } finally {
    await producer.disconnect();
  }
}

/** Reads a topic from its start until `count` messages arrived (or fails after a minute). */
async function consume(topic: string, count: number): Promise<Buffer[]> {
  const consumer = client().consumer({ groupId: `stack-test-${randomUUID()}`, maxWaitTimeInMs: 200 });
  await consumer.connect();
  const values: Buffer[] = [];
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`received ${values.length} of ${count} messages from ${topic} in 60 s`)),
        60_000,
      );
      consumer
        .run({
          eachMessage: async ({ message }) => {
            values.push(message.value ?? Buffer.alloc(0));
            if (values.length < count) return;
            clearTimeout(timer);
            resolve();
          },
        })
        .catch(reject);
    });
  } finally {
    await consumer.disconnect();
  }
  return values;
}

describe('local Kafka', () => {
  it('creates a topic on first use and delivers what was produced', async () => {
    await produce('greetings', [Buffer.from('xin chào'), Buffer.from('hello')]);
    expect((await consume('greetings', 2)).map(String)).toEqual(['xin chào', 'hello']);
  });

  it('accepts a 5 MB message (a large TOASTed value) and delivers it whole', async () => {
    const large = Buffer.alloc(5 * 1024 * 1024, 'a');
    await produce('large', [large]);
    const [received] = await consume('large', 1);
    expect(received?.equals(large)).toBe(true);
  });

  it('keeps a topic’s messages when the broker restarts on the same directory and ports', async () => {
    const before = kafka as RunningKafka;
    await produce(
      'durable',
      ['one', 'two', 'three'].map((value) => Buffer.from(value)),
    );
    await before.stop();
    kafka = await startKafka({
      dataDir: join(scratch, 'kafka'),
      port: before.port,
      controllerPort: before.controllerPort,
    });
    expect(kafka.bootstrapServers).toBe(before.bootstrapServers);
    expect((await consume('durable', 3)).map(String)).toEqual(['one', 'two', 'three']);
  });

  it('runs Kafka Connect with the Debezium Postgres and MongoDB connectors and transforms', async () => {
    connect = await startKafkaConnect({
      bootstrapServers: (kafka as RunningKafka).bootstrapServers,
      dataDir: join(scratch, 'connect'),
    });
    const connectors = (await (await fetch(`${connect.url}/connector-plugins`)).json()) as {
      class: string;
    }[];
    expect(connectors.map((plugin) => plugin.class)).toEqual(
      expect.arrayContaining([DEBEZIUM_CONNECTORS.postgres, DEBEZIUM_CONNECTORS.mongodb]),
    );
    // plugin.discovery=service_load finds only what jars declare: the transforms must be among it.
    const all = (await (await fetch(`${connect.url}/connector-plugins?connectorsOnly=false`)).json()) as {
      class: string;
    }[];
    expect(all.map((plugin) => plugin.class)).toContain('io.debezium.transforms.ExtractNewRecordState');
  });
});
