-- The platform segment (issue 14: country, platform, signup cohort): each user's platform in
-- dim_users, as the pack's mapping derives it from its sources (README: "The platform of a user"),
-- and counted in the Overview's per-segment aggregate like country and signup month.
ALTER TABLE dim_users ADD COLUMN IF NOT EXISTS platform String
  COMMENT 'The platform the user came from (ios, android, web… as the source names it; the pack''s rule is in the README), empty when the source does not say.'
  AFTER country;

ALTER TABLE agg_daily_segments ADD COLUMN IF NOT EXISTS platform String
  COMMENT 'The users'' platform (dim_users.platform), empty when unknown or the user is not in dim_users.'
  AFTER signup_month;

ALTER TABLE tributary.stage_agg_daily_segments ADD COLUMN IF NOT EXISTS platform String
  COMMENT 'The users'' platform (dim_users.platform), empty when unknown or the user is not in dim_users.'
  AFTER signup_month;

ALTER TABLE agg_segment_users ADD COLUMN IF NOT EXISTS platform String
  COMMENT 'Their platform when agg_daily_segments was last computed.';

ALTER TABLE tributary.stage_agg_segment_users ADD COLUMN IF NOT EXISTS platform String
  COMMENT 'Their platform when agg_daily_segments was last computed.';

-- What the pack's mapping calls viewing and starting content: the dashboards narrow the content
-- rates to a segment's users on request with the rule mart_content_performance uses, and a
-- dashboard has the warehouse, not the pack.
CREATE TABLE IF NOT EXISTS dim_content_events (
  pack LowCardinality(String) COMMENT 'The source pack (product).',
  view_event_types Array(String) COMMENT 'fact_activity.event_type values that count as viewing content (mart_content_performance.views).',
  start_event_type String COMMENT 'The fact_activity.event_type that starts content (with a completion, what makes a user a starter).'
) ENGINE = MergeTree ORDER BY pack
COMMENT 'Per pack: the event types mart_content_performance counts as views and starts, as the transforms last read them from the pack; rewritten by every transform run.';
