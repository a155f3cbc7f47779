-- The counts behind mart_content_performance's rates, so a dashboard or report can add days up
-- (completers / starters over a range, each user counted once per day) instead of averaging rates.
ALTER TABLE mart_content_performance ADD COLUMN IF NOT EXISTS starters UInt64 DEFAULT 0;
ALTER TABLE mart_content_performance ADD COLUMN IF NOT EXISTS completers UInt64 DEFAULT 0;
ALTER TABLE mart_content_performance ADD COLUMN IF NOT EXISTS scorers UInt64 DEFAULT 0;
ALTER TABLE mart_content_performance ADD COLUMN IF NOT EXISTS passers UInt64 DEFAULT 0;
ALTER TABLE _tributary_stage_mart_content_performance ADD COLUMN IF NOT EXISTS starters UInt64 DEFAULT 0;
ALTER TABLE _tributary_stage_mart_content_performance ADD COLUMN IF NOT EXISTS completers UInt64 DEFAULT 0;
ALTER TABLE _tributary_stage_mart_content_performance ADD COLUMN IF NOT EXISTS scorers UInt64 DEFAULT 0;
ALTER TABLE _tributary_stage_mart_content_performance ADD COLUMN IF NOT EXISTS passers UInt64 DEFAULT 0;
