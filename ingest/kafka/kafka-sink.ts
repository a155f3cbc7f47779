// Native capture onto Kafka: the same Debezium envelopes, keyed by primary key, on the topics
// Debezium would use (`<source>.<schema>.<table>`), so either capture feeds the same workers. A key
// change's halves carry Debezium's headers, and every message says the capture's PII policy was
// applied, so the workers do not apply it again.
//
// Exactly once on the topics: each batch is one Kafka transaction that also marks the batch as
// landed on the state topic (as Kafka Connect's exactly-once sources commit their offsets). A batch
// rebuilt after a crash finds its mark and is not published again; one cut short by a crash is
// aborted, and read_committed consumers (the workers) never see it. The transactional id is the
// pipeline's, so a restarted capture fences its predecessor and aborts what that left open.
import {
  Kafka,
  logLevel,
  type Admin,
  type IHeaders,
  type Message,
  type Producer,
  type TopicMessages,
} from 'kafkajs';
import type { z } from 'zod';
import { parseCheckpoint } from '../../warehouse/index.ts';
import { documentKey } from '../documents/document-rows.ts';
import { rowImage, type ChangeEnvelope, type Row, type SourceVersion } from '../envelope.ts';
import { deadLetterRecords } from '../landing/dead-letters.ts';
import type { LandingBatch, LandingSink, SinkOutcome } from '../landing/sink.ts';
import type { Rejection, SourceChange } from '../landing/types.ts';
import type { PiiPolicy } from '../pii.ts';
import { tableKey, type SourceTable } from '../source-table.ts';
import { readCompactedTopic } from './compacted-topic.ts';
import { deadLetterMessages } from './dead-letter-topic.ts';
import { PII_APPLIED_HEADER, SHAPE_HEADER } from './headers.ts';
import { keyChangeHeaders } from './key-change-headers.ts';
import { keyPartition } from './key-partition.ts';
import { idempotentProducer } from './producer.ts';
import { publishShapeVersions, publishTableSchemas, shapeDigest } from './schema-topic.ts';
import { snapshotMarkers } from './snapshot-marker.ts';
import { DEAD_LETTER_TOPIC, ensureTopic } from './topics.ts';
import { Utf8Slab } from './utf8-slab.ts';

export const CAPTURE_STATE_TOPIC = 'tributary.capture-state';

export interface KafkaSinkOptions {
  brokers: string[];
  /** The policy the capture applied (its mark travels with every message). */
  pii: PiiPolicy;
  /** Partitions of each change topic this sink creates (existing topics are left as they are). */
  partitions?: number;
}

export class KafkaSink implements LandingSink {
  private readonly kafka: Kafka;
  private readonly producer: Producer;
  private readonly admin: Admin;
  /**
   * The checkpoints and landed marks on the state topic, read once (after the pipeline's earlier
   * run was fenced); then this sink, their only writer, remembers what it writes (reading the topic
   * back after each write cost a round trip and an admin client per batch). Read again after a
   * failed write, which may or may not have been stored.
   */
  private checkpoints: Promise<Map<string, string>> | undefined;
  /** Each pipeline's transactional producer, made (and its predecessor fenced) on first use. */
  private readonly transactional = new Map<string, Promise<Producer>>();
  /** A producer runs one transaction at a time: the streams' batches take turns. */
  private turn: Promise<unknown> = Promise.resolve();
  /** The PII mark's header, one buffer shared by every message. */
  private readonly piiHeader: Buffer;
  /** The headers of a change that is not a key change: one object for all (kafkajs only reads them). */
  private readonly changeHeaders: IHeaders;
  private readonly tables = new Map<string, SourceTable>();
  private readonly partitionsOf = new Map<string, number>();
  /** Shapes changes were read with that are on the schema topic, and their headers, by shape. */
  private readonly shapeHeaders = new WeakMap<SourceTable, IHeaders>();

  constructor(private readonly options: KafkaSinkOptions) {
    this.kafka = new Kafka({
      clientId: 'tributary-capture',
      brokers: options.brokers,
      logLevel: logLevel.NOTHING,
    });
    this.producer = idempotentProducer(this.kafka, { allowAutoTopicCreation: true });
    this.admin = this.kafka.admin();
    this.piiHeader = Buffer.from(options.pii.mark);
    this.changeHeaders = { [PII_APPLIED_HEADER]: this.piiHeader };
  }

  get description(): string {
    return `Kafka at ${this.options.brokers.join(',')}`;
  }

  async open(): Promise<void> {
    await Promise.all([this.admin.connect(), this.producer.connect()]);
  }

