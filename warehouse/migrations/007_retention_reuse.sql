-- Incremental retention. What a run computed is kept for the next one: per day, the active users,
-- everyone active from the day on, and the day's first-activity cohort (agg_retention_days, which
-- replaces the work table of the window passes); and each cohort's members (agg_retention_cohorts).
-- A cell of a cohort whose members are the same keeps its retained count when no changed day lies
-- in its period, and corrects its unbounded count by the users who joined or left "active from the
-- period's start on" (small bitmaps) instead of intersecting the cohort with all of them.
DROP TABLE IF EXISTS _tributary_retention_days;

CREATE TABLE IF NOT EXISTS agg_retention_days (
  pack LowCardinality(String),
  day Date,
  users AggregateFunction(groupBitmap, UInt32),
  active_from AggregateFunction(groupBitmap, UInt32),
  first_active AggregateFunction(groupBitmap, UInt32),
  -- How active_from changed from the run before: users who joined it, and users who left it.
  active_from_added AggregateFunction(groupBitmap, UInt32),
  active_from_removed AggregateFunction(groupBitmap, UInt32)
) ENGINE = MergeTree PARTITION BY pack ORDER BY (pack, day);

-- Each retention cohort's members (user keys), as of the run that wrote mart_retention.
CREATE TABLE IF NOT EXISTS agg_retention_cohorts (
  pack LowCardinality(String),
  cohort_kind LowCardinality(String),
  grain LowCardinality(String),
  cohort_start Date,
  members AggregateFunction(groupBitmap, UInt32)
) ENGINE = MergeTree PARTITION BY pack ORDER BY (pack, cohort_kind, grain, cohort_start);

CREATE TABLE IF NOT EXISTS _tributary_stage_agg_retention_days AS agg_retention_days;
CREATE TABLE IF NOT EXISTS _tributary_stage_agg_retention_cohorts AS agg_retention_cohorts;
