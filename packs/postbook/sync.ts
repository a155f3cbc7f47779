// PostBook's sync as the pack declares it: the denormalized names kept in step from the captures
// (denormalize.ts), with the seed's domain events published to Kafka (when the pipeline has
// brokers) and RabbitMQ (when an AMQP URL is configured).
import { Kafka, logLevel, type Producer } from 'kafkajs';
import { TributaryError } from '../../errors/index.ts';
import { idempotentProducer } from '../../ingest/kafka/producer.ts';
import type { PackSync } from '../pack.ts';
import { Denormalizer } from './denormalize.ts';
import { allOf, amqpPublisher, kafkaPublisher, type EventPublisher } from './domain-events.ts';
import { POSTBOOK_SERVICE } from './index.ts';

export const postbookSync: PackSync = {
  description:
    'denormalized usernames, display names and avatars (posts, comments, likes, shares, chat, notifications, friend requests)',
  async open({ mongo, postgres, kafkaBrokers, amqpUrl }) {
    // Auth's database holds the usernames.
    const auth = postgres[POSTBOOK_SERVICE];
    if (!auth)
      throw new TributaryError(`the postbook sync reads usernames from its "${POSTBOOK_SERVICE}" database`);
    const publishers: EventPublisher[] = [];
    let producer: Producer | undefined;
    if (kafkaBrokers && kafkaBrokers.length > 0) {
      producer = idempotentProducer(new Kafka({ brokers: [...kafkaBrokers], logLevel: logLevel.NOTHING }));
      await producer.connect();
      publishers.push(kafkaPublisher(producer));
    }
    const rabbit = amqpUrl ? await amqpPublisher(amqpUrl) : undefined;
    if (rabbit) publishers.push(rabbit.publish);
    const denormalizer = new Denormalizer(
      mongo,
      publishers.length > 0 ? { publish: allOf(publishers), auth } : undefined,
    );
    return {
      follow: async (changes) => void (await denormalizer.applyChanges(changes)),
      reconcile: () => denormalizer.reconcile(auth),
      verify: () => denormalizer.verify(auth),
      close: async () => {
        await producer?.disconnect();
        await rabbit?.close();
      },
    };
  },
};
