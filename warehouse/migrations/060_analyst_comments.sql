-- What every fact, dimension and mart holds, in the warehouse itself (system.tables/columns, the
-- SQL endpoint, DBeaver, `tributary docs`): the metric definitions of DESIGN §5, a sentence each.
-- Days are UTC calendar days throughout.
ALTER TABLE fact_activity MODIFY COMMENT 'One row per meaningful user action (lesson completed, exercise answered, post liked, order paid…), mapped from the pack''s mirrors. The input of every activity mart.',
  COMMENT COLUMN pack 'The source pack (product) the action belongs to.',
  COMMENT COLUMN source_key 'The source row or document the fact was mapped from (`table:key`): a fact is rewritten when its source row changes.',
  COMMENT COLUMN user_id 'The acting user, as the source identifies them.',
  COMMENT COLUMN ts 'When the action happened (UTC, milliseconds).',
  COMMENT COLUMN day 'The UTC calendar day of ts.',
  COMMENT COLUMN event_type 'What the user did, in the pack''s vocabulary (e.g. lesson_complete, exercise_attempt, order_paid).',
  COMMENT COLUMN content_id 'The content acted on (lesson, post, product…), empty when none; joins dim_content.',
  COMMENT COLUMN content_type 'The kind of content_id (lesson, paragraph, post, product…).',
  COMMENT COLUMN session_id 'The session the source recorded the action in; empty when it records none.',
  COMMENT COLUMN duration_s 'Seconds the action took, 0 when the source does not say.',
  COMMENT COLUMN score 'The score obtained, for scored actions; NULL otherwise.',
  COMMENT COLUMN max_score 'The highest possible score, for scored actions; NULL otherwise.',
  COMMENT COLUMN is_completion '1 when the action completes its content (lesson completed, order paid).',
  COMMENT COLUMN value 'The pack''s value of the action: XP for learning products, revenue in minor currency units for shops.',
  COMMENT COLUMN source_position 'The source position (LSN, binlog offset, resume token) of the version mapped.',
  COMMENT COLUMN user_key 'A dense integer per (pack, user_id) (dim_user_keys), for bitmaps; not meaningful outside the warehouse.';

ALTER TABLE fact_exposure_events MODIFY COMMENT 'Every time a user was shown a variant of an experiment. fact_exposures keeps the first per user and experiment.',
  COMMENT COLUMN pack 'The source pack (product).',
  COMMENT COLUMN source_key 'The source row or document the exposure was mapped from.',
  COMMENT COLUMN experiment 'The experiment''s name.',
  COMMENT COLUMN variant 'The variant shown (control is the baseline).',
  COMMENT COLUMN user_id 'The exposed user.',
  COMMENT COLUMN exposed_at 'When the variant was shown (UTC).',
  COMMENT COLUMN user_key 'A dense integer per (pack, user_id), for bitmaps.';

CREATE OR REPLACE VIEW fact_exposures (
  experiment LowCardinality(String) COMMENT 'The experiment''s name.',
  variant String COMMENT 'The variant of the user''s first exposure: the one they are analysed in.',
  user_id String COMMENT 'The exposed user.',
  first_exposed_at DateTime64(3, 'UTC') COMMENT 'The first exposure (UTC): the analysis window starts here.',
  pack LowCardinality(String) COMMENT 'The source pack (product).',
  user_key UInt32 COMMENT 'A dense integer per (pack, user_id), for bitmaps.'
) AS
SELECT experiment, argMin(variant, exposed_at) AS variant, user_id, min(exposed_at) AS first_exposed_at, pack,
  any(user_key) AS user_key
FROM fact_exposure_events
GROUP BY pack, experiment, user_id
COMMENT 'The first exposure of each user to each experiment (DESIGN §5: exposure = first exposure).';

ALTER TABLE fact_ratings MODIFY COMMENT 'One row per rating a user gave a piece of content (reviews), mapped from the pack''s mirrors.',
  COMMENT COLUMN pack 'The source pack (product).',
  COMMENT COLUMN source_key 'The source row or document the rating was mapped from.',
  COMMENT COLUMN user_id 'The user who rated.',
  COMMENT COLUMN content_id 'The content rated; joins dim_content.',
  COMMENT COLUMN content_type 'The kind of content rated.',
  COMMENT COLUMN day 'The UTC day the rating was given.',
  COMMENT COLUMN rating 'The rating, on the source''s scale (1–5 in every pack so far).';

ALTER TABLE dim_users MODIFY COMMENT 'Every live user of each pack, rebuilt whole by every transform run from the pack''s user tables.',
  COMMENT COLUMN user_id 'The user, as the source identifies them.',
  COMMENT COLUMN pack 'The source pack (product).',
  COMMENT COLUMN signup_at 'When the account was created (UTC): the signup cohort.',
  COMMENT COLUMN country 'The user''s country (ISO code as the source keeps it), empty when unknown.',
  COMMENT COLUMN timezone 'The user''s IANA time zone, empty when unknown; streaks are counted in it.',
  COMMENT COLUMN status 'The account''s status in the source (active, suspended…).',
  COMMENT COLUMN user_key 'A dense integer per (pack, user_id), for bitmaps.';

