// A key → latest value view of a compacted topic (table shapes, capture checkpoints): read from the
// start on open, kept current while open, and able to wait until it has seen everything written.
import { CaptureError } from '../errors.ts';
import { randomUUID } from 'node:crypto';
import type { Consumer, Kafka } from 'kafkajs';

export class CompactedTopicView {
  private readonly values = new Map<string, string>();
  /** Next offset to read, per partition. */
  private readonly positions = new Map<number, number>();
  private consumer: Consumer | undefined;

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
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      await admin.createTopics({
        topics: [
          {
            topic: this.topic,
            numPartitions: 1,
            configEntries: [{ name: 'cleanup.policy', value: 'compact' }],
          },
        ],
      });
    } finally {
      await admin.disconnect();
    }
    // A fresh group each time: the view always starts from the beginning and commits nothing.
    const consumer = (this.consumer = this.kafka.consumer({ groupId: `tributary-view-${randomUUID()}` }));
    await consumer.connect();
    await consumer.subscribe({ topic: this.topic, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ partition, message }) => {
        const key = message.key?.toString() ?? '';
        if (message.value === null) this.values.delete(key);
        else this.values.set(key, message.value.toString());
        this.positions.set(partition, Number(message.offset) + 1);
      },
    });
    await this.catchUp(60_000);
  }

  /** Waits (bounded) until everything written to the topic so far has been read. */
  async catchUp(timeoutMs = 5000): Promise<void> {
    const admin = this.kafka.admin();
    await admin.connect();
    const ends = await admin.fetchTopicOffsets(this.topic).finally(() => admin.disconnect());
    const deadline = Date.now() + timeoutMs;
    while (ends.some((end) => (this.positions.get(end.partition) ?? 0) < Number(end.high))) {
      if (Date.now() > deadline)
        throw new CaptureError(`reading ${this.topic} did not catch up within ${timeoutMs} ms`, {
          retriable: true,
        });
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }

  async close(): Promise<void> {
    await this.consumer?.disconnect();
  }
}
