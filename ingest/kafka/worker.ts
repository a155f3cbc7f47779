// The Kafka ingest worker: one member of a consumer group. Each fetched batch of a partition lands
// in the raw mirrors exactly once: its offset range is recorded as a write intent, every insert
// carries a token derived from that range, and the offsets are committed only after the warehouse
// accepted. A restarted or newly assigned worker rebuilds the recorded range with the same tokens.
// A warehouse that fails or times out pauses the partition (with backoff) instead of failing the
// member, which would rebalance the whole group; nothing is fetched for it meanwhile, and on resume
// the unlanded batch is fetched again and lands under its recorded tokens.
import { Kafka, logLevel, type Admin, type EachBatchPayload, type KafkaMessage } from 'kafkajs';
import {
  migrate,
  readCheckpoint,
  recordDeadLetters,
  writeCheckpoint,
  type DeadLetter,
  type Warehouse,
} from '../../warehouse/index.ts';
import { rowImage, type ChangeEnvelope, type Row } from '../envelope.ts';
import { TributaryError } from '../../errors/index.ts';
import { CaptureError } from '../errors.ts';
import { MirrorWriter } from '../mirror-writer.ts';
import type { PiiPolicy } from '../pii.ts';
import { deleteImageFromKey, documentSourceTable } from '../mongo/document-rows.ts';
import { protectDocumentText } from '../mongo/protect-document.ts';
import { qualifiedName, type DocumentField, type SourceTable } from '../source-table.ts';
import { decodeChangeMessage, DEFAULT_MAX_EVENT_BYTES } from './decode-message.ts';
import { describeSourceTables } from '../postgres/describe-tables.ts';
import { publishTableSchemas, SchemaCatalog } from './schema-topic.ts';
import { keyChangeFromHeaders } from './key-change-headers.ts';
import { DEAD_LETTER_TOPIC } from './topics.ts';

export interface KafkaWorkerOptions {
  brokers: string[];
  group: string;
  topics: RegExp;
  warehouse: Warehouse;
  /** Applied to events Debezium produced (Tributary's own capture applied it at the source). */
  pii: PiiPolicy;
  /** Stop after this many seconds without a message. */
  untilIdleSeconds?: number;
  /** How often to look for new topics matching `topics` (kafkajs resolves the pattern once). Default 5 s. */
  topicRefreshMs?: number;
  /**
   * Source name → Postgres URL, for sources whose events carry no types (Debezium): when an event
   * shows a column the published shape lacks, the shape is read again from this catalog.
   */
  catalogs?: Record<string, string>;
  /**
   * The typed top-level fields a pack declares for a MongoDB collection, for collections whose
   * shape nobody published (Debezium's MongoDB connector publishes none).
   */
  documentFields?: (database: string, collection: string) => DocumentField[];
  maxEventBytes?: number;
  signal?: AbortSignal;
  events?: {
    /** A fetched batch arrived (before it is decoded and landed). */
    received?(stats: { topic: string; partition: number; messages: number }): void;
    log?(message: string): void;
    warn?(message: string): void;
    landed?(stats: { topic: string; partition: number; messages: number }): void;
    /** A partition was paused (the warehouse failed, or a key change waits for its other half); it resumes after `ms`. */
    paused?(stats: { topic: string; partition: number; ms: number; reason: string }): void;
  };
}

/** Backoff of a paused partition: doubling from half a second, at most half a minute. */
const PAUSE_FIRST_MS = 500;
const PAUSE_MAX_MS = 30_000;

export interface WorkerResult {
  messages: number;
  deadLetters: number;
}

interface Intent {
  first: number;
  last: number;
  /** The newest Postgres snapshot LSN seen in the partition before this batch, and after it. */
  snapshotLsnBefore?: number;
  snapshotLsnAfter?: number;
}

interface Decoded {
  envelopes: ChangeEnvelope[];
  deadLetters: DeadLetter[];
}

