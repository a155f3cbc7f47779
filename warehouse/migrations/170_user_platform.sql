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
