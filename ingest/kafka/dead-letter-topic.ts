// Dead letters on Kafka (`tributary.dlq`): a message that came over Kafka is kept exactly as it came
// (key, value and headers, byte for byte) with headers saying where it was and why it was set
// aside, so `dlq replay` sends it back to its partition unchanged; a change the native capture
// could not publish is kept as its envelope. The warehouse's dead_letters row shares the id.
import type { Message, Producer } from 'kafkajs';
import type { deadLetterRecords } from '../landing/dead-letters.ts';
import type { DeadLetterCopy } from '../landing/warehouse-sink.ts';
import type { Rejection } from '../landing/types.ts';
import { DEAD_LETTER_HEADERS } from './headers.ts';
import { DEAD_LETTER_TOPIC } from './topics.ts';

type Records = ReturnType<typeof deadLetterRecords>;

export function deadLetterMessages(
  records: Records,
  rejections: readonly Rejection[],
  extraHeaders = {},
): Message[] {
  return records.map((record, index) => {
    const rejection = rejections[index];
    const original = rejection?.original ?? rejection?.change?.original;
    const context = {
      [DEAD_LETTER_HEADERS.id]: record.id,
      [DEAD_LETTER_HEADERS.pipeline]: record.pipeline,
      [DEAD_LETTER_HEADERS.stage]: record.stage,
      [DEAD_LETTER_HEADERS.reason]: record.error,
    };
    if (original)
      return {
        key: original.key,
        value: original.value,
        headers: {
          ...original.headers,
          ...context,
          [DEAD_LETTER_HEADERS.topic]: original.topic,
          [DEAD_LETTER_HEADERS.partition]: String(original.partition),
          [DEAD_LETTER_HEADERS.offset]: original.offset,
        },
      };
    return {
      key: record.source,
      value: rejection?.change ? JSON.stringify(rejection.change.envelope) : record.original,
      headers: { ...extraHeaders, ...context },
    };
  });
}

/** The worker's copy of its dead letters on the dead-letter topic. */
export class DeadLetterTopic implements DeadLetterCopy {
  constructor(private readonly producer: Producer) {}

  async publish(records: Records, rejections: readonly Rejection[]): Promise<void> {
    await this.producer.send({
      topic: DEAD_LETTER_TOPIC,
      acks: -1,
      messages: deadLetterMessages(records, rejections),
    });
  }
}
