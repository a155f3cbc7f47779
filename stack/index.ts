// Local services without Docker (Postgres, Kafka, Kafka Connect): what the demo, the tests and
// `tributary stack` start.
export { startEmbeddedPostgres } from './embedded-postgres.ts';
export type { EmbeddedPostgresOptions, RunningPostgres } from './embedded-postgres.ts';
export { findFreePort } from './free-port.ts';
export { StackError } from './errors.ts';
export { ensureStackArtifacts } from './maven-artifacts.ts';
export type { EnsureStackArtifactsOptions, StackArtifacts } from './maven-artifacts.ts';
export { KAFKA_MAX_MESSAGE_BYTES, kafkaAnswers, startKafka } from './kafka.ts';
export type { KafkaOptions, RunningKafka } from './kafka.ts';
export { connectAnswers, DEBEZIUM_CONNECTORS, startKafkaConnect } from './kafka-connect.ts';
export type { KafkaConnectOptions, RunningConnect } from './kafka-connect.ts';
export { mongoAnswers, mongoStandInUrl, startMongoStandIn } from './mongo.ts';
export type { MongoStandInOptions, RunningMongo } from './mongo.ts';
export { MARIADB_PROGRAM, mariaDbAnswers, startMariaDb } from './mariadb.ts';
export type { MariaDbOptions, RunningMariaDb } from './mariadb.ts';
export { isRunning } from './processes.ts';
export { readStackRecord, stackStatus, startDetachedStack, stopDetachedStack } from './detached-stack.ts';
export type { ServiceState, StackRecord, StoppedService } from './detached-stack.ts';
export { redisAnswers, selfSignedCertificate, startRedis } from './redis.ts';
export type { RedisCertificate, RunningRedis } from './redis.ts';
