-- The online store's record of what it wrote (features/online-store.ts): per pack, Redis store and
-- entity, the digest of the feature vector last written there, so the next materialization writes
-- only entities whose vector changed. `removed` marks entities deleted from the store.
CREATE TABLE IF NOT EXISTS _tributary_online_digests (
  pack LowCardinality(String),
  store String,
  entity_id String,
  digest UInt64,
  removed UInt8,
  written_at DateTime64(3, 'UTC')
) ENGINE = ReplacingMergeTree(written_at) ORDER BY (pack, store, entity_id);
