// Feeds dead letters back to the topic they came from, byte for byte, once the cause is fixed (a
// worker upgraded, a limit raised, a table shape published). A replayed event that fails again
// becomes a new dead letter; the replayed ones are marked so they are not sent twice.
import { Kafka, logLevel } from 'kafkajs';
import {
  listDeadLetters,
  markReplayed,
  type DeadLetterFilter,
  type Warehouse,
} from '../../warehouse/index.ts';

export interface ReplayResult {
  replayed: number;
  /** Dead letters that did not come from a topic (the native capture's): they cannot be re-fed. */
  skipped: number;
}

export async function replayDeadLetters(
  warehouse: Warehouse,
  brokers: string[],
  filter: DeadLetterFilter,
): Promise<ReplayResult> {
  const letters = await listDeadLetters(warehouse, filter);
  const fromTopics = letters.filter((letter) => letter.topic !== '');
  if (fromTopics.length > 0) {
    const producer = new Kafka({
      clientId: 'tributary-dlq-replay',
      brokers,
      logLevel: logLevel.NOTHING,
    }).producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    try {
      await producer.sendBatch({
        acks: -1,
        topicMessages: fromTopics.map((letter) => ({
          topic: letter.topic,
          messages: [{ key: letter.key, value: letter.original }],
        })),
      });
    } finally {
      await producer.disconnect();
    }
    await markReplayed(
      warehouse,
      fromTopics.map((letter) => letter.id),
    );
  }
  return { replayed: fromTopics.length, skipped: letters.length - fromTopics.length };
}
