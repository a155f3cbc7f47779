-- Partial aggregates behind fast incremental marts.
--
-- Surrogate user keys: a dense 32-bit number per (pack, user_id), assigned when facts are built and
-- never reused. Facts and dim_users carry it, so per-day active-user bitmaps stay small and joins on
-- users compare integers instead of strings. Facts built before this migration have no keys: the
-- transform's state records the facts layout, and a layout change makes the next run a full one.
CREATE TABLE IF NOT EXISTS dim_user_keys (
  pack LowCardinality(String),
  user_id String,
  user_key UInt32
) ENGINE = MergeTree ORDER BY (pack, user_id);

ALTER TABLE fact_activity ADD COLUMN IF NOT EXISTS user_key UInt32;
ALTER TABLE fact_exposure_events ADD COLUMN IF NOT EXISTS user_key UInt32;
ALTER TABLE dim_users ADD COLUMN IF NOT EXISTS user_key UInt32;

DROP VIEW IF EXISTS fact_exposures;
CREATE VIEW fact_exposures AS
SELECT experiment, argMin(variant, exposed_at) AS variant, user_id, min(exposed_at) AS first_exposed_at, pack,
  any(user_key) AS user_key
FROM fact_exposure_events
GROUP BY pack, experiment, user_id;

-- Marts are rewritten a partition at a time: the new rows are written to a staging twin, then each
-- partition is swapped in whole (REPLACE PARTITION), so a reader sees a day's old rows or its new
-- ones, never a mix, and replacing a day costs no mutation of the rest. Daily marts are partitioned
-- by (pack, day); the others by pack (retention) or (pack, experiment) (A/B). They hold derived data
-- only, so they are recreated here and refilled by the next (full) transform run.
DROP TABLE IF EXISTS mart_daily_user_metrics;
CREATE TABLE mart_daily_user_metrics (
  pack LowCardinality(String),
  day Date,
  user_id String,
  events UInt64,
  sessions UInt64,
  active_seconds Int64,
  content_views UInt64,
  completions UInt64,
  score_sum Int64,
  score_count UInt64,
  value Int64
) ENGINE = MergeTree PARTITION BY (pack, day) ORDER BY (pack, day, user_id);

DROP TABLE IF EXISTS mart_dau;
CREATE TABLE mart_dau (
  pack LowCardinality(String),
  day Date,
  dau UInt64,
  wau UInt64,
  mau UInt64,
  stickiness Float64
) ENGINE = MergeTree PARTITION BY (pack, day) ORDER BY (pack, day);

DROP TABLE IF EXISTS mart_content_performance;
CREATE TABLE mart_content_performance (
  pack LowCardinality(String),
  day Date,
  content_id String,
  content_type LowCardinality(String),
  unique_users UInt64,
  views UInt64,
  completions UInt64,
  completion_rate Nullable(Float64),
  avg_time_spent_s Nullable(Float64),
  avg_score Nullable(Float64),
  pass_rate Nullable(Float64),
  bounce_rate Nullable(Float64),
  rating_avg Nullable(Float64),
  rating_count UInt64
) ENGINE = MergeTree PARTITION BY (pack, day) ORDER BY (pack, day, content_id);

DROP TABLE IF EXISTS mart_retention;
CREATE TABLE mart_retention (
  pack LowCardinality(String),
  cohort_kind LowCardinality(String),
  grain LowCardinality(String),
  cohort_start Date,
  cohort_size UInt64,
  period UInt16,
  retained UInt64,
  retention_rate Float64,
  unbounded_retained UInt64,
  unbounded_rate Float64
) ENGINE = MergeTree PARTITION BY pack ORDER BY (pack, cohort_kind, grain, cohort_start, period);

DROP TABLE IF EXISTS mart_ab_results;
CREATE TABLE mart_ab_results (
  pack LowCardinality(String),
  experiment LowCardinality(String),
  variant LowCardinality(String),
  metric LowCardinality(String),
  n UInt64,
  mean Float64,
  variance Float64,
  control_mean Nullable(Float64),
  abs_lift Nullable(Float64),
  rel_lift Nullable(Float64),
  ci_low Nullable(Float64),
  ci_high Nullable(Float64),
  p_value Nullable(Float64),
  cuped_rel_lift Nullable(Float64),
  cuped_ci_low Nullable(Float64),
  cuped_ci_high Nullable(Float64),
  cuped_p_value Nullable(Float64),
  srm_p_value Float64,
  srm_flag UInt8,
  decision LowCardinality(String),
  computed_at DateTime64(3, 'UTC'),
  abs_ci_low Nullable(Float64),
  abs_ci_high Nullable(Float64),
  msprt_p_value Nullable(Float64)
) ENGINE = MergeTree PARTITION BY (pack, experiment) ORDER BY (pack, experiment, metric, variant);

-- Each pack's active users per day, as a bitmap of user keys: DAU/WAU/MAU and every retention
-- cohort and period are unions and intersections of these, not scans of the facts.
CREATE TABLE IF NOT EXISTS agg_daily_active_users (
  pack LowCardinality(String),
  day Date,
  users AggregateFunction(groupBitmap, UInt32)
) ENGINE = MergeTree PARTITION BY (pack, day) ORDER BY (pack, day);

-- Per experiment and exposed user: each A/B metric over the analysis window after the first
-- exposure (_y) and over the same span before it (_x, CUPED's covariate). Partitioned by exposure
-- day: new facts on day d change only the users exposed within a window of d.
CREATE TABLE IF NOT EXISTS agg_ab_users (
  pack LowCardinality(String),
  exposure_day Date,
  experiment LowCardinality(String),
  variant LowCardinality(String),
  user_id String,
  user_key UInt32,
  first_exposed_at DateTime64(3, 'UTC'),
  completed_lesson_7d_y Float64,
  completed_lesson_7d_x Float64,
  active_days_7d_y Float64,
  active_days_7d_x Float64,
  events_7d_y Float64,
  events_7d_x Float64
) ENGINE = MergeTree PARTITION BY (pack, exposure_day) ORDER BY (pack, exposure_day, experiment, user_key);

-- Staging twins (same structure and partitioning) that partition swaps are made from.
CREATE TABLE IF NOT EXISTS _tributary_stage_mart_daily_user_metrics AS mart_daily_user_metrics;
CREATE TABLE IF NOT EXISTS _tributary_stage_mart_dau AS mart_dau;
CREATE TABLE IF NOT EXISTS _tributary_stage_mart_content_performance AS mart_content_performance;
CREATE TABLE IF NOT EXISTS _tributary_stage_mart_retention AS mart_retention;
CREATE TABLE IF NOT EXISTS _tributary_stage_mart_ab_results AS mart_ab_results;
CREATE TABLE IF NOT EXISTS _tributary_stage_agg_daily_active_users AS agg_daily_active_users;
CREATE TABLE IF NOT EXISTS _tributary_stage_agg_ab_users AS agg_ab_users;

-- Retention is computed from the bitmaps now; its per-user work table is gone.
DROP TABLE IF EXISTS _tributary_retention_work;
