-- Which days of a pack's day-partitioned mart each rewrite swapped in (replaceDays), numbered per
-- pack and mart in the order they happened: a write-back whose rows come from such a mart compares
-- only the rows of the days rewritten since its last run (its checkpoint holds the last `seq` it
-- took in). `all_days` marks a rewrite of every day (a full rebuild).
CREATE TABLE IF NOT EXISTS tributary.mart_day_rewrites (
  pack LowCardinality(String),
  mart LowCardinality(String),
  seq UInt64,
  all_days UInt8,
  days Array(Date),
  rewritten_at DateTime64(3, 'UTC') DEFAULT now64(3, 'UTC')
) ENGINE = MergeTree ORDER BY (pack, mart, seq);
