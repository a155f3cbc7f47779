// Reads a topic as the workers do (read_committed) from its start to its current end: what a
// consumer can ever get from it, for tests that count what was published.
import { Kafka, logLevel, type KafkaMessage } from 'kafkajs';
import { readTopicToEnd } from '../ingest/kafka/compacted-topic.ts';

export async function readCommittedMessages(brokers: string[], topic: string): Promise<KafkaMessage[]> {
  const messages: KafkaMessage[] = [];
  await readTopicToEnd(new Kafka({ brokers, logLevel: logLevel.NOTHING }), topic, (message) =>
    messages.push(message),
  );
  return messages;
}
