// A key → latest value view of a compacted topic (table shapes, capture checkpoints): read from the
// start on open, kept current while open, and able to wait until it has seen everything written.
import { CaptureError } from '../errors.ts';
import { randomUUID } from 'node:crypto';
import type { Admin, Consumer, Kafka, KafkaMessage } from 'kafkajs';
import { ensureTopic } from './topics.ts';

export class CompactedTopicView {
  private readonly values = new Map<string, string>();
  /** Next offset to read, per partition (`topicPartition`). */
  private readonly positions = new Map<string, number>();
  private consumer: Consumer | undefined;
  /** One admin client for the view's life: `catchUp` asks it for the topic's end offsets. */
  private admin: Admin | undefined;

  constructor(
    private readonly kafka: Kafka,
    readonly topic: string,
  ) {}

  get(key: string): string | undefined {
    return this.values.get(key);
  }

  entries(): IterableIterator<[string, string]> {
    return this.values.entries();
  }

  /** Creates the topic if missing, reads it from the start, and resolves once caught up. */
  async open(): Promise<void> {
    const admin = (this.admin = this.kafka.admin());
    await admin.connect();
    await ensureTopic(admin, {
      topic: this.topic,
      numPartitions: 1,
      configEntries: [{ name: 'cleanup.policy', value: 'compact' }],
    });
    // A fresh group each time: the view always starts from the beginning and commits nothing. A
    // consumer's disconnect waits for its fetch in flight, which an idle topic holds for the whole
    // wait: half a second keeps closing quick (kafkajs's default, 5 s, was most of a short capture).
    const consumer = (this.consumer = this.kafka.consumer({
      groupId: `tributary-view-${randomUUID()}`,
      maxWaitTimeInMs: 500,
    }));
    await consumer.connect();
    await consumer.subscribe({ topic: this.topic, fromBeginning: true });
    trackFetchedOffsets(consumer, this.positions);
    await consumer.run({
      eachMessage: async ({ message }) => {
        const key = message.key?.toString() ?? '';
        if (message.value === null) this.values.delete(key);
        else this.values.set(key, message.value.toString());
      },
    });
    await this.catchUp(60_000);
  }

  /** Waits (bounded) until everything written to the topic so far has been read. */
  async catchUp(timeoutMs = 5000): Promise<void> {
    if (!this.admin) throw new CaptureError(`the view of ${this.topic} is not open`);
    const ends = await this.admin.fetchTopicOffsets(this.topic);
    const deadline = Date.now() + timeoutMs;
    while (
      ends.some(
        (end) => (this.positions.get(topicPartition(this.topic, end.partition)) ?? 0) < Number(end.high),
      )
    ) {
      if (Date.now() > deadline)
        throw new CaptureError(`reading ${this.topic} did not catch up within ${timeoutMs} ms`, {
          retriable: true,
        });
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }

  async close(): Promise<void> {
    await this.consumer?.disconnect();
    await this.admin?.disconnect();
    this.consumer = this.admin = undefined;
  }
}

/**
 * Keeps `positions` (`topicPartition` → the next offset to fetch) past every record the consumer
 * fetched, once its messages were handled. Counting delivered messages is not enough: transaction
 * markers and aborted records take offsets too but are never delivered, so a topic written in
 * transactions would never look read to its end.
 */
export function trackFetchedOffsets(consumer: Consumer, positions: Map<string, number>): void {
  consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
    const key = topicPartition(payload.topic, payload.partition);
    const next = Number(payload.lastOffset) + 1;
    if (next > (positions.get(key) ?? 0)) positions.set(key, next);
  });
}

/**
 * Hands `each` every message a read_committed consumer gets from `topic`, from its start to its
 * end as of the call (a fresh group each time; read to the end by fetched offsets, markers included).
 */
export async function readTopicToEnd(
  kafka: Kafka,
  topic: string,
  each: (message: KafkaMessage) => void,
  timeoutMs = 60_000,
): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  const ends = await admin.fetchTopicOffsets(topic).finally(() => admin.disconnect());
  const consumer = kafka.consumer({ groupId: `tributary-reader-${randomUUID()}`, maxWaitTimeInMs: 200 });
  const fetched = new Map<string, number>();
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    trackFetchedOffsets(consumer, fetched);
    await consumer.run({ eachMessage: async ({ message }) => each(message) });
    const read = () =>
      ends.every(
        (end) =>
          Number(end.high) <= Number(end.low) ||
          (fetched.get(topicPartition(topic, end.partition)) ?? 0) >= Number(end.high),
      );
    const deadline = Date.now() + timeoutMs;
    while (!read()) {
      if (Date.now() > deadline)
        throw new CaptureError(`reading ${topic} to its end did not finish within ${timeoutMs} ms`, {
          retriable: true,
        });
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  } finally {
    await consumer.disconnect();
  }
}

export function topicPartition(topic: string, partition: number): string {
  return `${topic}:${partition}`;
}

/**
 * The topic's latest value per key, read once from the start to its current end. For a reader that
 * is the only writer of its keys from then on: it remembers what it writes instead of reading it back.
 */
export async function readCompactedTopic(kafka: Kafka, topic: string): Promise<Map<string, string>> {
  const view = new CompactedTopicView(kafka, topic);
  try {
    await view.open();
    return new Map(view.entries());
  } finally {
    await view.close();
  }
}
