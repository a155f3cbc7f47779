-- Work table of a retention recompute: per pack and calendar day, the day's active users, everyone
-- active on the day or later, and the users first active that day, written once per recompute by
-- one pass of window functions and read by every cohort kind and grain.
CREATE TABLE IF NOT EXISTS _tributary_retention_days (
  pack LowCardinality(String),
  day Date,
  users AggregateFunction(groupBitmap, UInt32),
  active_from AggregateFunction(groupBitmap, UInt32),
  first_active AggregateFunction(groupBitmap, UInt32)
) ENGINE = MergeTree ORDER BY (pack, day);
