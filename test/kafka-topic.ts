// Reads a topic as the workers do (read_committed) from its start to its current end: what a
// consumer can ever get from it, for tests that count what was published.
import { randomUUID } from 'node:crypto';
import { Kafka, logLevel, type KafkaMessage } from 'kafkajs';
import { topicPartition, trackFetchedOffsets } from '../ingest/kafka/compacted-topic.ts';

export async function readCommittedMessages(brokers: string[], topic: string): Promise<KafkaMessage[]> {
  const client = new Kafka({ brokers, logLevel: logLevel.NOTHING });
  const admin = client.admin();
  await admin.connect();
  const ends = await admin.fetchTopicOffsets(topic).finally(() => admin.disconnect());
  const consumer = client.consumer({ groupId: `test-reader-${randomUUID()}`, maxWaitTimeInMs: 200 });
  const messages: KafkaMessage[] = [];
  const fetched = new Map<string, number>();
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    // Transaction markers take offsets but are never delivered: read to the end by fetched offsets.
    trackFetchedOffsets(consumer, fetched);
    const read = () =>
      ends.every((end) => (fetched.get(topicPartition(topic, end.partition)) ?? 0) >= Number(end.high));
    await consumer.run({ eachMessage: async ({ message }) => void messages.push(message) });
    const deadline = Date.now() + 60_000;
    while (!read()) {
      if (Date.now() > deadline) throw new Error(`${topic} was not read to its end within 60 s`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  } finally {
    await consumer.disconnect();
  }
  return messages;
}