ALTER TABLE dim_user_keys MODIFY COMMENT 'The dense integer given to each (pack, user_id), once, for bitmap aggregates. Internal to the marts.',
  COMMENT COLUMN pack 'The source pack (product).',
  COMMENT COLUMN user_id 'The user, as the source identifies them.',
  COMMENT COLUMN user_key 'The integer; never reused.';

ALTER TABLE dim_content MODIFY COMMENT 'Every live piece of content of each pack (lessons, posts, products…), rebuilt whole by every transform run.',
  COMMENT COLUMN content_id 'The content, as the source identifies it.',
  COMMENT COLUMN pack 'The source pack (product).',
  COMMENT COLUMN content_type 'The kind of content (lesson, paragraph, word, post, product…).',
  COMMENT COLUMN title 'Its title (or the first 80 characters of its text).',
  COMMENT COLUMN created_at 'When it was created (UTC), NULL when the source does not say.';

ALTER TABLE mart_daily_user_metrics MODIFY COMMENT 'Per pack, UTC day and active user: what they did that day. A user appears on a day only when they have at least one fact_activity row on it.',
  COMMENT COLUMN pack 'The source pack (product).',
  COMMENT COLUMN day 'The UTC calendar day.',
  COMMENT COLUMN user_id 'The user.',
  COMMENT COLUMN events 'fact_activity rows of the user on the day.',
  COMMENT COLUMN sessions 'Distinct non-empty session ids of the user on the day.',
  COMMENT COLUMN active_seconds 'Sum of duration_s of the user''s actions on the day.',
  COMMENT COLUMN content_views 'Distinct content the user viewed on the day (the pack''s view event types).',
  COMMENT COLUMN completions 'Actions completing content (is_completion = 1) on the day.',
  COMMENT COLUMN score_sum 'Sum of the scores of the user''s scored actions on the day; average = score_sum / score_count.',
  COMMENT COLUMN score_count 'Scored actions of the user on the day.',
  COMMENT COLUMN value 'Sum of the pack''s value (XP, revenue in minor units) of the user''s actions on the day.';

ALTER TABLE mart_dau MODIFY COMMENT 'Per pack and UTC day, from the first to the last day with activity: active users (≥ 1 fact_activity row) on the day and in the windows ending on it.',
  COMMENT COLUMN pack 'The source pack (product).',
  COMMENT COLUMN day 'The UTC calendar day the windows end on.',
  COMMENT COLUMN dau 'Distinct users active on the day.',
  COMMENT COLUMN wau 'Distinct users active in the 7 days ending on the day.',
  COMMENT COLUMN mau 'Distinct users active in the 28 days ending on the day.',
  COMMENT COLUMN stickiness 'dau / mau, in [0, 1]; 0 when mau is 0.';

ALTER TABLE mart_content_performance MODIFY COMMENT 'Per pack, UTC day and content: how it was used that day. Rates are over distinct users, so they stay in [0, 1]; add days up with the counts (completers / starters), never by averaging rates.',
  COMMENT COLUMN pack 'The source pack (product).',
  COMMENT COLUMN day 'The UTC calendar day.',
  COMMENT COLUMN content_id 'The content; joins dim_content.',
  COMMENT COLUMN content_type 'The kind of content.',
  COMMENT COLUMN unique_users 'Distinct users with any action on the content that day.',
  COMMENT COLUMN views 'View actions (the pack''s view event types) on the content that day.',
  COMMENT COLUMN completions 'Completing actions on the content that day (events, not users).',
  COMMENT COLUMN completion_rate 'completers / starters; NULL when nobody started it that day.',
  COMMENT COLUMN avg_time_spent_s 'Seconds spent on the content per user that day (sum of duration_s / unique_users).',
  COMMENT COLUMN avg_score 'Average score of the scored actions on the content that day; NULL when none.',
  COMMENT COLUMN pass_rate 'passers / scorers; NULL when nobody had a scored attempt that day.',
  COMMENT COLUMN bounce_rate 'Users with exactly one action on the content that day / unique_users.',
  COMMENT COLUMN rating_avg 'Average of the ratings given to the content that day; NULL when none.',
  COMMENT COLUMN rating_count 'Ratings given to the content that day.',
  COMMENT COLUMN starters 'Users who started the content that day, or completed it that day (a completion whose start was on an earlier day counts as a start on the completion day).',
  COMMENT COLUMN completers 'Users who completed the content that day.',
  COMMENT COLUMN scorers 'Users with a scored attempt at the content that day.',
  COMMENT COLUMN passers 'Users with a scored attempt at 70% of the maximum score or more that day.';

