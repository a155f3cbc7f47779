// The feature stage's seam: typed feature declarations, point-in-time export (Parquet, Arrow, CSV)
// and the Redis online store with its HTTP feature server.
export type {
  ActivityFeature,
  ActivityFilter,
  ActivityMeasure,
  AttributeSource,
  Entity,
  FeatureDefinition,
  FeatureRegistry,
  FeatureType,
  LabelDefinition,
  RatioFeature,
  Window,
} from './registry.ts';
export { ENTITIES, FeatureDefinitionError, registryVersion, validateRegistry } from './registry.ts';
export { arrowSchema, catalogue, selectFeatures } from './catalogue.ts';
export type { CatalogueEntry, Selection } from './catalogue.ts';
export { ensureFeatureHistory, ensureMirrorHistory } from './history.ts';
export {
  dataRange,
  exportFeatures,
  exportOptionsSchema,
  featureRegistries,
  featureRegistryOf,
  FeatureExportError,
} from './export.ts';
export type { ExportOptions, ExportResult } from './export.ts';
export { ENTITIES_PER_PASS } from './passes.ts';
export { readParquetMetadata } from './parquet-metadata.ts';
export { SpineError } from './spine.ts';
export {
  getOnlineFeatures,
  materializeFeatures,
  materializeOptionsSchema,
  materializePack,
} from './online-store.ts';
export { parseRedisTarget, REDIS_PASSWORD_ENV, REDIS_URL_FORM } from './redis-target.ts';
export { connectRedis } from './online-reader.ts';
export type { OnlineVector } from './online-reader.ts';
export { MAX_IDS_PER_REQUEST, startFeatureServer } from './server.ts';
export type { RunningFeatureServer } from './server.ts';
export { dumpFields, vectorRespSql } from './vector-sender.ts';
export { restoreCommands, restoreRowsSql } from './redis-dump.ts';
export type { MaterializeOptions, MaterializeResult, PackMaterialization } from './online-store.ts';
