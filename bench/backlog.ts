// A Kafka backlog for the worker benchmarks: a topic grown to a number of messages with copies of
// its own, each copy keyed as its original so it follows it in the same partition (every copy is a
// full decode and upsert for the worker; the repeats deduplicate in the mirror).
import { Kafka, logLevel } from 'kafkajs';
import { readTopicToEnd } from '../ingest/kafka/compacted-topic.ts';
import { idempotentProducer } from '../ingest/index.ts';

/** Grows `topic` (holding `held` messages) to `total` messages with copies of its own. */
export async function growTopic(brokers: string, topic: string, held: number, total: number): Promise<void> {
  // An empty topic has nothing to copy, and its reader would wait for a first message for ever.
  if (held === 0) throw new Error(`${topic} holds no message to copy into a backlog`);
  const client = new Kafka({ clientId: 'bench-backlog', brokers: [brokers], logLevel: logLevel.NOTHING });
  const originals: { key: Buffer | null; value: Buffer | null }[] = [];
  const reader = client.consumer({ groupId: `bench-backlog-read-${Date.now()}` });
  await reader.connect();
  await reader.subscribe({ topic, fromBeginning: true });
  await new Promise<void>((resolve) => {
    void reader.run({
      eachBatch: async ({ batch }) => {
        for (const message of batch.messages) originals.push({ key: message.key, value: message.value });
        if (originals.length >= held) resolve();
      },
    });
  });
  await reader.disconnect();
  const producer = idempotentProducer(client);
  await producer.connect();
  for (let stored = held, next = 0; stored < total;) {
    const count = Math.min(10_000, total - stored);
    const messages = Array.from({ length: count }, (_, index) => {
      const { key, value } = originals[(next + index) % originals.length] ?? { key: null, value: null };
      return { key, value };
    });
    await producer.send({ topic, messages });
    next = (next + count) % originals.length;
    stored += count;
  }
  await producer.disconnect();
}

/**
 * Messages a topic holds, as a read_committed consumer gets them: read to the end and counted. The
 * end offsets overcount a topic written in transactions (each commit marker takes an offset).
 */
export async function storedMessages(brokers: string, topic: string): Promise<number> {
  let messages = 0;
  const client = new Kafka({ clientId: 'bench', brokers: [brokers], logLevel: logLevel.NOTHING });
  await readTopicToEnd(client, topic, () => messages++, 600_000);
  return messages;
}
