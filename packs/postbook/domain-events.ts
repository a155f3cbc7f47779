// The seed's domain events, derived from the captured changes (the apps publish none):
// `UserCreated` when Auth inserts an account, `UserProfileUpdated` when a member's names change
// (after the sync applied it, with the names it now holds), in the seed's JSON shapes. Published to
// a Kafka topic keyed by user id (one member's events stay in order on one partition), and to a
// RabbitMQ topic exchange (routing key = event type) when an AMQP URL is configured.
import type { Channel, ChannelModel } from 'amqplib';
import type { Producer } from 'kafkajs';
import type pg from 'pg';
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

/** An account a captured Auth insert created: its id, commit time and source position. */
export interface CreatedAccount {
  userId: string;
  createdAtMs: number;
  version: bigint;
}

export function createdAccountOf(change: SourceChange): CreatedAccount | undefined {
  const { envelope } = change;
  const table = envelope.source.table ?? envelope.source.collection;
  if (table !== 'users' || envelope.op !== 'c' || typeof envelope.after !== 'object' || !envelope.after)
    return undefined;
  return {
    userId: String(envelope.after.user_id),
    createdAtMs: envelope.source.ts_ms,
    version: BigInt(change.version),
  };
}

/**
 * The UserCreated events of the accounts captured changes created, in their order. The email
 * and names come from Auth itself: the captured values are hashed for the warehouse (PII), and the
 * services consuming these events need the real ones. An account deleted before the sync saw its
 * creation gets no event: there is nobody left to announce.
 */
export async function userCreatedEvents(
  created: readonly CreatedAccount[],
  auth: Pick<pg.ClientBase, 'query'>,
): Promise<DomainEvent[]> {
  if (created.length === 0) return [];
  const { rows } = await auth.query<{
    user_id: string;
    username: string;
    email: string;
    first_name: string;
    last_name: string;
  }>(
    `SELECT user_id::text AS user_id, username, email, first_name, last_name
     FROM users WHERE user_id::text = ANY($1::text[])`,
    [created.map((account) => account.userId)],
  );
  const accounts = new Map(rows.map((row) => [row.user_id, row]));
  return created.flatMap(({ userId, createdAtMs }) => {
    const account = accounts.get(userId);
    if (!account) return [];
    return {
      eventType: 'UserCreated' as const,
      userId,
      username: account.username,
      email: account.email,
      firstName: account.first_name,
      lastName: account.last_name,
      timestamp: new Date(createdAtMs).toISOString(),
    };
  });
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
