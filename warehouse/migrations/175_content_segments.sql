-- The Content pages narrowed to a segment (issue 14) read the mart's counts per segment cell and add
-- them up, instead of every fact of the segment's users (p95 481 ms at 1M facts when read from them).
CREATE TABLE IF NOT EXISTS agg_content_segments (
  pack LowCardinality(String) COMMENT 'The source pack (product).',
  day Date COMMENT 'The UTC calendar day.',
  content_id String COMMENT 'The content item, as the source identifies it.',
  content_type LowCardinality(String) COMMENT 'The kind of content_id (lesson, paragraph, post, product…).',
  country String COMMENT 'The users'' country (dim_users.country), empty when unknown or the user is not in dim_users.',
  platform String COMMENT 'The users'' platform (dim_users.platform), empty when unknown or the user is not in dim_users.',
  signup_month String COMMENT 'The users'' signup month, YYYY-MM; empty when the user is not in dim_users.',
  unique_users UInt64 COMMENT 'Distinct users of the cell with an event on the item that day.',
  bounces UInt64 COMMENT 'Of those, users with exactly one event on the item that day.',
  views UInt64 COMMENT 'The cell''s view events on the item (the pack''s view event types).',
  completions UInt64 COMMENT 'The cell''s completion events on the item.',
  seconds Int64 COMMENT 'Seconds the cell''s users spent on the item (fact_activity.duration_s summed).',
  score_sum Int64 COMMENT 'Sum of the cell''s scores on the item.',
  scored UInt64 COMMENT 'Scored events of the cell on the item.',
  starters UInt64 COMMENT 'The cell''s users who started or completed the item that day.',
  completers UInt64 COMMENT 'The cell''s users who completed the item that day.',
  scorers UInt64 COMMENT 'The cell''s users with a scored attempt that day.',
  passers UInt64 COMMENT 'The cell''s users with a scored attempt at 70% of the maximum or more that day.',
  rating_count UInt64 COMMENT 'Ratings the cell''s users gave the item that day.',
  rating_sum Float64 COMMENT 'Sum of those ratings (a Float64, as agg_content_weekly''s, so that both add up together).'
) ENGINE = MergeTree PARTITION BY (pack, day) ORDER BY (pack, country, platform, signup_month, content_id)
COMMENT 'Per pack, UTC day, content item and segment cell (country, platform, signup month): mart_content_performance''s counts for the cell''s users. A segment''s figures add the cells up; its rates are ratios of the sums, with the mart''s rules. Recomputed for the days whose facts changed and the days of users whose segment changed.';

CREATE TABLE IF NOT EXISTS tributary.stage_agg_content_segments AS agg_content_segments;
