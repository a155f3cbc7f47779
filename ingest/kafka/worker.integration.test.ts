// The Kafka ingest worker against a real broker (Apache Kafka from Maven Central, KRaft) and the
// embedded ClickHouse engine: Debezium-format events land in the mirrors; malformed, mistyped and
// oversized events land in tributary.dead_letters (and tributary.dlq) with their reason, and the rest flows on.
import { join } from 'node:path';
import { Kafka, logLevel, type Producer } from 'kafkajs';
import { idempotentProducer } from './producer.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startKafka, type RunningKafka } from '../../stack/index.ts';
import { listDeadLetters, openWarehouse, WarehouseError, type Warehouse } from '../../warehouse/index.ts';
import { createPiiPolicy, DEFAULT_DROP_FIELDS, DEFAULT_HASH_FIELDS } from '../pii.ts';
import type { SourceTable } from '../source-table.ts';
import { publishTableSchemas } from './schema-topic.ts';
import { DEAD_LETTER_TOPIC } from './topics.ts';
import { replayDeadLetters } from './dead-letter-replay.ts';
import { runKafkaWorker, type KafkaWorkerOptions } from './worker.ts';
import { scratchDir } from '../../test/scratch.ts';
import { expectNoDuplicateVersions } from '../../test/mirror-equality.ts';

const users: SourceTable = {
  source: 'app',
  schema: 'public',
  table: 'users',
  key: ['id'],
  columns: [
    { name: 'id', clickhouseType: 'Int32', encoding: 'plain', isArray: false, sourceType: 'int4' },
    { name: 'name', clickhouseType: 'String', encoding: 'plain', isArray: false, sourceType: 'text' },
    { name: 'email', clickhouseType: 'String', encoding: 'plain', isArray: false, sourceType: 'text' },
    {
      name: 'joined_at',
      clickhouseType: "DateTime64(6, 'UTC')",
      encoding: 'timestamp-micros',
      isArray: false,
      sourceType: 'timestamp',
    },
    { name: 'tags', clickhouseType: 'String', encoding: 'plain', isArray: true, sourceType: '_text' },
  ],
};

const pii = createPiiPolicy({
  dropFields: DEFAULT_DROP_FIELDS,
  hashFields: DEFAULT_HASH_FIELDS,
  hashPii: true,
  hashKey: 'worker-test-key-0123456789',
});

/** A Debezium Postgres envelope as the connector writes it with JSON converters, schemas disabled. */
function debezium(op: 'c' | 'u' | 'd' | 'r', lsn: number, row: Record<string, unknown>) {
  return {
    before: op === 'd' ? { id: row.id } : null,
    after: op === 'd' ? null : row,
    source: {
      version: '3.6.1.Final',
      connector: 'postgresql',
      name: 'app',
      ts_ms: 1,
      snapshot: 'false',
      db: 'app',
      sequence: '[null,"1"]',
      schema: 'public',
      table: 'users',
      txId: 7,
      lsn,
      xmin: null,
    },
    op,
    ts_ms: 2,
    transaction: null,
  };
}

let kafka: RunningKafka;
let client: Kafka;
let producer: Producer;
let warehouse: Warehouse;

beforeAll(async () => {
  const root = await scratchDir('worker');
  kafka = await startKafka({ dataDir: join(root, 'kafka') });
  client = new Kafka({ clientId: 'test', brokers: [kafka.bootstrapServers], logLevel: logLevel.NOTHING });
  producer = idempotentProducer(client);
  await producer.connect();
  warehouse = await openWarehouse({ kind: 'chdb', path: join(root, 'warehouse') });
});

afterAll(async () => {
  await producer?.disconnect();
  await warehouse?.close();
  await kafka?.stop();
});

