// The warehouse seam: what other folders may use.
export { openWarehouse, parseWarehouseTarget, PARQUET_ROW_GROUPS } from './warehouse.ts';
export type {
  ClickHouseSettings,
  Warehouse,
  WarehouseTarget,
  InsertOptions,
  QueryParams,
  SerializedRows,
  RowBinaryRows,
} from './warehouse.ts';
export { WarehouseError } from './errors.ts';
export { loadMigrations, migrate } from './migrate.ts';
export {
  ensureMirrorTable,
  tombstoneOlderThan,
  completeSnapshotPart,
  readLatestValues,
  readKeyChangeImages,
  recordKeyChangeImages,
  MIRROR_META_COLUMNS,
} from './raw-mirror.ts';
export type { MirrorTable, MirrorColumn, SnapshotPart } from './raw-mirror.ts';
export { quoteIdentifier, quoteString, quoteTable } from './sql.ts';
export { BOOKKEEPING_DATABASE, bookkeepingTable, stagingTable } from './bookkeeping.ts';
export { ONLINE_DIGESTS } from './online-digests.ts';
export {
  ANALYTICS_DATABASE,
  RAW_DATABASE,
  currentStateView,
  historyFeed,
  historyTable,
  layoutTables,
  mirrorKey,
  mirrorTable,
  presentTables,
  rawTableKind,
  splitTable,
} from './layout.ts';
export { CheckpointError, parseCheckpoint, readCheckpoint, writeCheckpoint } from './checkpoints.ts';
export { listDeadLetters, markReplayed, recordDeadLetters } from './dead-letters.ts';
export type { DeadLetter, DeadLetterFilter, StoredDeadLetter } from './dead-letters.ts';
export { openEngineSession, embeddedDirectory, EngineQueryError } from './engine-session.ts';
export type { EngineSession, EngineResult, EngineChunk } from './engine-session.ts';
