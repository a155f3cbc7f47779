-- A snapshot that reaches the warehouse in parts (the native capture onto Kafka: one marker per
-- partition of a table's topic, after that partition's snapshot rows). Each part that landed is
-- recorded here, and the rows the snapshot did not see are retracted only once every part has:
-- before that, a row of a partition still behind would look unseen.
CREATE TABLE IF NOT EXISTS tributary.snapshot_parts (
  mirror String COMMENT 'The raw mirror the snapshot filled (database.table).',
  version UInt64 COMMENT 'The snapshot rows'' _version.',
  part String COMMENT 'Which part landed (a Kafka partition number).',
  parts UInt32 COMMENT 'How many parts the snapshot was published in.',
  recorded_at DateTime64(3, 'UTC') DEFAULT now64(3, 'UTC')
) ENGINE = ReplacingMergeTree ORDER BY (mirror, version, part)
COMMENT 'Parts of snapshots landed in parts; rows a snapshot did not see are retracted once all its parts are here.';
