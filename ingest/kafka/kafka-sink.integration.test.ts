// The native capture's Kafka sink publishes each batch exactly once, on a real broker: a batch
// rebuilt after a crash that came after the broker stored it is not published again, and a batch a
// killed capture left half-sent in an open transaction never reaches a read_committed consumer.
// Both used to land twice: the sink published a rebuilt batch again at new offsets, and the workers,
// whose insert tokens come from offsets, took the copy for new changes.
import { join } from 'node:path';
import { Kafka, logLevel, type KafkaMessage } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { startKafka, type RunningKafka } from '../../stack/index.ts';
import { readCommittedMessages } from '../../test/kafka-topic.ts';
import { scratchDir } from '../../test/scratch.ts';
import type { LandingBatch } from '../landing/sink.ts';
import type { SourceChange } from '../landing/types.ts';
import { createPiiPolicy } from '../pii.ts';
import type { SourceTable } from '../source-table.ts';
import { captureTransactionalId, KafkaSink } from './kafka-sink.ts';
import { idempotentProducer } from './producer.ts';

let kafka: RunningKafka;

beforeAll(async () => {
  kafka = await startKafka({ dataDir: join(await scratchDir('kafka-sink'), 'kafka') });
});

afterAll(async () => {
  await kafka?.stop();
});

const pii = createPiiPolicy({
  dropFields: [],
  hashFields: [],
  hashPii: false,
  hashKey: 'kafka-sink-test-key',
});

function tableOf(source: string): SourceTable {
  return {
    source,
    schema: 'public',
    table: 'item',
    key: ['id'],
    columns: [
      { name: 'id', clickhouseType: 'Int32', encoding: 'plain', isArray: false, sourceType: 'int4' },
      { name: 'label', clickhouseType: 'String', encoding: 'plain', isArray: false, sourceType: 'text' },
    ],
  };
}

function changes(source: string, from: number, count: number): SourceChange[] {
  return Array.from({ length: count }, (_, index) => {
    const id = from + index;
    return {
      envelope: {
        op: 'c',
        after: { id, label: `item ${id}` },
        source: { connector: 'postgresql', name: source, db: 'd', ts_ms: 0 },
      },
      version: id,
      table: `${source}.public.item`,
    };
  });
}

/** A sink as a capture opens it: its stream's checkpoint read first, then the table registered. */
async function openSink(source: string, batch: LandingBatch): Promise<KafkaSink> {
  const sink = new KafkaSink({ brokers: [kafka.bootstrapServers], pii, partitions: 3 });
  await sink.open();
  await sink.readCheckpoint(batch.pipeline, batch.stream, z.unknown());
  await sink.register(tableOf(source));
  return sink;
}

function ids(messages: KafkaMessage[]): number[] {
  return messages
    .map((message) => (JSON.parse(message.value?.toString() ?? '{}') as { after: { id: number } }).after.id)
    .sort((a, b) => a - b);
}

describe('the Kafka sink of the native capture', () => {
  it('does not publish again a batch rebuilt after a crash that followed the broker storing it', async () => {
    const batch: LandingBatch = { pipeline: 'rebuilt', stream: 'slot', token: 'rebuilt:slot:0/10-0/20' };
    const first = await openSink('rebuilt', batch);
    await first.write(changes('rebuilt', 1, 50), batch);
    // The capture dies here, before confirming the slot; its successor rebuilds the same batch.
    await first.close();
    const second = await openSink('rebuilt', batch);
    const outcome = await second.write(changes('rebuilt', 1, 50), batch);
    expect(outcome.rejected).toEqual([]);
    // The next batch is new: it is published.
    await second.write(changes('rebuilt', 51, 10), { ...batch, token: 'rebuilt:slot:0/21-0/30' });
    await second.close();
    expect(ids(await readCommittedMessages([kafka.bootstrapServers], 'rebuilt.public.item'))).toEqual(
      Array.from({ length: 60 }, (_, index) => index + 1),
    );
  });

  it('aborts what a killed capture left open in its transaction, and publishes the rebuilt batch once', async () => {
    const batch: LandingBatch = { pipeline: 'killed', stream: 'slot', token: 'killed:slot:0/10-0/20' };
    const first = await openSink('killed', batch);
    await first.write(changes('killed', 1, 5), { ...batch, token: 'killed:slot:0/1-0/9' });
    await first.close();
    // A capture killed mid-batch: its transaction holds part of the batch and never ends.
    const client = new Kafka({ brokers: [kafka.bootstrapServers], logLevel: logLevel.NOTHING });
    const zombie = idempotentProducer(client, { transactionalId: captureTransactionalId('killed') });
    await zombie.connect();
    const open = await zombie.transaction();
    await open.send({
      topic: 'killed.public.item',
      messages: changes('killed', 6, 20).map((change) => ({ value: JSON.stringify(change.envelope) })),
    });
    // Its successor fences it on opening, then rebuilds the whole batch.
    const second = await openSink('killed', batch);
    await second.write(changes('killed', 6, 20), batch);
    await second.close();
    // The killed run can no longer commit what it held.
    await expect(open.commit()).rejects.toThrow();
    await zombie.disconnect().catch(() => undefined);
    expect(ids(await readCommittedMessages([kafka.bootstrapServers], 'killed.public.item'))).toEqual(
      Array.from({ length: 25 }, (_, index) => index + 1),
    );
  });
});
