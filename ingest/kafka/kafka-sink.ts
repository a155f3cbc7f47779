// Native capture onto Kafka: the same Debezium envelopes, keyed by primary key, on the topics
// Debezium would use (`<source>.<schema>.<table>`), so either capture feeds the same workers.
import { Kafka, logLevel, type Admin, type Producer } from 'kafkajs';
import type { DeadLetter } from '../../warehouse/index.ts';
import type { CaptureSink, LandingOutcome } from '../capture-sink.ts';
import { rowImage, type ChangeEnvelope, type Row } from '../envelope.ts';
import { documentKey } from '../mongo/document-rows.ts';
import type { RejectedEvent } from '../mirror-writer.ts';
import { eventNamespace, type SourceTable } from '../source-table.ts';
import { CompactedTopicView } from './compacted-topic.ts';
import { publishTableSchemas, tableKey } from './schema-topic.ts';
import { keyChangeHeaders } from './key-change-headers.ts';
import { DEAD_LETTER_TOPIC } from './topics.ts';

export const CAPTURE_STATE_TOPIC = 'tributary.capture-state';

export interface KafkaSinkOptions {
  brokers: string[];
  /** Partitions of each change topic this sink creates (existing topics are left as they are). */
  partitions?: number;
}

export class KafkaSink implements CaptureSink {
  private readonly kafka: Kafka;
  private readonly producer: Producer;
  private readonly admin: Admin;
  private readonly state: CompactedTopicView;
  private readonly tables = new Map<string, SourceTable>();
  private readonly partitionsOf = new Map<string, number>();

  constructor(private readonly options: KafkaSinkOptions) {
    this.kafka = new Kafka({
      clientId: 'tributary-capture',
      brokers: options.brokers,
      logLevel: logLevel.NOTHING,
    });
    // Idempotent with one request in flight: a retried send neither duplicates nor reorders.
    this.producer = this.kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: true,
    });
    this.admin = this.kafka.admin();
    this.state = new CompactedTopicView(this.kafka, CAPTURE_STATE_TOPIC);
  }

  get description(): string {
    return `Kafka at ${this.options.brokers.join(',')}`;
  }

  async open(): Promise<void> {
    await this.admin.connect();
    await this.producer.connect();
    await this.state.open();
  }

  async register(table: SourceTable): Promise<string[]> {
    const topic = topicOf(table.source, table.schema, table.table);
    await this.admin.createTopics({ topics: [{ topic, numPartitions: this.options.partitions ?? 3 }] });
    const metadata = await this.admin.fetchTopicMetadata({ topics: [topic] });
    this.partitionsOf.set(topic, metadata.topics[0]?.partitions.length ?? 1);
    const previous = this.tables.get(tableKey(table.source, table.schema, table.table));
    await publishTableSchemas(this.producer, [table]);
    this.tables.set(tableKey(table.source, table.schema, table.table), table);
    return previous
      ? table.columns
          .map((column) => column.name)
          .filter((name) => !previous.columns.some((column) => column.name === name))
      : [];
  }

  async write(events: ChangeEnvelope[]): Promise<LandingOutcome> {
    const byTopic = new Map<
      string,
      { key: string | null; value: string; partition?: number; headers?: Record<string, string> }[]
    >();
    const rejected: RejectedEvent[] = [];
    for (const envelope of events) {
      const { name } = envelope.source;
      const { schema, table: tableName } = eventNamespace(envelope.source);
      const table = this.tables.get(tableKey(name, schema, tableName));
      if (!table) {
        rejected.push({
          envelope,
          reason: `no table shape registered for ${tableKey(name, schema, tableName)}`,
        });
        continue;
      }
      const topic = topicOf(name, schema, tableName);
      let messages = byTopic.get(topic);
      if (!messages) byTopic.set(topic, (messages = []));
      // A key change's mark travels as Debezium's header, so the body is Debezium's envelope.
      const { keyChange, ...body } = envelope;
      const value = JSON.stringify(body);
      if (envelope.op === 't') {
        // A truncate concerns every key: each partition gets it, in order with its own rows.
        for (let partition = 0; partition < (this.partitionsOf.get(topic) ?? 1); partition++)
          messages.push({ key: null, value, partition });
        continue;
      }
      messages.push({
        key: JSON.stringify(keyOf(table, envelope)),
        value,
        ...(keyChange && { headers: keyChangeHeaders(envelope) }),
      });
    }
    // acks from all in-sync replicas before the capture confirms the slot.
    await this.producer.sendBatch({
      acks: -1,
      topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })),
    });
    return { rejected, unfilled: [] };
  }

  async completeSnapshot(): Promise<void> {
    // Rows an interrupted earlier snapshot delivered but the source no longer has are not retracted
    // on Kafka (Debezium does not either); the workers keep what they were sent.
  }

  async readCheckpoint<State>(pipeline: string, stream: string): Promise<State | undefined> {
    const text = this.state.get(`${pipeline}/${stream}`);
    return text === undefined ? undefined : (JSON.parse(text) as State);
  }

  async writeCheckpoint(pipeline: string, stream: string, state: unknown): Promise<void> {
    await this.producer.send({
      topic: CAPTURE_STATE_TOPIC,
      acks: -1,
      messages: [{ key: `${pipeline}/${stream}`, value: JSON.stringify(state) }],
    });
    await this.state.catchUp();
  }

  async deadLetter(letters: DeadLetter[]): Promise<void> {
    await this.producer.send({
      topic: DEAD_LETTER_TOPIC,
      acks: -1,
      messages: letters.map((letter) => ({ key: letter.source, value: JSON.stringify(letter) })),
    });
  }

  async close(): Promise<void> {
    await this.state.close();
    await this.producer.disconnect();
    await this.admin.disconnect();
  }
}

function topicOf(source: string, schema: string, table: string): string {
  return `${source}.${schema}.${table}`;
}

/** The primary key's columns; for a document, Debezium's `{"id": <the _id in extended JSON>}`. */
function keyOf(table: SourceTable, envelope: ChangeEnvelope): Row {
  if (table.document) return { id: documentKey(envelope) };
  const image = rowImage(envelope.op === 'd' ? envelope.before : envelope.after);
  const key: Row = {};
  for (const column of table.key) key[column] = image?.[column] ?? null;
  return key;
}
