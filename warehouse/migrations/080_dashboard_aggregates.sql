-- Pre-aggregates the dashboards read instead of summing a day-by-item mart or per-user rows at
-- request time. Both are derived data, maintained incrementally by the transforms like the marts,
-- rewritten a partition at a time through their staging twins.

CREATE TABLE IF NOT EXISTS agg_content_weekly (
  pack LowCardinality(String) COMMENT 'The source pack (product).',
  week Date COMMENT 'The Monday starting the UTC week (Monday–Sunday).',
  content_id String COMMENT 'The content; joins dim_content.',
  content_type LowCardinality(String) COMMENT 'The kind of content.',
  user_days UInt64 COMMENT 'Sum over the week''s days of mart_content_performance.unique_users: a user counts once per day they used the item.',
  views UInt64 COMMENT 'View actions on the content in the week.',
  starters UInt64 COMMENT 'Sum over the week''s days of the users who started (or completed) the content that day.',
  completers UInt64 COMMENT 'Sum over the week''s days of the users who completed the content that day.',
  scorers UInt64 COMMENT 'Sum over the week''s days of the users with a scored attempt that day.',
  passers UInt64 COMMENT 'Sum over the week''s days of the users with a passing scored attempt that day.',
  bounces UInt64 COMMENT 'Sum over the week''s days of the users with exactly one action on the content that day.',
  rating_sum Float64 COMMENT 'Sum of the ratings given to the content in the week.',
  rating_count UInt64 COMMENT 'Ratings given to the content in the week.'
) ENGINE = MergeTree PARTITION BY (pack, week) ORDER BY (pack, week, content_id)
COMMENT 'Per pack, week and content: mart_content_performance''s counts added up over the week, so a leaderboard over a range reads a row per item and week (plus the days of partial weeks at its ends). Rates are ratios of these sums.';

CREATE TABLE IF NOT EXISTS agg_daily_segments (
  pack LowCardinality(String) COMMENT 'The source pack (product).',
  day Date COMMENT 'The UTC calendar day.',
  country String COMMENT 'The users'' country (dim_users.country), empty when unknown or the user is not in dim_users.',
  signup_month String COMMENT 'The users'' signup month, YYYY-MM (the signup-cohort filter); empty when the user is not in dim_users.',
  active_users UInt64 COMMENT 'Distinct users of the segment active on the day (its share of DAU).',
  events UInt64 COMMENT 'fact_activity rows of the segment''s users on the day.',
  new_users UInt64 COMMENT 'Users of the segment who signed up on the day.'
) ENGINE = MergeTree PARTITION BY (pack, day) ORDER BY (pack, day, country, signup_month)
COMMENT 'Per pack, UTC day, country and signup month: active users, events and signups. The Overview''s period summary adds days and segments up from here; distinct users over a period still come from agg_daily_active_users.';

CREATE TABLE IF NOT EXISTS agg_segment_users (
  pack LowCardinality(String) COMMENT 'The source pack (product).',
  user_id String COMMENT 'The user, as the source identifies them.',
  country String COMMENT 'Their country when agg_daily_segments was last computed.',
  signup_day Date COMMENT 'Their signup day (UTC) when agg_daily_segments was last computed.'
) ENGINE = MergeTree PARTITION BY pack ORDER BY (pack, user_id)
COMMENT 'The segment each user of dim_users was counted in by agg_daily_segments: the next run compares it with dim_users and recomputes the days of the users whose country or signup day changed.';

CREATE TABLE IF NOT EXISTS tributary.stage_agg_content_weekly AS agg_content_weekly;
CREATE TABLE IF NOT EXISTS tributary.stage_agg_daily_segments AS agg_daily_segments;
CREATE TABLE IF NOT EXISTS tributary.stage_agg_segment_users AS agg_segment_users;
