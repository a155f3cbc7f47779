// The ingest seam: capture from sources into the raw mirrors, and the change-event contract.
export { runPostgresCapture, startPostgresCapture } from './postgres/capture.ts';
export type {
  PostgresCaptureOptions,
  CaptureEvents,
  CaptureResult,
  RunningCapture,
} from './postgres/capture.ts';
export type { TableSelection } from './postgres/catalog.ts';
export { runMongoCapture } from './mongo/capture.ts';
export type {
  CollectionSelection,
  MongoCaptureEvents,
  MongoCaptureOptions,
  MongoCaptureResult,
} from './mongo/capture.ts';
export { redactUrl } from './postgres/catalog.ts';
export { formatLsn } from './postgres/lsn.ts';
export { createPiiPolicy, DEFAULT_DROP_FIELDS, DEFAULT_HASH_FIELDS } from './pii.ts';
export type { PiiPolicy, PiiPolicyOptions } from './pii.ts';
export type { DocumentField, DocumentFieldType } from './source-table.ts';
export { changeEnvelopeSchema, UNAVAILABLE_VALUE } from './envelope.ts';
export type { ChangeEnvelope } from './envelope.ts';
export { CaptureError } from './errors.ts';
export { mirrorTableName } from './source-table.ts';
export { runKafkaWorker } from './kafka/worker.ts';
export { DEAD_LETTER_TOPIC } from './kafka/topics.ts';
export { KafkaSink } from './kafka/kafka-sink.ts';
export { idempotentProducer } from './kafka/producer.ts';
export { WarehouseSink } from './landing/warehouse-sink.ts';
export { TeeSink } from './landing/tee-sink.ts';
export type { LandingBatch, LandingSink } from './landing/sink.ts';
export type { LandingObserver } from './landing/types.ts';
export { BATCH_DEFAULTS } from './landing/follow-stream.ts';
export type { KafkaWorkerOptions, WorkerResult } from './kafka/worker.ts';
export { publishTableSchemas } from './kafka/schema-topic.ts';
export { describeSourceTables } from './postgres/describe-tables.ts';
export { replayDeadLetters } from './kafka/dead-letter-replay.ts';
export { replicationNames } from './postgres/replication-slot.ts';
export {
  checkBinlogCapture,
  connectMysql,
  parseMysqlUrl,
  runMysqlCapture,
  redactMysqlUrl,
} from './mysql/index.ts';
export type { MysqlCaptureOptions, MysqlCaptureResult, MysqlTableSelection } from './mysql/index.ts';