export async function runKafkaWorker(options: KafkaWorkerOptions): Promise<WorkerResult> {
  const pipeline = `kafka:${options.group}`;
  const result: WorkerResult = { messages: 0, deadLetters: 0 };
  await migrate(options.warehouse);
  const kafka = new Kafka({
    clientId: `tributary-${options.group}`,
    brokers: options.brokers,
    logLevel: logLevel.NOTHING,
  });
  const schemas = new SchemaCatalog(kafka, (key, reason) =>
    options.events?.warn?.(`schema of ${key} ignored: ${reason}`),
  );
  const writer = new MirrorWriter(options.warehouse);
  const registered = new Map<string, string>();
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  // A killed member holds its partitions until its session times out: keep that short.
  const consumer = kafka.consumer({
    groupId: options.group,
    sessionTimeout: 10_000,
    heartbeatInterval: 1_000,
    maxBytes: 64 * 1024 * 1024,
    // Larger fetches make larger batches: fewer intents, inserts and commits per message.
    maxBytesPerPartition: 8 * 1024 * 1024,
  });
  // The last recorded intent per partition; read from the warehouse once per assignment.
  const intents = new Map<string, Intent | undefined>();
  let lastMessageAt = Date.now();

  const ensureMirror = async (table: SourceTable): Promise<void> => {
    const spec = JSON.stringify(table);
    if (registered.get(qualifiedName(table)) === spec) return;
    await writer.register(table);
    registered.set(qualifiedName(table), spec);
  };

  const decode = async (topic: string, partition: number, messages: KafkaMessage[]): Promise<Decoded> => {
    const decoded: Decoded = { envelopes: [], deadLetters: [] };
    const letter = (message: KafkaMessage, error: string): DeadLetter => ({
      pipeline,
      source: topic.split('.')[0] ?? topic,
      topic,
      partition,
      offset: message.offset,
      key: message.key?.toString() ?? null,
      original: message.value?.toString('utf8') ?? '',
      error,
      stage: 'decode',
    });
    for (const message of messages) {
      const outcome = decodeChangeMessage(message.value, options.maxEventBytes ?? DEFAULT_MAX_EVENT_BYTES);
      if (outcome.kind === 'drop') continue;
      if (outcome.kind === 'dead-letter') {
        decoded.deadLetters.push(letter(message, outcome.reason));
        continue;
      }
      let { envelope } = outcome;
      const keyChange = keyChangeFromHeaders(message.headers, envelope);
      if (keyChange) envelope = { ...envelope, keyChange };
      if (envelope.source.connector === 'mongodb' && envelope.op === 'd' && !envelope.before) {
        const before = deleteImageFromKey(message.key?.toString());
        if (!before) {
          decoded.deadLetters.push(
            letter(message, 'a MongoDB delete whose message key holds no document id'),
          );
          continue;
        }
        envelope = { ...envelope, before };
      }
      const table = await resolveTable(envelope);
      if (!table) {
        decoded.deadLetters.push(
          letter(
            message,
            `no table shape is published on tributary.schemas for ${envelope.source.name}.${envelope.source.schema}.${envelope.source.table}`,
          ),
        );
        continue;
      }
      await ensureMirror(table);
      decoded.envelopes.push(
        envelope.source.version === 'tributary' ? envelope : protect(envelope, options.pii),
      );
    }
    return decoded;
  };

  /** The table's shape; when the event shows columns the shape lacks, read the schema topic up to now first. */
  const resolveTable = async (envelope: ChangeEnvelope): Promise<SourceTable | undefined> => {
    if (envelope.source.connector === 'mongodb') return resolveCollection(envelope);
    const { name, schema = 'public', table: tableName } = envelope.source;
    if (!tableName) return undefined;
    let table = schemas.get(name, schema, tableName);
    const image = rowImage(envelope.after ?? envelope.before) ?? {};
    const fits = (candidate: SourceTable | undefined) =>
      candidate !== undefined &&
      Object.keys(image).every((field) => candidate.columns.some((column) => column.name === field));
    if (!fits(table)) {
      await schemas.catchUp();
      table = schemas.get(name, schema, tableName);
    }
    const catalog = options.catalogs?.[name];
    if (!fits(table) && catalog) {
      // A column added at the source: read the table's shape there and share it with the group.
      const [described] = await describeSourceTables({
        sourceUrl: catalog,
        sourceName: name,
        tables: { kind: 'list', tables: [`${schema}.${tableName}`] },
        pii: options.pii,
      });
      if (described) {
        await publishTableSchemas(producer, [described]);
        await schemas.catchUp();
        table = schemas.get(name, schema, tableName);
      }
    }
    return table;
  };

  /** A collection's mirror shape: as its native capture published it, else from the pack's declaration. */
  // Collections nobody published a shape for (Debezium's): read the schema topic once for each,
  // not once per event.
  const declaredCollections = new Map<string, SourceTable>();
  const resolveCollection = async (envelope: ChangeEnvelope): Promise<SourceTable | undefined> => {
    const { name, db, collection } = envelope.source;
    if (!collection) return undefined;
    const published = schemas.get(name, db, collection);
    if (published) return published;
    const key = `${name}.${db}.${collection}`;
    let declared = declaredCollections.get(key);
    if (!declared) {
      await schemas.catchUp();
      const caughtUp = schemas.get(name, db, collection);
      if (caughtUp) return caughtUp;
      declared = documentSourceTable(name, db, collection, options.documentFields?.(db, collection) ?? []);
      declaredCollections.set(key, declared);
    }
    return declared;
  };

  const land = async (
    topic: string,
    partition: number,
    messages: KafkaMessage[],
    { envelopes, deadLetters }: Decoded,
    intent: Intent,
    payload: EachBatchPayload,
  ): Promise<void> => {
    const tokenBase = `${pipeline}:${topic}:${partition}:${intent.first}-${intent.last}`;
    const { rejected } = await writer.write(envelopes, tokenBase);
    for (const { envelope, reason } of rejected) {
      deadLetters.push({
        pipeline,
        source: envelope.source.name,
        topic,
        partition,
        offset: -1,
        original: JSON.stringify(envelope),
        error: reason,
        stage: 'mirror',
      });
    }
    if (deadLetters.length > 0) {
      await producer.send({
        topic: DEAD_LETTER_TOPIC,
        messages: deadLetters.map((letter) => ({
          key: `${topic}:${partition}:${letter.offset}`,
          value: JSON.stringify(letter),
        })),
      });
      await recordDeadLetters(options.warehouse, deadLetters);
      result.deadLetters += deadLetters.length;
      options.events?.warn?.(
        `${deadLetters.length} event(s) from ${topic}[${partition}] sent to dead letters: ${deadLetters[0]?.error ?? ''}`,
      );
    }
    await payload.heartbeat();
    // Only now may the group move on: everything up to `last` is in the warehouse.
    await consumer.commitOffsets([{ topic, partition, offset: String(intent.last + 1) }]);
    payload.resolveOffset(String(intent.last));
    result.messages += messages.length;
    options.events?.landed?.({ topic, partition, messages: messages.length });
  };

  // Consecutive warehouse failures per partition, for the pause backoff; pending resumes.
  const failures = new Map<string, number>();
  const resumes = new Set<NodeJS.Timeout>();
  const handleBatch = async (payload: EachBatchPayload): Promise<void> => {
    const { topic, partition } = payload.batch;
    const stream = `${topic}:${partition}`;
    try {
      await landBatch(payload);
      failures.delete(stream);
    } catch (error) {
      // A failing warehouse, or a key change waiting for its other half on another partition.
      if (!(error instanceof TributaryError) || !error.retriable) throw error;
      const attempt = (failures.get(stream) ?? 0) + 1;
      failures.set(stream, attempt);
      const ms = Math.min(PAUSE_MAX_MS, PAUSE_FIRST_MS * 2 ** (attempt - 1));
      consumer.pause([{ topic, partitions: [partition] }]);
      const resume = setTimeout(() => {
        resumes.delete(resume);
        consumer.resume([{ topic, partitions: [partition] }]);
      }, ms);
      resumes.add(resume);
      options.events?.paused?.({ topic, partition, ms, reason: error.message });
      options.events?.warn?.(`${stream}: ${error.message}; paused for ${ms} ms`);
      // Returning without resolving the batch's offsets: it is fetched again once resumed.
    }
  };

  const landBatch = async (payload: EachBatchPayload): Promise<void> => {
    const { batch } = payload;
    const messages = batch.messages;
    if (messages.length === 0 || payload.isStale()) return;
    lastMessageAt = Date.now();
    options.events?.received?.({ topic: batch.topic, partition: batch.partition, messages: messages.length });
    const stream = `${batch.topic}:${batch.partition}`;
    if (!intents.has(stream))
      intents.set(stream, await readCheckpoint<Intent>(options.warehouse, pipeline, stream));
    const recorded = intents.get(stream);
    const firstOffset = Number(messages[0]?.offset);
    if (recorded && firstOffset <= recorded.last) {
      // The recorded batch may have landed in part: rebuild exactly its range so the tokens match.
      const range = messages.filter(
        (message) => Number(message.offset) >= recorded.first && Number(message.offset) <= recorded.last,
      );
      if (Number(messages.at(-1)?.offset) < recorded.last) {
        throw new CaptureError(
          `${stream}: the refetched batch ends before the recorded offset ${recorded.last}; retrying`,
          { retriable: true },
        );
      }
      const decoded = await decode(batch.topic, batch.partition, range);
      liftStraddlers(decoded.envelopes, recorded.snapshotLsnBefore);
      await land(batch.topic, batch.partition, range, decoded, recorded, payload);
      const rest = messages.filter((message) => Number(message.offset) > recorded.last);
      if (rest.length > 0) await landFresh(batch.topic, batch.partition, stream, rest, payload);
      return;
    }
    await landFresh(batch.topic, batch.partition, stream, messages, payload);
  };

  const landFresh = async (
    topic: string,
    partition: number,
    stream: string,
    messages: KafkaMessage[],
    payload: EachBatchPayload,
  ): Promise<void> => {
    const decoded = await decode(topic, partition, messages);
    const snapshotLsnBefore = intents.get(stream)?.snapshotLsnAfter;
    const intent: Intent = {
      first: Number(messages[0]?.offset),
      last: Number(messages.at(-1)?.offset),
      snapshotLsnBefore,
      snapshotLsnAfter: liftStraddlers(decoded.envelopes, snapshotLsnBefore),
    };
    await writeCheckpoint(options.warehouse, pipeline, stream, intent);
    intents.set(stream, intent);
    await land(topic, partition, messages, decoded, intent, payload);
  };

  await schemas.start();
  // Tables with no change yet still get their (empty) mirror, as the native capture gives them.
  for (const [topic, table] of schemas.all()) if (options.topics.test(topic)) await ensureMirror(table);
  await producer.connect();
  await consumer.connect();
  const admin = kafka.admin();
  await admin.connect();
  try {
    let subscribed = new Set(await matchingTopics(admin, options.topics));
    await consumer.subscribe({ topics: [options.topics], fromBeginning: true });
    let ending = false;
    let stop!: () => void;
    const stopped = new Promise<void>((resolve) => (stop = resolve)).then(() => (ending = true));
    options.signal?.addEventListener('abort', () => stop());
    let checking = false;
    const idleTimer = options.untilIdleSeconds
      ? setInterval(() => {
          if (checking || Date.now() - lastMessageAt < (options.untilIdleSeconds ?? 0) * 1000) return;
          // Idle is not enough (a rebalance can take a while): the group must have committed everything.
          checking = true;
          groupCaughtUp(admin, options.group, options.topics)
            .then((caughtUp) => caughtUp && stop())
            .catch(() => undefined)
            .finally(() => (checking = false));
        }, 500)
      : undefined;
    let failure: Error | undefined;
    // Another member may have recorded newer intents for partitions this one gets back.
    consumer.on(consumer.events.GROUP_JOIN, () => intents.clear());
    consumer.on(consumer.events.CRASH, (event) => {
      if (!event.payload.restart) {
        failure = event.payload.error;
        stop();
      }
    });
    const run = () =>
      consumer.run({ autoCommit: false, eachBatchAutoResolve: false, eachBatch: handleBatch });
    await run();
    // A topic made after the subscription (a table captured later, a connector still starting) is
    // only consumed once the consumer subscribes again; the write intents make the restart safe.
    let refreshing: Promise<void> | undefined;
    const refreshTimer = setInterval(() => {
      if (refreshing || ending) return;
      refreshing = matchingTopics(admin, options.topics)
        .then(async (topics) => {
          if (ending || topics.every((topic) => subscribed.has(topic))) return;
          options.events?.log?.(`new topics: ${topics.filter((topic) => !subscribed.has(topic)).join(', ')}`);
          subscribed = new Set(topics);
          await consumer.stop();
          await consumer.subscribe({ topics: [options.topics], fromBeginning: true });
          await run();
        })
        .catch((error: Error) => {
          failure ??= error;
          stop();
        })
        .finally(() => (refreshing = undefined));
    }, options.topicRefreshMs ?? 5000);
    await stopped;
    clearInterval(refreshTimer);
    // A resubscription under way finishes before the consumer is disconnected below.
    await refreshing;
    if (idleTimer) clearInterval(idleTimer);
    if (failure) throw failure;
    return result;
  } finally {
    for (const resume of resumes) clearTimeout(resume);
    // disconnect() lets the batch in progress finish, so nothing is left half-committed.
    await consumer.disconnect();
    await admin.disconnect();
    await producer.disconnect();
    await schemas.stop();
  }
}

