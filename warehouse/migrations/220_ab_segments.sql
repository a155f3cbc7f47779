-- A/B results narrowed to a segment (the dashboards' Experiments page with a country, platform or
-- signup-month filter) add up these per-cell sums instead of scanning every exposed user on request:
-- per experiment, variant and segment cell, the counts and sums mart_ab_results' statistics are
-- computed from, as of the last transform run (its newest fact decides whose window is over).
-- Rewritten whole with mart_ab_results by every run.
CREATE TABLE IF NOT EXISTS agg_ab_segments (
  pack LowCardinality(String) COMMENT 'The source pack (product).',
  experiment LowCardinality(String) COMMENT 'The experiment.',
  variant LowCardinality(String) COMMENT 'The variant.',
  country String COMMENT 'The users'' country (dim_users.country), empty when unknown or the user is not in dim_users.',
  signup_month String COMMENT 'The users'' signup month, YYYY-MM; empty when the user is not in dim_users.',
  platform String COMMENT 'The users'' platform (dim_users.platform), empty when unknown or the user is not in dim_users.',
  exposed UInt64 COMMENT 'Exposed users of the cell, window over or not (the sample-ratio test''s counts).',
  n UInt64 COMMENT 'Exposed users of the cell whose window is over: the ones the sums cover.',
  converted_sy Float64 COMMENT 'Σy of agg_ab_users.converted over the users whose window is over (y after exposure, x before).',
  converted_syy Float64 COMMENT 'Σy² of agg_ab_users.converted over the users whose window is over (y after exposure, x before).',
  converted_sx Float64 COMMENT 'Σx of agg_ab_users.converted over the users whose window is over (y after exposure, x before).',
  converted_sxx Float64 COMMENT 'Σx² of agg_ab_users.converted over the users whose window is over (y after exposure, x before).',
  converted_sxy Float64 COMMENT 'Σxy of agg_ab_users.converted over the users whose window is over (y after exposure, x before).',
  active_days_sy Float64 COMMENT 'Σy of agg_ab_users.active_days over the users whose window is over (y after exposure, x before).',
  active_days_syy Float64 COMMENT 'Σy² of agg_ab_users.active_days over the users whose window is over (y after exposure, x before).',
  active_days_sx Float64 COMMENT 'Σx of agg_ab_users.active_days over the users whose window is over (y after exposure, x before).',
  active_days_sxx Float64 COMMENT 'Σx² of agg_ab_users.active_days over the users whose window is over (y after exposure, x before).',
  active_days_sxy Float64 COMMENT 'Σxy of agg_ab_users.active_days over the users whose window is over (y after exposure, x before).',
  events_sy Float64 COMMENT 'Σy of agg_ab_users.events over the users whose window is over (y after exposure, x before).',
  events_syy Float64 COMMENT 'Σy² of agg_ab_users.events over the users whose window is over (y after exposure, x before).',
  events_sx Float64 COMMENT 'Σx of agg_ab_users.events over the users whose window is over (y after exposure, x before).',
  events_sxx Float64 COMMENT 'Σx² of agg_ab_users.events over the users whose window is over (y after exposure, x before).',
  events_sxy Float64 COMMENT 'Σxy of agg_ab_users.events over the users whose window is over (y after exposure, x before).',
  value_sy Float64 COMMENT 'Σy of agg_ab_users.value over the users whose window is over (y after exposure, x before).',
  value_syy Float64 COMMENT 'Σy² of agg_ab_users.value over the users whose window is over (y after exposure, x before).',
  value_sx Float64 COMMENT 'Σx of agg_ab_users.value over the users whose window is over (y after exposure, x before).',
  value_sxx Float64 COMMENT 'Σx² of agg_ab_users.value over the users whose window is over (y after exposure, x before).',
  value_sxy Float64 COMMENT 'Σxy of agg_ab_users.value over the users whose window is over (y after exposure, x before).'
) ENGINE = MergeTree PARTITION BY (pack, experiment) ORDER BY (pack, experiment, variant, country, signup_month, platform)
COMMENT 'Per pack, experiment, variant, country, signup month and platform: exposed users and the per-metric sums of agg_ab_users, so that a segment''s A/B results add up a few cells.';

CREATE TABLE IF NOT EXISTS tributary.stage_agg_ab_segments AS agg_ab_segments;
