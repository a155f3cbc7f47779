// Topics Tributary itself owns on a Kafka cluster, and creating topics on a busy broker.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Admin, ITopicConfig } from 'kafkajs';

/** Every event a worker or capture could not decode or store, with the reason. */
export const DEAD_LETTER_TOPIC = 'tributary.dlq';

/** Metadata errors a topic created a moment ago may still answer with: waiting mends them. */
const NOT_SERVED_YET = new Set(['UNKNOWN_TOPIC_OR_PARTITION', 'LEADER_NOT_AVAILABLE']);

/**
 * Creates `topic` if it does not exist and returns its metadata once the broker serves it. A busy
 * broker may answer UNKNOWN_TOPIC_OR_PARTITION for some seconds after creating a topic, which
 * kafkajs's own wait for leaders does not retry.
 */
export async function ensureTopic(
  admin: Admin,
  topic: ITopicConfig,
): ReturnType<Admin['fetchTopicMetadata']> {
  await admin.createTopics({ topics: [topic], waitForLeaders: false });
  for (let attempt = 1; ; attempt++) {
    try {
      const metadata = await admin.fetchTopicMetadata({ topics: [topic.topic] });
      if (metadata.topics[0]?.partitions.every((partition) => partition.leader >= 0)) return metadata;
      if (attempt === 40) return metadata;
    } catch (error) {
      if (!NOT_SERVED_YET.has((error as { type?: string }).type ?? '') || attempt === 40) throw error;
    }
    await sleep(250);
  }
}
