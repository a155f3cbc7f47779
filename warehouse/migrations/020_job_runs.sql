-- Scheduled job runs: one row per attempt, rewritten as it moves from running to its outcome
-- (the row with the highest revision wins). Queryable history; the scheduler reads it on start to
-- find missed and interrupted runs.
CREATE TABLE IF NOT EXISTS job_runs (
  run_id String,
  job LowCardinality(String),
  kind LowCardinality(String),
  scheduled_for DateTime64(3, 'UTC'),
  started_at Nullable(DateTime64(3, 'UTC')),
  finished_at Nullable(DateTime64(3, 'UTC')),
  status LowCardinality(String),
  attempt UInt16,
  will_retry UInt8,
  rows_affected UInt64,
  error String,
  host String,
  revision UInt64
) ENGINE = ReplacingMergeTree(revision) ORDER BY (job, scheduled_for, run_id);

-- What each write-back target last wrote per natural key: the content hash of the owned fields,
-- so an unchanged document is not written again.
CREATE TABLE IF NOT EXISTS writeback_state (
  target LowCardinality(String),
  natural_key String,
  content_hash UInt64,
  written_at DateTime64(3, 'UTC')
) ENGINE = ReplacingMergeTree(written_at) ORDER BY (target, natural_key);
