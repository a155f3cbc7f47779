-- Incremental retention, unbounded counts. A kept count is corrected by the users whose last active
-- day moved (last_active: the users whose last active day is this one), grouped by cohort and by
-- their last day before and after: plain counts, where the correction bitmaps this replaces
-- (active_from_added/_removed) were copied into every cell they corrected. The kept days are
-- dropped, so the next run recomputes every cell once.
TRUNCATE TABLE IF EXISTS agg_retention_days;
ALTER TABLE agg_retention_days DROP COLUMN IF EXISTS active_from_added, DROP COLUMN IF EXISTS active_from_removed,
  ADD COLUMN IF NOT EXISTS last_active AggregateFunction(groupBitmap, UInt32);
TRUNCATE TABLE IF EXISTS _tributary_stage_agg_retention_days;
ALTER TABLE _tributary_stage_agg_retention_days DROP COLUMN IF EXISTS active_from_added,
  DROP COLUMN IF EXISTS active_from_removed, ADD COLUMN IF NOT EXISTS last_active AggregateFunction(groupBitmap, UInt32);

-- Work table of a run: per cohort and period start, how many members joined "active from the
-- start on" less how many left it.
CREATE TABLE IF NOT EXISTS _tributary_retention_corrections (
  pack LowCardinality(String),
  cohort_kind LowCardinality(String),
  grain LowCardinality(String),
  cohort_start Date,
  period_start Date,
  delta Int64
) ENGINE = MergeTree PARTITION BY pack ORDER BY (pack, cohort_kind, grain, cohort_start, period_start);
