// Feeds dead letters back to where they came from once the cause is fixed (a worker upgraded, a
// limit raised, a table shape published): each message goes back to its topic and partition with
// its key, headers and value exactly as they first came, taken from the dead-letter topic. A
// replayed message that fails again becomes a new dead letter; replayed ones are marked so they are
// not sent twice.
import { Kafka, logLevel, type IHeaders, type KafkaMessage } from 'kafkajs';
import {
  listDeadLetters,
  markReplayed,
  type DeadLetterFilter,
  type Warehouse,
} from '../../warehouse/index.ts';
import { readTopicToEnd } from './compacted-topic.ts';
import { DEAD_LETTER_HEADERS, headerText, withoutDeadLetterHeaders } from './headers.ts';
import { idempotentProducer } from './producer.ts';
import { DEAD_LETTER_TOPIC } from './topics.ts';

export interface ReplayResult {
  replayed: number;
  /** Dead letters that did not come from a topic (the native capture's): they cannot be re-fed. */
  skipped: number;
  /** Dead letters whose message the dead-letter topic no longer holds (its retention passed). */
  missing: number;
}

export async function replayDeadLetters(
  warehouse: Warehouse,
  brokers: string[],
  filter: DeadLetterFilter,
): Promise<ReplayResult> {
  const letters = await listDeadLetters(warehouse, filter);
  const fromTopics = letters.filter((letter) => letter.topic !== '');
  const skipped = letters.length - fromTopics.length;
  if (fromTopics.length === 0) return { replayed: 0, skipped, missing: 0 };
  const kafka = new Kafka({ clientId: 'tributary-dlq-replay', brokers, logLevel: logLevel.NOTHING });
  const messages = await readDeadLetterMessages(kafka, new Set(fromTopics.map((letter) => letter.id)));
  const producer = idempotentProducer(kafka);
  await producer.connect();
  try {
    for (const [id, message] of messages) {
      const headers = message.headers ?? {};
      const text = (name: string) => headerText(headers[name]) ?? '';
      await producer.send({
        topic: text(DEAD_LETTER_HEADERS.topic),
        acks: -1,
        messages: [
          {
            // Its own partition, so it keeps its place among its key's changes.
            partition: Number(text(DEAD_LETTER_HEADERS.partition)),
            key: message.key,
            value: message.value,
            headers: withoutDeadLetterHeaders(headers) as IHeaders,
          },
        ],
      });
      await markReplayed(warehouse, [id]);
    }
  } finally {
    await producer.disconnect();
  }
  return { replayed: messages.size, skipped, missing: fromTopics.length - messages.size };
}

/** The dead-letter topic's messages with the given ids, read from its start to its current end. */
async function readDeadLetterMessages(kafka: Kafka, ids: Set<string>): Promise<Map<string, KafkaMessage>> {
  const found = new Map<string, KafkaMessage>();
  await readTopicToEnd(kafka, DEAD_LETTER_TOPIC, (message) => {
    const id = headerText(message.headers?.[DEAD_LETTER_HEADERS.id]);
    if (id !== undefined && ids.has(id)) found.set(id, message);
  });
  return found;
}
