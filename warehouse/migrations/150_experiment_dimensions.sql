-- The experiments' configuration and the A/B metrics' definitions as the transforms last read them
-- from the pack: what mart_ab_results was computed against, for analysts, and what a dashboard
-- needs to compute the same results for a segment of users on request.

CREATE TABLE IF NOT EXISTS dim_experiments (
  pack LowCardinality(String) COMMENT 'The source pack (product).',
  experiment String COMMENT 'The experiment, as fact_exposures names it.',
  variant String COMMENT 'A configured variant; ''control'' is the baseline the others are compared with.',
  share Float64 COMMENT 'The share of exposed users the variant is configured to get (the sample-ratio test''s expectation).',
  planned_n Nullable(UInt64) COMMENT 'Users per variant the experiment planned for; NULL when not configured.',
  window_days UInt16 COMMENT 'Days after a user''s first exposure that count towards the metrics (and as many before it for CUPED).'
) ENGINE = MergeTree ORDER BY (pack, experiment, variant)
COMMENT 'Per pack, experiment and variant: the configured split and plan the A/B results are computed against; rewritten by every transform run.';

CREATE TABLE IF NOT EXISTS dim_ab_metrics (
  pack LowCardinality(String) COMMENT 'The source pack (product).',
  metric String COMMENT 'The metric''s name in mart_ab_results.',
  measure LowCardinality(String) COMMENT 'What it measures per user over the window: converted (0/1: completed anything), active_days, events, or value (the sum of fact_activity.value).'
) ENGINE = MergeTree ORDER BY (pack, metric)
COMMENT 'Per pack: the A/B metrics and the per-user measure each is the mean of; rewritten by every transform run.';
