// Native capture onto a real Kafka broker, then the ingest worker: the mirrors equal the source,
// exactly as when the capture writes the warehouse directly; and the capture's Kafka sink publishes
// each batch once, whatever moment a capture is killed at.
import { join } from 'node:path';
import fc from 'fast-check';
import { Kafka, logLevel, type KafkaMessage } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { startKafka, type RunningKafka } from '../../stack/index.ts';
import { apply, EVERYTHING_DDL, operation } from '../../test/everything-workload.ts';
import { readCommittedMessages } from '../../test/kafka-topic.ts';
import { expectMirrorEqualsSource, expectNoDuplicateVersions } from '../../test/mirror-equality.ts';
import { createTestDatabase, dropTestDatabase, withClient } from '../../test/postgres.ts';
import {
  describeShape,
  keyColumns,
  keyPool,
  mirrorKey,
  shapeDdl,
  shapeWorkload,
  ShapeWriter,
  tableShape,
} from '../../test/table-shapes.ts';
import { openWarehouse, type Warehouse } from '../../warehouse/index.ts';
import type { LandingBatch } from '../landing/sink.ts';
import type { SourceChange } from '../landing/types.ts';
import { createPiiPolicy, DEFAULT_DROP_FIELDS, DEFAULT_HASH_FIELDS } from '../pii.ts';
import { runPostgresCapture } from '../postgres/capture.ts';
import type { SourceTable } from '../source-table.ts';
import { captureTransactionalId, KafkaSink } from './kafka-sink.ts';
import { idempotentProducer } from './producer.ts';
import { runKafkaWorker } from './worker.ts';
import { scratchDir } from '../../test/scratch.ts';

let kafka: RunningKafka;
let warehouse: Warehouse;
const pii = createPiiPolicy({
  dropFields: DEFAULT_DROP_FIELDS,
  hashFields: DEFAULT_HASH_FIELDS,
  hashPii: true,
  hashKey: 'kafka-test-key-0123456789',
});

beforeAll(async () => {
  const root = await scratchDir('native-kafka');
  kafka = await startKafka({ dataDir: join(root, 'kafka') });
  warehouse = await openWarehouse({ kind: 'chdb', path: join(root, 'warehouse') });
});

afterAll(async () => {
  await warehouse?.close();
  await kafka?.stop();
});

describe('native capture → Kafka → ingest worker', () => {
  it('mirrors a random workload over every seed column type (snapshot, then stream, a column added midway)', async () => {
    const url = await createTestDatabase('tokafka');
    const [before, after] = fc.sample(
      fc.tuple(
        fc.array(operation, { minLength: 40, maxLength: 80 }),
        fc.array(operation, { minLength: 60, maxLength: 120 }),
      ),
      {
        numRuns: 1,
        seed: 42,
      },
    )[0] ?? [[], []];
    await withClient(url, async (client) => {
      await client.query(EVERYTHING_DDL);
      for (const op of before) if (op.kind !== 'truncate') await apply(client, op);
      const capture = () =>
        runPostgresCapture({
          sourceUrl: url,
          sourceName: 'tokafka',
          tables: { kind: 'all' },
          sink: new KafkaSink({ brokers: [kafka.bootstrapServers], pii }),
          pii,
          untilCaughtUp: true,
        });
      await capture();
      for (const op of after.slice(0, 40)) await apply(client, op);
      await client.query('ALTER TABLE everything ADD COLUMN added_later numeric(8,3)');
      await client.query('UPDATE everything SET added_later = id / 8.0');
      for (const op of after.slice(40)) await apply(client, op);
      await capture();
      await runKafkaWorker({
        brokers: [kafka.bootstrapServers],
        group: 'native',
        topics: /^tokafka\./,
        warehouse,
        pii,
        untilIdleSeconds: 4,
      });
      await expectMirrorEqualsSource({
        client,
        warehouse,
        table: 'everything',
        mirror: 'raw.tokafka_everything',
        key: ['id'],
      });
      await expectMirrorEqualsSource({
        client,
        warehouse,
        table: 'serials',
        mirror: 'raw.tokafka_serials',
        key: ['id'],
      });
    });
  });

  it('mirrors every table shape exactly, key changes crossing partitions included', async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        tableShape.chain((shape) =>
          fc.record({
            shape: fc.constant(shape),
            pool: keyPool(shape),
            beforeSnapshot: shapeWorkload(10, { minLength: 5, maxLength: 15 }),
            afterSnapshot: shapeWorkload(10, { minLength: 20, maxLength: 50 }),
          }),
        ),
        async ({ shape, pool, beforeSnapshot, afterSnapshot }) => {
          const url = await createTestDatabase('kshape');
          const source = `kshape${run++}`;
          const writer = new ShapeWriter('items', shape, pool);
          await withClient(url, async (client) => {
            await client.query(shapeDdl('items', shape));
            await writer.apply(client, beforeSnapshot);
            const capture = () =>
              runPostgresCapture({
                sourceUrl: url,
                sourceName: source,
                tables: { kind: 'all' },
                // Three partitions: a key change's halves usually land on different ones.
                sink: new KafkaSink({ brokers: [kafka.bootstrapServers], pii, partitions: 3 }),
                pii,
                untilCaughtUp: true,
                batchRows: 7,
              });
            await capture();
            await writer.apply(client, afterSnapshot);
            await capture();
            await runKafkaWorker({
              brokers: [kafka.bootstrapServers],
              group: source,
              topics: new RegExp(`^${source}\\.`),
              warehouse,
              pii,
              untilIdleSeconds: 2,
            });
            const mirror = `raw.${source}_items`;
            await expectMirrorEqualsSource(
              { client, warehouse, table: 'items', mirror, key: keyColumns(shape) },
              describeShape(shape),
            );
            await expectNoDuplicateVersions(warehouse, mirror, mirrorKey(shape));
          });
          await dropTestDatabase(url);
        },
      ),
      { numRuns: 4, seed: 20261204, endOnFailure: true },
    );
  });
});

// The sink alone: each batch is published exactly once, whatever moment a capture is killed at.
// Both moments used to publish twice: the sink published a rebuilt batch again at new offsets, and
// the workers, whose insert tokens come from offsets, took the copy for new changes.
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
