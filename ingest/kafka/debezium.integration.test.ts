// The Debezium path, all real: Postgres → the Debezium Postgres connector on Kafka Connect → Kafka →
// the ingest worker → the mirrors equal the source, and equal what the native capture gives for
// the same workload (its own slot on the same database, published to Kafka beside Debezium's).
import { join } from 'node:path';
import fc from 'fast-check';
import { Kafka, logLevel } from 'kafkajs';
import { idempotentProducer } from './producer.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ConnectClient,
  postgresConnector,
  preparePostgresSource,
  type ConnectorDefinition,
} from '../../connectors/index.ts';
import { startKafka, startKafkaConnect, type RunningConnect, type RunningKafka } from '../../stack/index.ts';
import { apply, EVERYTHING_DDL, operation } from '../../test/everything-workload.ts';
import { readCommittedMessages } from '../../test/kafka-topic.ts';
import { expectNoDuplicateVersions, readSourceAndMirror } from '../../test/mirror-equality.ts';
import { createTestDatabase, withClient } from '../../test/postgres.ts';
import {
  describeShape,
  keyColumns,
  keyPool,
  mirrorKey,
  shapeDdl,
  shapeWorkload,
  ShapeWriter,
  type TableShape,
} from '../../test/table-shapes.ts';
import { openWarehouse, type Warehouse } from '../../warehouse/index.ts';
import { createPiiPolicy, DEFAULT_DROP_FIELDS, DEFAULT_HASH_FIELDS } from '../pii.ts';
import { runPostgresCapture } from '../postgres/capture.ts';
import { parseLsn } from '../postgres/lsn.ts';
import { describeSourceTables } from '../postgres/describe-tables.ts';
import { KafkaSink } from './kafka-sink.ts';
import { publishTableSchemas } from './schema-topic.ts';
import { runKafkaWorker } from './worker.ts';
import { scratchDir } from '../../test/scratch.ts';
import { STRADDLE_TABLE_DDL, straddleSlotCreation } from '../../test/straddling-transaction.ts';

let kafka: RunningKafka;
let connect: RunningConnect;
let warehouse: Warehouse;
let root: string;
const pii = createPiiPolicy({
  dropFields: DEFAULT_DROP_FIELDS,
  hashFields: DEFAULT_HASH_FIELDS,
  hashPii: true,
  hashKey: 'debezium-test-key-0123456789',
});

