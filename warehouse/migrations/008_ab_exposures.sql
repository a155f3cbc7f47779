-- Work table of an agg_ab_users refresh: the first exposures of the exposure days it rewrites, read
-- once from fact_exposures (a view that groups every exposure event of the pack) instead of once
-- per week of days.
CREATE TABLE IF NOT EXISTS _tributary_ab_exposures (
  pack LowCardinality(String),
  exposure_day Date,
  experiment LowCardinality(String),
  variant LowCardinality(String),
  user_id String,
  user_key UInt32,
  first_exposed_at DateTime64(3, 'UTC')
) ENGINE = MergeTree PARTITION BY pack ORDER BY (pack, exposure_day, experiment, user_key);
