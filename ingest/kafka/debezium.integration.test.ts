// The Debezium path, all real: Postgres → the Debezium Postgres connector on Kafka Connect → Kafka →
// the ingest worker → the mirrors equal the source, and equal what the native capture gives for
// the same workload (its own slot on the same database, published to Kafka beside Debezium's).
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConnectClient, postgresConnector, preparePostgresSource } from '../../connectors/index.ts';
import { startKafka, startKafkaConnect, type RunningConnect, type RunningKafka } from '../../stack/index.ts';
import { apply, EVERYTHING_DDL, operation } from '../../test/everything-workload.ts';
import { readSourceAndMirror } from '../../test/mirror-equality.ts';
import { createTestDatabase, withClient } from '../../test/postgres.ts';
import { openWarehouse, type Warehouse } from '../../warehouse/index.ts';
import { createPiiPolicy, DEFAULT_DROP_FIELDS, DEFAULT_HASH_FIELDS } from '../pii.ts';
import { runPostgresCapture } from '../postgres/capture.ts';
import { describeSourceTables } from '../postgres/describe-tables.ts';
import { KafkaSink } from './kafka-sink.ts';
import { publishTableSchemas } from './schema-topic.ts';
import { runKafkaWorker } from './worker.ts';

let kafka: RunningKafka;
let connect: RunningConnect;
let warehouse: Warehouse;
const pii = createPiiPolicy({
  dropFields: DEFAULT_DROP_FIELDS,
  hashFields: DEFAULT_HASH_FIELDS,
  hashPii: true,
  hashKey: 'debezium-test-key-0123456789',
});

beforeAll(async () => {
  const root = await mkdtemp(join(tmpdir(), 'tributary-debezium-'));
  kafka = await startKafka({ dataDir: join(root, 'kafka') });
  connect = await startKafkaConnect({
    bootstrapServers: kafka.bootstrapServers,
    dataDir: join(root, 'connect'),
  });
  warehouse = await openWarehouse({ kind: 'chdb', path: join(root, 'warehouse') });
});

afterAll(async () => {
  await warehouse?.close();
  await connect?.stop();
  await kafka?.stop();
});

describe('Debezium → Kafka → ingest worker', () => {
  it('mirrors the source exactly, and exactly as the native capture does', async () => {
    const url = await createTestDatabase('dbz');
    const [before, after] = fc.sample(
      fc.tuple(
        fc.array(operation, { minLength: 40, maxLength: 80 }),
        fc.array(operation, { minLength: 60, maxLength: 120 }),
      ),
      {
        numRuns: 1,
        seed: 7,
      },
    )[0] ?? [[], []];
    await withClient(url, async (client) => {
      await client.query(EVERYTHING_DDL);
      for (const op of before) if (op.kind !== 'truncate') await apply(client, op);
      const connector = postgresConnector({
        sourceUrl: url,
        sourceName: 'dbz',
        dropFields: DEFAULT_DROP_FIELDS,
      });
      await preparePostgresSource({
        sourceUrl: url,
        publication: connector.config['publication.name'] ?? '',
      });

      const brokers = [kafka.bootstrapServers];
      const producer = new Kafka({ clientId: 'test', brokers, logLevel: logLevel.NOTHING }).producer();
      await producer.connect();
      await publishTableSchemas(
        producer,
        await describeSourceTables({ sourceUrl: url, sourceName: 'dbz', tables: { kind: 'all' }, pii }),
      );
      await producer.disconnect();
      const connectClient = new ConnectClient(connect.url);
      expect(await connectClient.apply(connector.name, connector.config)).toBe('created');
      expect(await connectClient.apply(connector.name, connector.config)).toBe('unchanged');
      await expect
        .poll(async () => (await connectClient.status(connector.name)).tasks[0]?.state, { timeout: 60_000 })
        .toBe('RUNNING');

      const native = () =>
        runPostgresCapture({
          sourceUrl: url,
          sourceName: 'nat',
          tables: { kind: 'all' },
          sink: new KafkaSink({ brokers }),
          pii,
          untilCaughtUp: true,
        });
      await native();
      for (const op of after.slice(0, 50)) await apply(client, op);
      await client.query('ALTER TABLE everything ADD COLUMN added_later numeric(8,3)');
      await client.query('UPDATE everything SET added_later = id / 8.0');
      for (const op of after.slice(50)) await apply(client, op);
      await native();

      const mirrorOf = async (source: string) =>
        readSourceAndMirror({
          client,
          warehouse,
          table: 'everything',
          mirror: `raw_${source}_everything`,
          key: ['id'],
        });
      // Debezium delivers at its own pace: land what has arrived until its mirror matches the source.
      const deadline = Date.now() + 180_000;
      for (;;) {
        await runKafkaWorker({
          brokers,
          group: 'debezium-test',
          topics: /^(dbz|nat)\.public\.everything$/,
          warehouse,
          pii,
          untilIdleSeconds: 2,
          catalogs: { dbz: url },
        });
        const { source, mirror } = await mirrorOf('dbz');
        if (
          Date.now() > deadline ||
          (mirror.length === source.length && mirror.every((row, index) => row === source[index]))
        )
          break;
      }
      const dbz = await mirrorOf('dbz');
      const nat = await mirrorOf('nat');
      expect(nat.mirror).toEqual(nat.source);
      expect(dbz.mirror).toEqual(dbz.source);
      expect(dbz.mirror).toEqual(nat.mirror);
    });
  });
});
