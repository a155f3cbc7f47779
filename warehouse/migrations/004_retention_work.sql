-- Work table of a retention recompute: each user's distinct active days and signup day, written
-- once and read by every cohort kind and grain.
CREATE TABLE IF NOT EXISTS _tributary_retention_work (
  user_id String,
  days Array(Date),
  signup_day Nullable(Date)
) ENGINE = MergeTree ORDER BY user_id;
