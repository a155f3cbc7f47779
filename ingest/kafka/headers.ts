// The Kafka headers Tributary reads and writes besides Debezium's.

/** A header's value as text (kafkajs gives a Buffer, or several for a repeated header: the first). */
export function headerText(value: Buffer | string | (Buffer | string)[] | undefined): string | undefined {
  const first = Array.isArray(value) ? value[0] : value;
  return first === undefined ? undefined : first.toString();
}

/** On a change the native capture published: its PII policy was applied at the source (`PiiPolicy.mark`). */
export const PII_APPLIED_HEADER = 'tributary.pii';

/** On a dead-letter message: where the original came from and why it was set aside. */
export const DEAD_LETTER_HEADERS = {
  id: 'tributary.dlq.id',
  pipeline: 'tributary.dlq.pipeline',
  topic: 'tributary.dlq.topic',
  partition: 'tributary.dlq.partition',
  offset: 'tributary.dlq.offset',
  stage: 'tributary.dlq.stage',
  reason: 'tributary.dlq.reason',
} as const;

const DEAD_LETTER_HEADER_NAMES = new Set<string>(Object.values(DEAD_LETTER_HEADERS));

/** The headers a message had before it was set aside. */
export function withoutDeadLetterHeaders<T>(headers: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.entries(headers).filter(([name]) => !DEAD_LETTER_HEADER_NAMES.has(name)));
}

/**
 * On a change the native capture read with a shape of its own (MySQL's table maps): the digest of
 * that shape, published on the schema topic (`shapeVersionKey`). Its values are encoded for that
 * shape, which the table's newest one may encode otherwise (DATETIME(3) in milliseconds, (6) in µs).
 */
export const SHAPE_HEADER = 'tributary.shape';

/** On a snapshot's end marker (snapshot-marker.ts): the message is not a change. */
export const SNAPSHOT_COMPLETED_HEADER = 'tributary.snapshot-completed';
