// The Node Kafka clients' own ceilings: each reads a whole topic from the start in a fresh consumer
// group and parses every value as JSON (the least a worker does per message), with no warehouse.
// kafkajs is the worker's client; @platformatic/kafka is a maintained alternative, measured in the
// same run to tell whether the client is the worker's bottleneck. Rates are messages/s from the
// first message to the last, so group joins do not count.
import { Consumer, MessagesStreamModes } from '@platformatic/kafka';
import { Kafka, logLevel } from 'kafkajs';

export interface ClientRate {
  messages: number;
  perSecond: number;
}

const rate = (messages: number, firstAt: number, lastAt: number): ClientRate => ({
  messages,
  perSecond: messages / Math.max(0.001, (lastAt - firstAt) / 1000),
});

export async function kafkajsConsumeRate(
  brokers: string,
  topic: string,
  expected: number,
): Promise<ClientRate> {
  const consumer = new Kafka({
    clientId: 'bench-kafkajs',
    brokers: [brokers],
    logLevel: logLevel.NOTHING,
  }).consumer({
    groupId: `bench-kafkajs-${Date.now()}`,
    // The worker's fetch sizes.
    maxBytes: 64 * 1024 * 1024,
    maxBytesPerPartition: 8 * 1024 * 1024,
  });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  let messages = 0;
  let firstAt = 0;
  let lastAt = 0;
  await new Promise<void>((resolve) => {
    void consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        firstAt ||= performance.now();
        for (const message of batch.messages) if (message.value) JSON.parse(message.value.toString('utf8'));
        messages += batch.messages.length;
        lastAt = performance.now();
        if (messages >= expected) resolve();
      },
    });
  });
  await consumer.disconnect();
  return rate(messages, firstAt, lastAt);
}

export async function platformaticConsumeRate(
  brokers: string,
  topic: string,
  expected: number,
): Promise<ClientRate> {
  const consumer = new Consumer({
    clientId: 'bench-platformatic',
    groupId: `bench-platformatic-${Date.now()}`,
    bootstrapBrokers: [brokers],
    maxBytes: 64 * 1024 * 1024,
    maxBytesPerPartition: 8 * 1024 * 1024,
  });
  const stream = await consumer.consume({
    topics: [topic],
    mode: MessagesStreamModes.EARLIEST,
    autocommit: false,
  });
  let messages = 0;
  let firstAt = 0;
  let lastAt = 0;
  for await (const message of stream) {
    firstAt ||= performance.now();
    if (message.value) JSON.parse(message.value.toString('utf8'));
    messages += 1;
    lastAt = performance.now();
    if (messages >= expected) break;
  }
  await stream.close();
  await consumer.close(true);
  return rate(messages, firstAt, lastAt);
}
