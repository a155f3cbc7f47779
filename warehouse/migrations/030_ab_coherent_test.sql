-- One coherent A/B test per row: the relative test's p-value and interval (p_value, ci_low/high),
-- its sequential twin (msprt_p_value with the confidence sequence seq_ci_low/high), the p-value the
-- decision rests on after Holm's adjustment over the metrics, which test that was, the planned
-- sample per arm when the experiment has one, and the users still needed for the observed effect.
ALTER TABLE mart_ab_results ADD COLUMN IF NOT EXISTS seq_ci_low Nullable(Float64);
ALTER TABLE mart_ab_results ADD COLUMN IF NOT EXISTS seq_ci_high Nullable(Float64);
ALTER TABLE mart_ab_results ADD COLUMN IF NOT EXISTS decision_p_value Nullable(Float64);
ALTER TABLE mart_ab_results ADD COLUMN IF NOT EXISTS decision_basis LowCardinality(String) DEFAULT '';
ALTER TABLE mart_ab_results ADD COLUMN IF NOT EXISTS planned_n Nullable(UInt64);
ALTER TABLE mart_ab_results ADD COLUMN IF NOT EXISTS users_still_needed Nullable(UInt64);
ALTER TABLE _tributary_stage_mart_ab_results ADD COLUMN IF NOT EXISTS seq_ci_low Nullable(Float64);
ALTER TABLE _tributary_stage_mart_ab_results ADD COLUMN IF NOT EXISTS seq_ci_high Nullable(Float64);
ALTER TABLE _tributary_stage_mart_ab_results ADD COLUMN IF NOT EXISTS decision_p_value Nullable(Float64);
ALTER TABLE _tributary_stage_mart_ab_results ADD COLUMN IF NOT EXISTS decision_basis LowCardinality(String) DEFAULT '';
ALTER TABLE _tributary_stage_mart_ab_results ADD COLUMN IF NOT EXISTS planned_n Nullable(UInt64);
ALTER TABLE _tributary_stage_mart_ab_results ADD COLUMN IF NOT EXISTS users_still_needed Nullable(UInt64);