describe('Kafka ingest worker', () => {
  it('consumes a topic created after it started, and stops once that topic is landed too', async () => {
    await publishTableSchemas(producer, [{ ...users, source: 'late' }]);
    const logs: string[] = [];
    const worker = runKafkaWorker({
      brokers: [kafka.bootstrapServers],
      group: 'late-topics',
      topics: /^late\.public\.users$/,
      warehouse,
      pii,
      untilIdleSeconds: 3,
      topicRefreshMs: 300,
      events: { log: (message) => logs.push(message) },
    });
    // The worker subscribes to no topic at all: the table's topic appears once it consumes.
    await expect.poll(() => logs.some((line) => line.includes('none yet')), { timeout: 60_000 }).toBe(true);
    const admin = client.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'late.public.users', numPartitions: 2 }] });
    await admin.disconnect();
    const event = (id: number, lsn: number) => {
      const envelope = debezium('c', lsn, { id, name: `late ${id}`, email: null, joined_at: null, tags: [] });
      return { ...envelope, source: { ...envelope.source, name: 'late' } };
    };
    await producer.send({
      topic: 'late.public.users',
      messages: [1, 2, 3].map((id) => ({
        key: JSON.stringify({ id }),
        value: JSON.stringify(event(id, id * 100)),
      })),
    });
    const result = await worker;
    expect(logs).toContain('new topics: late.public.users');
    expect(result.messages).toBe(3);
    expect(await warehouse.query('SELECT id, name FROM raw.late_users FINAL ORDER BY id')).toEqual([
      { id: 1, name: 'late 1' },
      { id: 2, name: 'late 2' },
      { id: 3, name: 'late 3' },
    ]);
  });

  it('lands Debezium events and sets aside malformed, mistyped and oversized ones with their reason', async () => {
    const admin = client.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'app.public.users', numPartitions: 3 }] });
    await admin.disconnect();
    await publishTableSchemas(producer, [users]);
    const send = (key: number | string, value: unknown) =>
      producer.send({
        topic: 'app.public.users',
        messages: [
          {
            key: JSON.stringify({ id: key }),
            value: value === null ? null : typeof value === 'string' ? value : JSON.stringify(value),
          },
        ],
      });
    await send(
      1,
      debezium('r', 100, {
        id: 1,
        name: 'Lan',
        email: 'lan@example.vn',
        joined_at: 1_704_164_645_000_000,
        tags: ['a', null],
      }),
    );
    await send(
      2,
      debezium('c', 200, { id: 2, name: 'Minh', email: 'Minh@Example.vn', joined_at: null, tags: null }),
    );
    await send(3, '{"op": "c", "after": {"id": 3');
    await send(
      4,
      debezium('c', 300, { id: 'four', name: 'wrong type', email: null, joined_at: null, tags: [] }),
    );
    await send(
      5,
      debezium('c', 400, {
        id: 5,
        name: 'x'.repeat(5 * 1024 * 1024),
        email: null,
        joined_at: null,
        tags: [],
      }),
    );
    await send(
      1,
      debezium('u', 500, {
        id: 1,
        name: 'Lan Nguyễn',
        email: 'lan@example.vn',
        joined_at: 1_704_164_645_000_000,
        tags: ['a'],
      }),
    );
    await send(2, debezium('d', 600, { id: 2 }));
    await send(2, null);
    await send(
      6,
      debezium('c', 700, {
        id: 6,
        name: 'after the bad ones',
        email: null,
        joined_at: 1_704_164_645_123_456,
        tags: [],
      }),
    );

    const result = await runKafkaWorker({
      brokers: [kafka.bootstrapServers],
      group: 'g1',
      topics: /^app\./,
      warehouse,
      pii,
      untilIdleSeconds: 3,
    });
    expect(result.deadLetters).toBe(3);

    const rows = await warehouse.query(
      'SELECT id, name, email, toString(joined_at) AS joined_at, tags FROM raw.app_users FINAL WHERE _is_deleted = 0 ORDER BY id',
    );
    expect(rows).toEqual([
      {
        id: 1,
        name: 'Lan Nguyễn',
        email: pii.hash('lan@example.vn'),
        joined_at: '2024-01-02 03:04:05.000000',
        tags: ['a'],
      },
      { id: 6, name: 'after the bad ones', email: null, joined_at: '2024-01-02 03:04:05.123456', tags: [] },
    ]);
    const letters = await warehouse.query<{ offset: string; error: string; stage: string; original: string }>(
      "SELECT offset, error, stage, original FROM tributary.dead_letters WHERE pipeline = 'kafka:g1' ORDER BY error",
    );
    expect(letters.map((letter) => letter.error)).toEqual([
      expect.stringMatching(/^event of \d+ bytes exceeds the 4194304-byte limit/),
      expect.stringMatching(/^not JSON: /),
      expect.stringMatching(/^the warehouse refused the row: .*Code: 27/),
    ]);
    // The warehouse keeps what it can read as it would have landed, never bytes it could not read
    // (they may hold personal data): those are on the dead-letter topic only.
    expect(letters.map((letter) => letter.original === '')).toEqual([true, true, false]);
    expect(JSON.parse(letters[2]?.original ?? '{}').after.id).toBe('four');

    // The dead-letter topic keeps each message exactly as it came, with where and why in headers.
    const dlq = client.consumer({ groupId: 'dlq-reader' });
    await dlq.connect();
    await dlq.subscribe({ topic: DEAD_LETTER_TOPIC, fromBeginning: true });
    const received: { reason: string; key: string; bytes: number; offset: string }[] = [];
    await dlq.run({
      eachMessage: async ({ message }) =>
        void received.push({
          reason: message.headers?.['tributary.dlq.reason']?.toString() ?? '',
          key: message.key?.toString() ?? '',
          bytes: message.value?.length ?? 0,
          offset: message.headers?.['tributary.dlq.offset']?.toString() ?? '',
        }),
    });
    await expect.poll(() => received.length, { timeout: 15_000 }).toBe(3);
    await dlq.disconnect();
    const oversized = received.find((letter) => letter.reason.startsWith('event of'));
    expect(oversized?.bytes).toBeGreaterThan(5 * 1024 * 1024);
    expect(oversized?.key).toBe(JSON.stringify({ id: 5 }));
    expect(received.find((letter) => letter.reason.startsWith('not JSON'))?.key).toBe(
      JSON.stringify({ id: 3 }),
    );
  });

  it('replays dead letters after a fix: the oversized event lands, the broken ones come back', async () => {
    const waiting = await listDeadLetters(warehouse, { pipeline: 'kafka:g1' });
    expect(waiting).toHaveLength(3);
    expect(await replayDeadLetters(warehouse, [kafka.bootstrapServers], { pipeline: 'kafka:g1' })).toEqual({
      replayed: 3,
      skipped: 0,
      missing: 0,
    });
    expect(await listDeadLetters(warehouse, { pipeline: 'kafka:g1' })).toEqual([]);
    // The fix: this worker accepts events up to 8 MB.
    const result = await runKafkaWorker({
      brokers: [kafka.bootstrapServers],
      group: 'g1',
      topics: /^app\./,
      warehouse,
      pii,
      untilIdleSeconds: 3,
      maxEventBytes: 8 * 1024 * 1024,
    });
    expect(result.deadLetters).toBe(2);
    const [landed] = await warehouse.query<{ size: string }>(
      'SELECT length(name) AS size FROM raw.app_users FINAL WHERE id = 5 AND _is_deleted = 0',
    );
    expect(Number(landed?.size)).toBe(5 * 1024 * 1024);
    const again = await listDeadLetters(warehouse, { pipeline: 'kafka:g1' });
    expect(again.map((letter) => letter.error).sort()).toEqual([
      expect.stringMatching(/^not JSON/),
      expect.stringMatching(/^the warehouse refused the row/),
    ]);
  });

  it('lands a replayed dead letter exactly as it would have landed had it never failed', async () => {
    const admin = client.admin();
    await admin.connect();
    await admin.createTopics({
      topics: [
        { topic: 'unready.public.users', numPartitions: 2 },
        { topic: 'ready.public.users', numPartitions: 2 },
      ],
    });
    await admin.disconnect();
    const event = (source: string, id: number) => {
      const envelope = debezium('c', 9000 + id, {
        id,
        name: `person ${id}`,
        email: `Person${id}@Example.vn`,
        joined_at: 1_704_164_645_000_001,
        tags: ['x', null],
      });
      return {
        key: JSON.stringify({ id }),
        value: JSON.stringify({ ...envelope, source: { ...envelope.source, name: source } }),
      };
    };
    // The same events on two topics: one whose table shape is known, one whose shape is not yet.
    await publishTableSchemas(producer, [{ ...users, source: 'ready' }]);
    await producer.send({ topic: 'ready.public.users', messages: [1, 2, 3].map((id) => event('ready', id)) });
    await producer.send({
      topic: 'unready.public.users',
      messages: [1, 2, 3].map((id) => event('unready', id)),
    });
    const work = (topics: RegExp) =>
      runKafkaWorker({
        brokers: [kafka.bootstrapServers],
        group: 'replay-exact',
        topics,
        warehouse,
        pii,
        untilIdleSeconds: 3,
      });
    expect((await work(/^(ready|unready)\.public\.users$/)).deadLetters).toBe(3);
    // The fix: the shape is published; the dead letters go back and land.
    await publishTableSchemas(producer, [{ ...users, source: 'unready' }]);
    expect(
      await replayDeadLetters(warehouse, [kafka.bootstrapServers], { pipeline: 'kafka:replay-exact' }),
    ).toEqual({
      replayed: 3,
      skipped: 0,
      missing: 0,
    });
    expect((await work(/^unready\.public\.users$/)).deadLetters).toBe(0);
    const rows = (mirror: string) =>
      warehouse.query(`SELECT * EXCEPT _ingested_at FROM ${mirror} ORDER BY id, _version`);
    const replayed = await rows('raw.unready_users');
    expect(replayed).toHaveLength(3);
    expect(replayed).toEqual(await rows('raw.ready_users'));
    // Hashed once, as if it had never failed: not the hash of a hash.
    expect((replayed[0] as { email: string }).email).toBe(pii.hash('person1@example.vn'));
  });

  it('pauses a partition while the warehouse fails, resumes it, and lands everything once', async () => {
    const admin = client.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'flaky.public.users', numPartitions: 2 }] });
    await admin.disconnect();
    await publishTableSchemas(producer, [{ ...users, source: 'flaky' }]);
    const events = Array.from({ length: 200 }, (_, index) => ({
      key: JSON.stringify({ id: index }),
      value: JSON.stringify({
        ...debezium('c', 1000 + index, {
          id: index,
          name: `user ${index}`,
          email: null,
          joined_at: null,
          tags: [],
        }),
        source: { ...debezium('c', 1000 + index, {}).source, name: 'flaky', lsn: 1000 + index },
      }),
    }));
    await producer.send({ topic: 'flaky.public.users', messages: events });
    // The real warehouse behind a connection that refuses its first four mirror inserts, as an
    // unreachable ClickHouse server does (a retriable failure).
    let refusals = 4;
    const flaky: Warehouse = {
      target: warehouse.target,
      command: (sql, params) => warehouse.command(sql, params),
      query: (sql, params) => warehouse.query(sql, params),
      queryStream: (sql, params, settings) => warehouse.queryStream(sql, params, settings),
      insert: (table, rows, options) => warehouse.insert(table, rows, options),
      queryBytes: (sql, format, params) => warehouse.queryBytes(sql, format, params),
      exportToFile: (sql, format, path, params, settings) =>
        warehouse.exportToFile(sql, format, path, params, settings),
      close: async () => undefined,
      insertLines: async (table, batch, options) => {
        if (table.startsWith('raw.') && refusals > 0) {
          refusals -= 1;
          throw new WarehouseError('connect ECONNREFUSED 127.0.0.1:8123', { retriable: true });
        }
        await warehouse.insertLines(table, batch, options);
      },
    };
    const pauses: number[] = [];
    const result = await runKafkaWorker({
      brokers: [kafka.bootstrapServers],
      group: 'flaky',
      topics: /^flaky\./,
      warehouse: flaky,
      pii,
      untilIdleSeconds: 3,
      events: { retrying: ({ ms }) => void pauses.push(ms) },
    });
    expect(refusals).toBe(0);
    // Each refusal held its partition's batch back, with a growing backoff when one batch failed twice running.
    expect(pauses).toHaveLength(4);
    expect(Math.min(...pauses)).toBe(500);
    expect(Math.max(...pauses)).toBeGreaterThanOrEqual(1000);
    expect(result.deadLetters).toBe(0);
    const [counts] = await warehouse.query<{ rows: string; ids: string }>(
      'SELECT count() AS rows, uniqExact(id) AS ids FROM raw.flaky_users',
    );
    expect(counts).toEqual({ rows: '200', ids: '200' });
  });
});

