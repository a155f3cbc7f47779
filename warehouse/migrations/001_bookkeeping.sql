-- Tributary's own bookkeeping: applied migrations, capture checkpoints and dead letters.

-- (Applied migrations are recorded in tributary.migrations, made by the runner itself: see
-- warehouse/bookkeeping.ts.)

-- One row per capture stream (a Postgres slot, a Kafka partition, a Mongo collection): the write
-- intent of the batch being landed, so a restart can rebuild exactly that batch and let insert
-- deduplication drop what already landed.
CREATE TABLE IF NOT EXISTS _tributary_checkpoints
(
    pipeline String,
    stream String,
    state String,
    updated_at DateTime64(6, 'UTC'),
    revision UInt64
)
ENGINE = ReplacingMergeTree(revision)
ORDER BY (pipeline, stream);

CREATE TABLE IF NOT EXISTS dead_letters
(
    id UUID DEFAULT generateUUIDv4(),
    pipeline String,
    source String,
    topic String,
    partition Int32,
    offset Int64,
    position String,
    key Nullable(String),
    original String,
    error String,
    stage String,
    failed_at DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = MergeTree
ORDER BY (pipeline, failed_at, id);
