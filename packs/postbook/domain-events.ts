// The seed's domain events, derived from the captured changes (the apps publish none):
// `UserCreated` when Auth inserts an account, `UserProfileUpdated` when a member's names change
// (after the sync applied it, with the names it now holds), in the seed's JSON shapes. Published to
// a Kafka topic keyed by user id (one member's events stay in order on one partition), and to a
// RabbitMQ topic exchange (routing key = event type) when an AMQP URL is configured.
import type { Channel, ChannelModel } from 'amqplib';
import type { Producer } from 'kafkajs';
import { z } from 'zod';
import type { SourceChange } from '../../ingest/landing/types.ts';

export const userCreatedSchema = z.object({
  eventType: z.literal('UserCreated'),
  userId: z.string(),
  username: z.string(),
  email: z.string(),
  firstName: z.string(),
  lastName: z.string(),
  timestamp: z.iso.datetime(),
});

export const userProfileUpdatedSchema = z.object({
  eventType: z.literal('UserProfileUpdated'),
  userId: z.string(),
  username: z.string(),
  displayName: z.string(),
  avatarUrl: z.string(),
  timestamp: z.iso.datetime(),
});

export const domainEventSchema = z.discriminatedUnion('eventType', [
  userCreatedSchema,
  userProfileUpdatedSchema,
]);
export type DomainEvent = z.infer<typeof domainEventSchema>;

export type EventPublisher = (events: readonly DomainEvent[]) => Promise<void>;

/** The UserCreated event of a captured Auth insert, or undefined. */
export function userCreatedOf(change: SourceChange): DomainEvent | undefined {
  const { envelope } = change;
  const table = envelope.source.table ?? envelope.source.collection;
  if (table !== 'users' || envelope.op !== 'c' || typeof envelope.after !== 'object' || !envelope.after)
    return undefined;
  const row = envelope.after;
  return {
    eventType: 'UserCreated',
    userId: String(row.user_id),
    username: String(row.username),
    email: String(row.email),
    firstName: String(row.first_name),
    lastName: String(row.last_name),
    timestamp: new Date(envelope.source.ts_ms).toISOString(),
  };
}

export const POSTBOOK_EVENTS_TOPIC = 'postbook.user-events';
export const POSTBOOK_EVENTS_EXCHANGE = 'postbook.user-events';

/** Publishes to Kafka, keyed by user id; the producer is the caller's (connected, closed by it). */
export function kafkaPublisher(producer: Producer, topic = POSTBOOK_EVENTS_TOPIC): EventPublisher {
  return async (events) => {
    if (events.length === 0) return;
    await producer.send({
      topic,
      messages: events.map((event) => ({ key: event.userId, value: JSON.stringify(event) })),
    });
  };
}

/** Publishes to a durable topic exchange on RabbitMQ, confirmed; routing key = the event type. */
export async function amqpPublisher(
  url: string,
  exchange = POSTBOOK_EVENTS_EXCHANGE,
): Promise<{ publish: EventPublisher; close(): Promise<void> }> {
  const amqp = await import('amqplib');
  const connection: ChannelModel = await amqp.connect(url);
  const channel: Channel = await connection.createConfirmChannel();
  await channel.assertExchange(exchange, 'topic', { durable: true });
  return {
    publish: async (events) => {
      for (const event of events)
        channel.publish(exchange, event.eventType, Buffer.from(JSON.stringify(event)), {
          contentType: 'application/json',
          persistent: true,
          messageId: `${event.eventType}:${event.userId}:${event.timestamp}`,
        });
      await (channel as unknown as { waitForConfirms(): Promise<void> }).waitForConfirms();
    },
    close: async () => {
      await channel.close();
      await connection.close();
    },
  };
}

/** Several publishers as one (Kafka always, RabbitMQ when configured). */
export function allOf(publishers: readonly EventPublisher[]): EventPublisher {
  return async (events) => {
    for (const publish of publishers) await publish(events);
  };
}
