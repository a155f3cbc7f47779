-- The Overview's WAU and MAU narrowed to a segment, from counts instead of bitmaps: per day and
-- segment cell, how many of the day's active users were last active 1…27 days before. A window's
-- distinct users are the users of its days who were not active earlier in it (README, "Marts").
-- Filled by the next transform run: FACTS_LAYOUT 5 makes it a full one.
ALTER TABLE agg_daily_segments ADD COLUMN IF NOT EXISTS returning_users Array(UInt64)
  COMMENT 'Element g (1…27): the cell''s users active on the day whose previous active day was g days before it; the rest of active_users had no activity in the 27 days before.'
  AFTER new_users;

ALTER TABLE tributary.stage_agg_daily_segments ADD COLUMN IF NOT EXISTS returning_users Array(UInt64)
  COMMENT 'Element g (1…27): the cell''s users active on the day whose previous active day was g days before it; the rest of active_users had no activity in the 27 days before.'
  AFTER new_users;