/**
 * Debezium versions its snapshot rows at one WAL position, but what it streams after them includes
 * transactions open while the snapshot was taken: their changes carry that position or older ones,
 * and would lose to (or tie with) the snapshot rows. They are lifted to one past the snapshot's
 * position, which no record starts at: above its rows, below every change made after it. Lifted
 * changes of one row tie, and the mirror keeps the last inserted, which is the stream's order.
 * A partition carries one table's keys in order, so the newest snapshot seen in it is the one these
 * changes follow. Rewrites `envelopes` in place; returns the newest snapshot position after them.
 */
function liftStraddlers(envelopes: ChangeEnvelope[], snapshotLsn: number | undefined): number | undefined {
  let newest = snapshotLsn;
  for (const [index, envelope] of envelopes.entries()) {
    const { lsn } = envelope.source;
    if (envelope.source.connector !== 'postgresql' || typeof lsn !== 'number') continue;
    if (envelope.op === 'r') newest = Math.max(newest ?? 0, lsn);
    else if (newest !== undefined && lsn <= newest)
      envelopes[index] = { ...envelope, source: { ...envelope.source, lsn: newest + 1 } };
  }
  return newest;
}

/** Debezium's events carry source values as they are: apply the same secret and PII rules. */
function protect(envelope: ChangeEnvelope, pii: PiiPolicy): ChangeEnvelope {
  const clean = (row: Row | string | null | undefined): Row | string | null | undefined => {
    if (!row) return row;
    if (typeof row === 'string') return protectDocumentText(row, pii);
    const result: Row = {};
    for (const [field, value] of Object.entries(row)) {
      const treatment = pii.treatmentOf(field);
      if (treatment === 'keep') result[field] = value;
      else if (treatment === 'hash') result[field] = pii.hash(value);
    }
    return result;
  };
  return { ...envelope, before: clean(envelope.before), after: clean(envelope.after) };
}

/** The topics a worker subscribed with `topics` consumes: not Tributary's own, not Kafka's internal ones. */
async function matchingTopics(admin: Admin, topics: RegExp): Promise<string[]> {
  return (await admin.listTopics())
    .filter((topic) => topics.test(topic) && !topic.startsWith('tributary.') && !topic.startsWith('__'))
    .sort();
}

/** Whether the group's committed offsets reached the end of every partition of the matching topics. */
async function groupCaughtUp(admin: Admin, group: string, topics: RegExp): Promise<boolean> {
  const names = await matchingTopics(admin, topics);
  const committed = await admin.fetchOffsets({ groupId: group, topics: names });
  for (const name of names) {
    const ends = await admin.fetchTopicOffsets(name);
    const done = committed.find((entry) => entry.topic === name)?.partitions ?? [];
    for (const end of ends) {
      const offset = Number(done.find((partition) => partition.partition === end.partition)?.offset ?? -1);
      if (Number(end.high) > Math.max(offset, Number(end.low))) return false;
    }
  }
  return true;
}