// Back-pressure: a partition whose runner's queue is full is paused, and must neither stay paused
// for ever once a rebalance took its runner away, nor hold up a stop. A slowed warehouse keeps the
// queues full; a second member joining and leaving the group forces the rebalances.
const BACKPRESSURE_PARTITIONS = 3;
const MESSAGES = 1500;

const items = (source: string): SourceTable => ({
  source,
  schema: 'public',
  table: 'items',
  key: ['id'],
  columns: [
    { name: 'id', clickhouseType: 'Int32', encoding: 'plain', isArray: false, sourceType: 'int4' },
    { name: 'note', clickhouseType: 'String', encoding: 'plain', isArray: false, sourceType: 'text' },
  ],
});

/** MESSAGES inserts of distinct ids on `<source>.public.items`, spread over the partitions by key. */
async function produce(source: string): Promise<void> {
  const admin = client.admin();
  await admin.connect();
  await admin.createTopics({
    topics: [{ topic: `${source}.public.items`, numPartitions: BACKPRESSURE_PARTITIONS }],
  });
  await admin.disconnect();
  await publishTableSchemas(producer, [items(source)]);
  const messages = Array.from({ length: MESSAGES }, (_, index) => ({
    key: JSON.stringify({ id: index }),
    value: JSON.stringify({
      before: null,
      after: { id: index, note: `note ${index}`.padEnd(200, '.') },
      source: {
        version: 'tributary',
        connector: 'postgresql',
        name: source,
        db: 'app',
        schema: 'public',
        table: 'items',
        lsn: 1000 + index,
        ts_ms: 1,
      },
      op: 'c',
      ts_ms: 1,
    }),
  }));
  await producer.send({ topic: `${source}.public.items`, messages });
}

