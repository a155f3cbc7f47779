// Native capture onto Kafka: the same Debezium envelopes, keyed by primary key, on the topics
// Debezium would use (`<source>.<schema>.<table>`), so either capture feeds the same workers. A key
// change's halves carry Debezium's headers, and every message says the capture's PII policy was
// applied, so the workers do not apply it again.
import { Kafka, logLevel, type Admin, type IHeaders, type Message, type Producer } from 'kafkajs';
import type { z } from 'zod';
import { parseCheckpoint } from '../../warehouse/index.ts';
import { documentKey } from '../documents/document-rows.ts';
import { rowImage, type ChangeEnvelope, type Row, type SourceVersion } from '../envelope.ts';
import { deadLetterRecords } from '../landing/dead-letters.ts';
import type { LandingSink, SinkOutcome } from '../landing/sink.ts';
import type { Rejection, SourceChange } from '../landing/types.ts';
import type { PiiPolicy } from '../pii.ts';
import { tableKey, type SourceTable } from '../source-table.ts';
import { readCompactedTopic } from './compacted-topic.ts';
import { deadLetterMessages } from './dead-letter-topic.ts';
import { PII_APPLIED_HEADER } from './headers.ts';
import { keyChangeHeaders } from './key-change-headers.ts';
import { keyPartition } from './key-partition.ts';
import { idempotentProducer } from './producer.ts';
import { publishTableSchemas } from './schema-topic.ts';
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
   * The checkpoints on the state topic, read once on open; then this sink, their only writer,
   * remembers what it writes (reading the topic back after each write cost a round trip and an
   * admin client per batch). Unknown after a failed write, which may or may not have been stored.
   */
  private checkpoints: Map<string, string> | undefined;
  /** The PII mark's header, one buffer shared by every message. */
  private readonly piiHeader: Buffer;
  /** The headers of a change that is not a key change: one object for all (kafkajs only reads them). */
  private readonly changeHeaders: IHeaders;
  private readonly tables = new Map<string, SourceTable>();
  private readonly partitionsOf = new Map<string, number>();

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
    const [, , checkpoints] = await Promise.all([
      this.admin.connect(),
      this.producer.connect(),
      readCompactedTopic(this.kafka, CAPTURE_STATE_TOPIC),
    ]);
    this.checkpoints = checkpoints;
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

  async write(changes: readonly SourceChange[]): Promise<SinkOutcome> {
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
      const headers: IHeaders = envelope.keyChange
        ? { [PII_APPLIED_HEADER]: this.piiHeader, ...keyChangeHeaders(envelope) }
        : this.changeHeaders;
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
    // acks from all in-sync replicas before the capture confirms the slot.
    await this.producer.sendBatch({
      acks: -1,
      topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })),
    });
    return { rejected, unfilled: [] };
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
    this.checkpoints ??= await readCompactedTopic(this.kafka, CAPTURE_STATE_TOPIC);
    const text = this.checkpoints.get(`${pipeline}/${stream}`);
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
    this.checkpoints?.set(key, value);
  }

  async deadLetter(pipeline: string, rejections: readonly Rejection[], tokenBase: string): Promise<void> {
    const records = deadLetterRecords(pipeline, rejections, tokenBase);
    await this.producer.send({
      topic: DEAD_LETTER_TOPIC,
      acks: -1,
      messages: deadLetterMessages(records, rejections, { [PII_APPLIED_HEADER]: this.options.pii.mark }),
    });
  }

  async close(): Promise<void> {
    await this.producer.disconnect();
    await this.admin.disconnect();
  }
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
