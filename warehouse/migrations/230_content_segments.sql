-- The Content leaderboard narrowed to a segment adds up these per-cell counts instead of grouping the
-- segment's facts by user, day and item on request: per day, segment cell and item, the users'
-- daily flags (used, viewed, started, completed, scored, passed, bounced) summed over the cell's users.
-- Ordered by cell within a day, so a filter reads only its cells' rows; small granules, because a
-- day's cell holds a few thousand rows at most. Filled by the next transform run: FACTS_LAYOUT 6
-- makes it a full one.
CREATE TABLE IF NOT EXISTS agg_content_segments (
  pack LowCardinality(String) COMMENT 'The source pack (product).',
  day Date COMMENT 'The UTC calendar day.',
  country LowCardinality(String) COMMENT 'The users'' country (dim_users.country), empty when unknown or the user is not in dim_users.',
  platform LowCardinality(String) COMMENT 'The users'' platform (dim_users.platform), empty when unknown or the user is not in dim_users.',
  signup_month LowCardinality(String) COMMENT 'The users'' signup month, YYYY-MM; empty when the user is not in dim_users.',
  content_key UInt64 COMMENT 'cityHash64(content_id, content_type): a fixed-width key to rank items by, before their ids are read.',
  content_id String COMMENT 'The content; joins dim_content.',
  content_type LowCardinality(String) COMMENT 'The kind of content.',
  user_days UInt32 COMMENT 'Users of the cell who used the item on the day (any fact on it).',
  views UInt32 COMMENT 'View actions of the cell''s users on the item that day.',
  starters UInt32 COMMENT 'Users of the cell who started (or completed) the item that day.',
  completers UInt32 COMMENT 'Users of the cell who completed the item that day.',
  scorers UInt32 COMMENT 'Users of the cell with a scored attempt on the item that day.',
  passers UInt32 COMMENT 'Users of the cell with a passing scored attempt (≥ 70% of the maximum) that day.',
  bounces UInt32 COMMENT 'Users of the cell with exactly one action on the item that day.'
) ENGINE = MergeTree PARTITION BY (pack, day) ORDER BY (pack, day, country, platform, signup_month, content_key)
SETTINGS index_granularity = 1024
COMMENT 'Per pack, UTC day, segment cell (country, platform, signup month) and content: mart_content_performance''s user counts for the cell''s users. A segment''s leaderboard over a range adds up its cells'' rows; ratings come from fact_ratings.';

CREATE TABLE IF NOT EXISTS tributary.stage_agg_content_segments AS agg_content_segments;