/** The warehouse with every mirror insert slowed down, so the runners' queues stay full. */
function slowed(warehouse: Warehouse, ms: number): Warehouse {
  return Object.assign(Object.create(warehouse) as Warehouse, {
    insertLines: async (...args: Parameters<Warehouse['insertLines']>) => {
      if (args[0].startsWith('raw.')) await new Promise((resolve) => setTimeout(resolve, ms));
      return warehouse.insertLines(...args);
    },
  });
}

/** Small batches and queues: a few messages fill a partition's queue. */
const slowWorker = (source: string, warehouse: Warehouse, extra: Partial<KafkaWorkerOptions>) =>
  runKafkaWorker({
    brokers: [kafka.bootstrapServers],
    group: source,
    topics: new RegExp(`^${source}\\.`),
    warehouse,
    pii,
    batchRows: 20,
    batchBytes: 8 * 1024,
    batchDelayMs: 20,
    ...extra,
  });

async function expectAllLanded(source: string): Promise<void> {
  await expectNoDuplicateVersions(warehouse, `raw.${source}_items`, ['id']);
  const [counts] = await warehouse.query<{ ids: string }>(
    `SELECT uniqExact(id) AS ids FROM raw.${source}_items`,
  );
  expect(counts).toEqual({ ids: String(MESSAGES) });
}

