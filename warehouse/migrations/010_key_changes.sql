-- The row a primary-key change moved away from, as it was just before the change, keyed by the
-- change's source position. A Postgres key change travels as a delete of the old key and a create
-- of the new one, and the create leaves unchanged TOASTed values out; on Kafka the two halves can
-- sit on different partitions, so the create reads the old row's values here. Only needed until
-- both halves landed: kept for 30 days.
CREATE TABLE IF NOT EXISTS _tributary_key_changes
(
    mirror String,
    position UInt64,
    image String,
    recorded_at DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree
ORDER BY (mirror, position)
TTL toDateTime(recorded_at) + INTERVAL 30 DAY;