ALTER TABLE mart_retention MODIFY COMMENT 'Cohort retention: users grouped by their first-activity day or signup day (cohort_kind), by day (periods 0…90) or Monday-based week (0…12). A period the data does not cover in full is absent, not zero.',
  COMMENT COLUMN pack 'The source pack (product).',
  COMMENT COLUMN cohort_kind 'first_activity: users by the day of their first fact_activity row; signup: by dim_users.signup_at (signing up counts as activity, so period 0 is 1).',
  COMMENT COLUMN grain 'day or week: the length of a period.',
  COMMENT COLUMN cohort_start 'The cohort''s day (or the Monday of its week), UTC.',
  COMMENT COLUMN cohort_size 'Users in the cohort.',
  COMMENT COLUMN period 'N: periods since the cohort''s start (0 = the cohort''s own day or week).',
  COMMENT COLUMN retained 'Cohort members active in period N.',
  COMMENT COLUMN retention_rate 'retained / cohort_size: day-N (or week-N) retention, in [0, 1].',
  COMMENT COLUMN unbounded_retained 'Cohort members active in period N or any later one (never rises with N).',
  COMMENT COLUMN unbounded_rate 'unbounded_retained / cohort_size: N-or-later retention, in [0, 1].';

ALTER TABLE mart_ab_results MODIFY COMMENT 'Per experiment, variant and metric (named by the pack): users whose analysis window after their first exposure is over, the metric''s mean, and against control the lift, its intervals, p-values and the decision. The decision follows from decision_p_value and the interval shown.',
  COMMENT COLUMN pack 'The source pack (product).',
  COMMENT COLUMN experiment 'The experiment.',
  COMMENT COLUMN variant 'The variant (control is the baseline).',
  COMMENT COLUMN metric 'The pack''s metric: a per-user measure over the analysis window after first exposure (e.g. completed_lesson_7d = completed any lesson within 7 days).',
  COMMENT COLUMN n 'Exposed users of the variant whose analysis window is over.',
  COMMENT COLUMN mean 'The metric''s mean over those users (a proportion for binary metrics).',
  COMMENT COLUMN variance 'The metric''s sample variance over those users.',
  COMMENT COLUMN control_mean 'The control variant''s mean; NULL on the control row.',
  COMMENT COLUMN abs_lift 'mean − control_mean.',
  COMMENT COLUMN rel_lift 'mean / control_mean − 1.',
  COMMENT COLUMN ci_low 'Lower end of the 95% interval of rel_lift (delta method, fixed horizon).',
  COMMENT COLUMN ci_high 'Upper end of the 95% interval of rel_lift (delta method, fixed horizon).',
  COMMENT COLUMN p_value 'Two-sided p-value of the relative lift, the same test as ci_low…ci_high.',
  COMMENT COLUMN cuped_rel_lift 'rel_lift after CUPED (the metric over the same span before exposure as covariate).',
  COMMENT COLUMN cuped_ci_low 'Lower end of the 95% interval of cuped_rel_lift.',
  COMMENT COLUMN cuped_ci_high 'Upper end of the 95% interval of cuped_rel_lift.',
  COMMENT COLUMN cuped_p_value 'p-value of cuped_rel_lift.',
  COMMENT COLUMN srm_p_value 'Chi-square test of the exposed users per variant against the configured split.',
  COMMENT COLUMN srm_flag '1 when srm_p_value < 0.001: the assignment is broken and no decision is made.',
  COMMENT COLUMN decision 'implement, reject or continue_testing (seed 000''s vocabulary), from decision_p_value after Holm''s correction over the metrics.',
  COMMENT COLUMN computed_at 'The newest fact the result saw (UTC).',
  COMMENT COLUMN abs_ci_low 'Lower end of the 95% interval of abs_lift.',
  COMMENT COLUMN abs_ci_high 'Upper end of the 95% interval of abs_lift.',
  COMMENT COLUMN msprt_p_value 'Always-valid (mSPRT) p-value: safe to read every day.',
  COMMENT COLUMN seq_ci_low 'Lower end of the always-valid 95% confidence sequence of rel_lift.',
  COMMENT COLUMN seq_ci_high 'Upper end of the always-valid 95% confidence sequence of rel_lift.',
  COMMENT COLUMN decision_p_value 'The p-value the decision used, after Holm''s adjustment over the metrics: msprt_p_value''s test, or p_value''s once the planned sample is reached.',
  COMMENT COLUMN decision_basis 'sequential or fixed_horizon: which test decision_p_value is.',
  COMMENT COLUMN planned_n 'Users per variant the experiment planned for; NULL when not configured.',
  COMMENT COLUMN users_still_needed 'Users still needed, over both arms at their current split, for a fixed-horizon test to detect the observed lift at 80% power (0 once reached); NULL when no lift was observed.';