describe('Kafka worker back-pressure', () => {
  it('resumes a partition paused for a full queue after a rebalance took its runner away', async () => {
    await produce('rebalanced');
    let received = 0;
    const running = slowWorker('rebalanced', slowed(warehouse, 400), {
      untilIdleSeconds: 3,
      events: { received: ({ messages }) => void (received += messages) },
    });
    await expect.poll(() => received, { timeout: 60_000 }).toBeGreaterThan(0);
    // Another member joins (the worker's partitions are taken away, some of them paused), then
    // leaves (they come back).
    const other = client.consumer({ groupId: 'rebalanced', sessionTimeout: 10_000, heartbeatInterval: 500 });
    await other.connect();
    await other.subscribe({ topics: [/^rebalanced\./], fromBeginning: true });
    let joined!: () => void;
    const assigned = new Promise<void>((resolve) => (joined = resolve));
    other.on(other.events.GROUP_JOIN, () => joined());
    await other.run({ autoCommit: false, eachBatchAutoResolve: false, eachBatch: async () => undefined });
    await assigned;
    await other.disconnect();
    const result = await Promise.race([
      running,
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error('the worker stalled')), 90_000)),
    ]);
    expect(result.deadLetters).toBe(0);
    await expectAllLanded('rebalanced');
  });

  it('stops promptly while its queues are full, landing what it read; a restart lands the rest once', async () => {
    await produce('stopped');
    const stop = new AbortController();
    let landed = 0;
    const running = slowWorker('stopped', slowed(warehouse, 100), {
      signal: stop.signal,
      events: { landed: ({ changes }) => void (landed += changes) },
    });
    await expect.poll(() => landed, { timeout: 60_000 }).toBeGreaterThan(0);
    const stoppedAt = Date.now();
    stop.abort();
    await running;
    // Well inside `tributary run`'s default shutdownSeconds (30).
    expect(Date.now() - stoppedAt).toBeLessThan(15_000);
    const [partial] = await warehouse.query<{ ids: string }>(
      'SELECT uniqExact(id) AS ids FROM raw.stopped_items',
    );
    expect(Number(partial?.ids)).toBeLessThan(MESSAGES);
    await slowWorker('stopped', warehouse, { untilIdleSeconds: 3 });
    await expectAllLanded('stopped');
  });
});
