// Native capture onto a real Kafka broker, then the ingest worker: the mirrors equal the source,
// exactly as when the capture writes the warehouse directly.
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { startKafka, type RunningKafka } from '../../stack/index.ts';
import { apply, EVERYTHING_DDL, operation } from '../../test/everything-workload.ts';
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
import { createPiiPolicy, DEFAULT_DROP_FIELDS, DEFAULT_HASH_FIELDS } from '../pii.ts';
import { runPostgresCapture } from '../postgres/capture.ts';
import { KafkaSink } from './kafka-sink.ts';
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