  async register(table: SourceTable): Promise<string[]> {
    const topic = topicOf(table);
    const metadata = await ensureTopic(this.admin, { topic, numPartitions: this.options.partitions ?? 3 });
    this.partitionsOf.set(topic, metadata.topics[0]?.partitions.length ?? 1);
    const previous = this.tables.get(tableKey(table));
    // The shape is on the schema topic before any change that needs it is on its own topic.
    await publishTableSchemas(this.producer, [table]);
    this.tables.set(tableKey(table), table);
    return previous
      ? table.columns
          .map((column) => column.name)
          .filter((name) => !previous.columns.some((column) => column.name === name))
      : [];
  }

  async write(changes: readonly SourceChange[], batch: LandingBatch): Promise<SinkOutcome> {
    await this.publishShapes(changes);
    const { topicMessages, rejected } = this.encode(changes);
    await this.once(batch, 'landed', topicMessages);
    return { rejected, unfilled: [] };
  }

  /**
   * The shapes the changes were read with (MySQL's table maps), each on the schema topic under its
   * digest before any change names it: a change is decoded with its own shape, not the newest.
   */
  private async publishShapes(changes: readonly SourceChange[]): Promise<void> {
    const unpublished = new Set<SourceTable>();
    for (const change of changes)
      if (change.shape && !this.shapeHeaders.has(change.shape)) unpublished.add(change.shape);
    if (unpublished.size === 0) return;
    await publishShapeVersions(this.producer, [...unpublished]);
    for (const shape of unpublished)
      this.shapeHeaders.set(shape, { ...this.changeHeaders, [SHAPE_HEADER]: shapeDigest(shape) });
  }

