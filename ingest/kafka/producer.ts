// The one way Tributary makes a Kafka producer.
import type { Kafka, Producer, ProducerConfig } from 'kafkajs';

/**
 * An idempotent producer with one request in flight: a retried send neither duplicates nor
 * reorders. kafkajs answers an error on one partition (a leader not elected yet on a topic made a
 * moment ago, a leader moving) by resending the broker's whole request, so without idempotence the
 * partitions that were already appended get the same messages a second time.
 */
export function idempotentProducer(kafka: Kafka, config: Omit<ProducerConfig, 'idempotent'> = {}): Producer {
  // eslint-disable-next-line no-restricted-syntax -- the one place a producer is made
  return kafka.producer({ ...config, idempotent: true, maxInFlightRequests: 1 });
}