beforeAll(async () => {
  root = await scratchDir('debezium');
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

/** What `tributary connectors apply --brokers` does before registering: publication, heartbeat table, shapes. */
async function prepareDebezium(url: string, sourceName: string): Promise<ConnectorDefinition> {
  const connector = postgresConnector({ sourceUrl: url, sourceName, dropFields: DEFAULT_DROP_FIELDS });
  await preparePostgresSource({ sourceUrl: url, publication: connector.config['publication.name'] ?? '' });
  const producer = idempotentProducer(
    new Kafka({
      clientId: 'test',
      brokers: [kafka.bootstrapServers],
      logLevel: logLevel.NOTHING,
    }),
  );
  await producer.connect();
  await publishTableSchemas(
    producer,
    await describeSourceTables({ sourceUrl: url, sourceName, tables: { kind: 'all' }, pii }),
  );
  await producer.disconnect();
  return connector;
}

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
      const connector = await prepareDebezium(url, 'dbz');
      const brokers = [kafka.bootstrapServers];
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
          sink: new KafkaSink({ brokers, pii }),
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
          mirror: `raw.${source}_everything`,
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

  it('mirrors sampled table shapes exactly: a 4-uuid key under REPLICA IDENTITY FULL, a (bigint, numeric) key with two TOASTed columns', async () => {
    const shapes: TableShape[] = [
      { keyTypes: ['uuid', 'uuid', 'uuid', 'uuid'], identity: 'full', toast: ['text'] },
      { keyTypes: ['bigint', 'numeric(12,2)'], identity: 'default', toast: ['text', 'jsonb'] },
    ];
    for (const [index, shape] of shapes.entries()) {
      const name = `dbzshape${index}`;
      const url = await createTestDatabase(name);
      const [pool, before, after] = fc.sample(
        fc.tuple(
          keyPool(shape),
          shapeWorkload(10, { minLength: 10, maxLength: 15 }),
          shapeWorkload(10, { minLength: 40, maxLength: 50 }),
        ),
        { numRuns: 1, seed: 11 + index },
      )[0] ?? [[], [], []];
      const writer = new ShapeWriter('items', shape, pool);
      await withClient(url, async (client) => {
        await client.query(shapeDdl('items', shape));
        await writer.apply(client, before);
        const connector = await prepareDebezium(url, name);
        const connectClient = new ConnectClient(connect.url);
        await connectClient.apply(connector.name, connector.config);
        const compare = () =>
          readSourceAndMirror({
            client,
            warehouse,
            table: 'items',
            mirror: `raw.${name}_items`,
            key: keyColumns(shape),
          });
        const landUntilEqual = async () => {
          const deadline = Date.now() + 180_000;
          let compared: Awaited<ReturnType<typeof compare>>;
          do {
            await runKafkaWorker({
              brokers: [kafka.bootstrapServers],
              group: name,
              topics: new RegExp(`^${name}\\.public\\.items$`),
              warehouse,
              pii,
              untilIdleSeconds: 2,
            });
            compared = await compare();
          } while (
            Date.now() < deadline &&
            JSON.stringify(compared.mirror) !== JSON.stringify(compared.source)
          );
          return compared;
        };
        // The snapshot first, so that what follows is streamed.
        expect((await landUntilEqual()).source.length).toBeGreaterThan(0);
        await writer.apply(client, after);
        // Key changes for sure, each leaving the large values as they were.
        await writer.apply(
          client,
          [0, 1, 2, 3, 4].map((key) => [{ kind: 'rekey' as const, key, to: key + 5, n: key }]),
        );
        const compared = await landUntilEqual();
        expect(compared.mirror, describeShape(shape)).toEqual(compared.source);
        await expectNoDuplicateVersions(warehouse, `raw.${name}_items`, mirrorKey(shape));
        await connectClient.delete(connector.name);
      });
    }
  });

  it("keeps the changes of a transaction straddling the snapshot's consistent point", async () => {
    const url = await createTestDatabase('dbzstraddle');
    await withClient(url, async (client) => {
      await client.query(STRADDLE_TABLE_DDL);
      const connector = await prepareDebezium(url, 'dbzstraddle');
      const connectClient = new ConnectClient(connect.url);
      await straddleSlotCreation(url, connector.config['slot.name'] ?? '', async () => {
        await connectClient.apply(connector.name, connector.config);
      });
      // Written after the straddling transaction: once it is in the mirror, everything before is.
      await client.query("INSERT INTO items VALUES (5, 'last')");
      const mirrorOf = () =>
        readSourceAndMirror({
          client,
          warehouse,
          table: 'items',
          mirror: 'raw.dbzstraddle_items',
          key: ['id'],
        });
      const deadline = Date.now() + 120_000;
      while (Date.now() < deadline) {
        await runKafkaWorker({
          brokers: [kafka.bootstrapServers],
          group: 'debezium-straddle',
          topics: /^dbzstraddle\.public\.items$/,
          warehouse,
          pii,
          untilIdleSeconds: 2,
        });
        if ((await mirrorOf()).mirror.some((row) => row.includes('"last"'))) break;
      }
      const { source, mirror } = await mirrorOf();
      expect(mirror).toEqual(source);
      await connectClient.delete(connector.name);
    });
  });

  it('keeps the slot moving on an idle source (heartbeat)', async () => {
    const url = await createTestDatabase('beat');
    await withClient(url, async (client) => {
      await client.query('CREATE TABLE quiet (id int PRIMARY KEY)');
      const connector = postgresConnector({
        sourceUrl: url,
        sourceName: 'beat',
        dropFields: DEFAULT_DROP_FIELDS,
      });
      await preparePostgresSource({
        sourceUrl: url,
        publication: connector.config['publication.name'] ?? '',
      });
      const connectClient = new ConnectClient(connect.url);
      await connectClient.apply(connector.name, connector.config);
      const confirmed = async () => {
        const result = await client.query<{ lsn: string | null }>(
          "SELECT confirmed_flush_lsn::text AS lsn FROM pg_replication_slots WHERE slot_name = 'debezium_beat'",
        );
        return result.rows[0]?.lsn ? parseLsn(result.rows[0].lsn) : 0;
      };
      await expect.poll(confirmed, { timeout: 60_000, interval: 1000 }).toBeGreaterThan(0);
      const first = await confirmed();
      // Nobody writes to the captured table: only the heartbeat moves the slot.
      await expect.poll(confirmed, { timeout: 60_000, interval: 2000 }).toBeGreaterThan(first);
      await connectClient.delete(connector.name);
    });
  });

  it('recovers from a SIGKILLed Connect worker and a broker restart during a stream, losing nothing and publishing nothing twice', async () => {
    const url = await createTestDatabase('rst');
    await withClient(url, async (client) => {
      await client.query(
        'CREATE TABLE ticks (id int PRIMARY KEY, n int NOT NULL, at timestamptz NOT NULL DEFAULT now())',
      );
      const brokers = () => [kafka.bootstrapServers];
      const connector = await prepareDebezium(url, 'rst');
      await new ConnectClient(connect.url).apply(connector.name, connector.config);
      const running = async () => {
        const connectClient = new ConnectClient(connect.url);
        const state = await connectClient.status(connector.name).catch(() => undefined);
        // A task that failed while the broker was away is restarted, as an operator would.
        if (state?.tasks.some((task) => task.state === 'FAILED')) await connectClient.restart(connector.name);
        return state?.tasks[0]?.state;
      };
      await expect.poll(running, { timeout: 60_000, interval: 1000 }).toBe('RUNNING');

      let writing = true;
      const writer = withClient(url, async (source) => {
        for (let id = 1; writing; id++) {
          await source.query('INSERT INTO ticks (id, n) VALUES ($1, 0)', [id]);
          if (id % 3 === 0) await source.query('UPDATE ticks SET n = n + 1 WHERE id = $1', [id - 1]);
          if (id % 10 === 0) await source.query('DELETE FROM ticks WHERE id = $1', [id - 5]);
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
      });
      const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
      await pause(3000);
      // Killed, not stopped: what it sent after its last stored offsets must not come again.
      process.kill(connect.pid, 'SIGKILL');
      await connect.stop();
      await pause(3000);
      connect = await startKafkaConnect({
        bootstrapServers: kafka.bootstrapServers,
        dataDir: join(root, 'connect'),
        port: connect.port,
      });
      await expect.poll(running, { timeout: 120_000, interval: 1000 }).toBe('RUNNING');
      await pause(3000);
      const { port, controllerPort } = kafka;
      await kafka.stop();
      await pause(3000);
      kafka = await startKafka({ dataDir: join(root, 'kafka'), port, controllerPort });
      await pause(5000);
      await expect.poll(running, { timeout: 120_000, interval: 1000 }).toBe('RUNNING');
      writing = false;
      await writer;

      const deadline = Date.now() + 180_000;
      let compared: Awaited<ReturnType<typeof readSourceAndMirror>>;
      do {
        await runKafkaWorker({
          brokers: brokers(),
          group: 'restart-test',
          topics: /^rst\.public\.ticks$/,
          warehouse,
          pii,
          untilIdleSeconds: 2,
        });
        compared = await readSourceAndMirror({
          client,
          warehouse,
          table: 'ticks',
          mirror: 'raw.rst_ticks',
          key: ['id'],
        });
      } while (Date.now() < deadline && JSON.stringify(compared.mirror) !== JSON.stringify(compared.source));
      expect(compared.source.length).toBeGreaterThan(100);
      expect(compared.mirror).toEqual(compared.source);
      // Exactly once on the topic (Connect's exactly-once source support), not only after FINAL. A
      // resent event differs in its processing time (`ts_ms`): events are told apart by their key,
      // WAL position and operation.
      const events = (await readCommittedMessages(brokers(), 'rst.public.ticks')).flatMap((message) => {
        if (!message.value) return [];
        const { payload } = JSON.parse(message.value.toString()) as {
          payload: { op: string; source: { lsn: number } };
        };
        return [`${message.key?.toString()} ${payload.source.lsn} ${payload.op}`];
      });
      expect(events.length - new Set(events).size, 'events published twice').toBe(0);
      await expectNoDuplicateVersions(warehouse, 'raw.rst_ticks', ['id']);
    });
  });
});