  /** The batch's messages per topic, keyed and partitioned as kafkajs would. */
  private encode(changes: readonly SourceChange[]): {
    topicMessages: TopicMessages[];
    rejected: Rejection[];
  } {
    const byTopic = new Map<string, Message[]>();
    const rejected: Rejection[] = [];
    // Keys and values as bytes in this batch's chunks, kept until the batch is sent.
    const slab = new Utf8Slab();
    for (const change of changes) {
      const table = this.tables.get(change.table);
      if (!table) {
        rejected.push({ change, stage: 'mirror', reason: `no table shape registered for ${change.table}` });
        continue;
      }
      const topic = topicOf(table);
      let messages = byTopic.get(topic);
      if (!messages) byTopic.set(topic, (messages = []));
      const partitions = this.partitionsOf.get(topic) ?? 1;
      const { envelope } = change;
      // A key change's mark travels as Debezium's header, so the body is Debezium's envelope.
      const value = slab.bytes(
        JSON.stringify(envelope.keyChange ? { ...envelope, keyChange: undefined } : envelope),
      );
      const shapeHeaders = change.shape && this.shapeHeaders.get(change.shape);
      const headers: IHeaders = envelope.keyChange
        ? { ...(shapeHeaders || this.changeHeaders), ...keyChangeHeaders(envelope) }
        : shapeHeaders || this.changeHeaders;
      if (envelope.op === 't') {
        // A truncate concerns every key: each partition gets it, in order with its own rows.
        for (let partition = 0; partition < partitions; partition++)
          messages.push({ key: null, value, partition, headers });
        continue;
      }
      // Partitioned here as kafkajs would, from the key's bytes, converted once.
      const key = slab.bytes(JSON.stringify(keyOf(table, envelope)));
      messages.push({ key, value, partition: keyPartition(key, partitions), headers });
    }
    return { topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })), rejected };
  }

  /**
   * Publishes `topicMessages` in one transaction with the mark that `batch` did `what`, unless that
   * mark is already stored: a stream's batches land in order, so its last mark says whether a
   * rebuilt batch (the stream's latest) made it before the crash.
   */
  private once(
    batch: LandingBatch,
    what: 'landed' | 'dead-lettered',
    topicMessages: TopicMessages[],
  ): Promise<void> {
    const mark = `${batch.pipeline}/${batch.stream}#${what}`;
    const work = this.turn.then(async () => {
      const producer = await this.transactionalProducer(batch.pipeline);
      if ((await this.storedCheckpoints()).get(mark) === batch.token) return;
      const transaction = await producer.transaction();
      try {
        // acks from all in-sync replicas before the capture confirms the slot.
        await transaction.sendBatch({
          acks: -1,
          topicMessages: [
            ...topicMessages,
            { topic: CAPTURE_STATE_TOPIC, messages: [{ key: mark, value: batch.token }] },
          ],
        });
        await transaction.commit();
      } catch (error) {
        // Whether it was stored is unknown: the next attempt reads the marks again, with a new
        // producer that aborts this transaction if it is still open.
        this.checkpoints = undefined;
        this.transactional.delete(batch.pipeline);
        await transaction.abort().catch(() => undefined);
        await producer.disconnect().catch(() => undefined);
        throw error;
      }
      (await this.storedCheckpoints()).set(mark, batch.token);
    });
    this.turn = work.catch(() => undefined);
    return work;
  }

  /**
   * The pipeline's transactional producer. Making it fences every earlier producer with the same
   * id (the broker aborts a transaction a killed run left open), and the state topic is read only
   * after that, so what it shows is what those runs committed.
   */
  private transactionalProducer(pipeline: string): Promise<Producer> {
    let producer = this.transactional.get(pipeline);
    if (!producer) {
      producer = (async () => {
        const made = idempotentProducer(this.kafka, {
          transactionalId: captureTransactionalId(pipeline),
          allowAutoTopicCreation: true,
        });
        await made.connect();
        // The id is taken over when the first transaction starts; one ended at once sends nothing.
        await (await made.transaction()).abort();
        this.checkpoints = undefined;
        return made;
      })();
      this.transactional.set(pipeline, producer);
      producer.catch(() => this.transactional.delete(pipeline));
    }
    return producer;
  }

  private storedCheckpoints(): Promise<Map<string, string>> {
    const reading = (this.checkpoints ??= readCompactedTopic(this.kafka, CAPTURE_STATE_TOPIC));
    reading.catch(() => {
      if (this.checkpoints === reading) this.checkpoints = undefined;
    });
    return reading;
  }

  /**
   * Ends the snapshot with a marker on every partition of each table's topic, after the rows it sent
   * there: the workers retract what the snapshot did not see once every partition's marker landed.
   */
  async completeSnapshot(version: SourceVersion, tables?: SourceTable[]): Promise<void> {
    await this.producer.sendBatch({
      acks: -1,
      topicMessages: (tables ?? [...this.tables.values()]).map((table) => {
        const topic = topicOf(table);
        return { topic, messages: snapshotMarkers(table, version, this.partitionsOf.get(topic) ?? 1, {}) };
      }),
    });
  }

  async readCheckpoint<T>(pipeline: string, stream: string, schema: z.ZodType<T>): Promise<T | undefined> {
    await this.transactionalProducer(pipeline);
    const text = (await this.storedCheckpoints()).get(`${pipeline}/${stream}`);
    return text === undefined ? undefined : parseCheckpoint(`${pipeline}/${stream}`, text, schema);
  }

  async writeCheckpoint(pipeline: string, stream: string, state: unknown): Promise<void> {
    const key = `${pipeline}/${stream}`;
    const value = JSON.stringify(state);
    try {
      await this.producer.send({ topic: CAPTURE_STATE_TOPIC, acks: -1, messages: [{ key, value }] });
    } catch (error) {
      this.checkpoints = undefined;
      throw error;
    }
    // Unread (or unreadable) so far: the next read gets it from the topic.
    (await this.checkpoints?.catch(() => undefined))?.set(key, value);
  }

  async deadLetter(rejections: readonly Rejection[], batch: LandingBatch): Promise<void> {
    const records = deadLetterRecords(batch.pipeline, rejections, batch.token);
    const messages = deadLetterMessages(records, rejections, { [PII_APPLIED_HEADER]: this.options.pii.mark });
    await this.once(batch, 'dead-lettered', [{ topic: DEAD_LETTER_TOPIC, messages }]);
  }

  async close(): Promise<void> {
    await this.turn;
    const transactional = await Promise.allSettled(this.transactional.values());
    for (const made of transactional) if (made.status === 'fulfilled') await made.value.disconnect();
    await this.producer.disconnect();
    await this.admin.disconnect();
  }
}

/** One per pipeline: a second capture of the same pipeline fences the first. */
export function captureTransactionalId(pipeline: string): string {
  return `tributary-capture.${pipeline}`;
}

function topicOf(table: Pick<SourceTable, 'source' | 'schema' | 'table'>): string {
  return `${table.source}.${table.schema}.${table.table}`;
}

/** The primary key's columns; for a document, Debezium's `{"id": <the _id in extended JSON>}`. */
function keyOf(table: SourceTable, envelope: ChangeEnvelope): Row {
  if (table.document) return { id: documentKey(envelope) };
  const image = rowImage(envelope.op === 'd' ? envelope.before : envelope.after);
  const key: Row = {};
  for (const column of table.key) key[column] = image?.[column] ?? null;
  return key;
}
