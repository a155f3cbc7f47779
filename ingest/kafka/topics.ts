// Topics Tributary itself owns on a Kafka cluster.

/** Every event a worker or capture could not decode or store, with the reason. */
export const DEAD_LETTER_TOPIC = 'tributary.dlq';
