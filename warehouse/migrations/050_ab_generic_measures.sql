-- A/B metrics are named by each pack (PackMapping.abMetrics) after the generic per-user measures
-- kept here: the learning pack's completed_lesson_7d is `converted`, active_days_7d `active_days`,
-- events_7d `events`; `value` (the facts' value summed: revenue, XP) is new. The transform state's
-- layout is raised with this, so the next run rebuilds the table whole and `value` is filled.
ALTER TABLE agg_ab_users
  RENAME COLUMN IF EXISTS completed_lesson_7d_y TO converted_y,
  RENAME COLUMN IF EXISTS completed_lesson_7d_x TO converted_x,
  RENAME COLUMN IF EXISTS active_days_7d_y TO active_days_y,
  RENAME COLUMN IF EXISTS active_days_7d_x TO active_days_x,
  RENAME COLUMN IF EXISTS events_7d_y TO events_y,
  RENAME COLUMN IF EXISTS events_7d_x TO events_x,
  ADD COLUMN IF NOT EXISTS value_y Float64,
  ADD COLUMN IF NOT EXISTS value_x Float64;
ALTER TABLE _tributary_stage_agg_ab_users
  RENAME COLUMN IF EXISTS completed_lesson_7d_y TO converted_y,
  RENAME COLUMN IF EXISTS completed_lesson_7d_x TO converted_x,
  RENAME COLUMN IF EXISTS active_days_7d_y TO active_days_y,
  RENAME COLUMN IF EXISTS active_days_7d_x TO active_days_x,
  RENAME COLUMN IF EXISTS events_7d_y TO events_y,
  RENAME COLUMN IF EXISTS events_7d_x TO events_x,
  ADD COLUMN IF NOT EXISTS value_y Float64,
  ADD COLUMN IF NOT EXISTS value_x Float64;
