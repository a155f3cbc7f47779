-- Canonical facts (DESIGN §4) and the marts analysts, dashboards and report jobs read (§5).
-- Facts carry `source_key` (the source row or document they come from) so a changed or deleted
-- source row replaces exactly its facts; marts are recomputed per (pack, day) partition.

CREATE TABLE IF NOT EXISTS fact_activity (
  pack LowCardinality(String),
  source_key String,
  user_id String,
  ts DateTime64(3, 'UTC'),
  day Date,
  event_type LowCardinality(String),
  content_id String,
  content_type LowCardinality(String),
  session_id String,
  duration_s Int64,
  score Nullable(Int64),
  max_score Nullable(Int64),
  is_completion UInt8,
  value Int64,
  source_position String
) ENGINE = MergeTree ORDER BY (pack, day, user_id, source_key);

-- One row per (event, experiment) an exposure was recorded on; fact_exposures keeps the first.
CREATE TABLE IF NOT EXISTS fact_exposure_events (
  pack LowCardinality(String),
  source_key String,
  experiment LowCardinality(String),
  variant LowCardinality(String),
  user_id String,
  exposed_at DateTime64(3, 'UTC')
) ENGINE = MergeTree ORDER BY (pack, experiment, user_id, source_key);

CREATE VIEW IF NOT EXISTS fact_exposures AS
SELECT experiment, argMin(variant, exposed_at) AS variant, user_id, min(exposed_at) AS first_exposed_at, pack
FROM fact_exposure_events
GROUP BY pack, experiment, user_id;

-- Ratings and reviews (DESIGN's fact_outcomes for the learning pack).
CREATE TABLE IF NOT EXISTS fact_ratings (
  pack LowCardinality(String),
  source_key String,
  user_id String,
  content_id String,
  content_type LowCardinality(String),
  day Date,
  rating Int64
) ENGINE = MergeTree ORDER BY (pack, day, content_id, source_key);

CREATE TABLE IF NOT EXISTS dim_users (
  user_id String,
  pack LowCardinality(String),
  signup_at DateTime64(3, 'UTC'),
  country String,
  timezone String,
  status String
) ENGINE = MergeTree ORDER BY (pack, user_id);

CREATE TABLE IF NOT EXISTS dim_content (
  content_id String,
  pack LowCardinality(String),
  content_type LowCardinality(String),
  title String,
  created_at Nullable(DateTime64(3, 'UTC'))
) ENGINE = MergeTree ORDER BY (pack, content_type, content_id);

CREATE TABLE IF NOT EXISTS mart_daily_user_metrics (
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
) ENGINE = MergeTree ORDER BY (pack, day, user_id);

CREATE TABLE IF NOT EXISTS mart_dau (
  pack LowCardinality(String),
  day Date,
  dau UInt64,
  wau UInt64,
  mau UInt64,
  stickiness Float64
) ENGINE = MergeTree ORDER BY (pack, day);

CREATE TABLE IF NOT EXISTS mart_content_performance (
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
) ENGINE = MergeTree ORDER BY (pack, day, content_id);

CREATE TABLE IF NOT EXISTS mart_retention (
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
) ENGINE = MergeTree ORDER BY (pack, cohort_kind, grain, cohort_start, period);

CREATE TABLE IF NOT EXISTS mart_ab_results (
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
) ENGINE = MergeTree ORDER BY (pack, experiment, metric, variant);

-- Work table of an incremental transform run: the source keys whose mirrors changed.
CREATE TABLE IF NOT EXISTS _tributary_changed_keys (source_key String) ENGINE = MergeTree ORDER BY source_key;
