-- fact_activity by user: the feature export reads one range of users at a time (features/passes.ts),
-- and fact_activity, ordered by day, had each range read about half of its granules and aggregate
-- its users' facts in no order (bench/README.md, bench:features). A materialized view copies every
-- insert into fact_activity here; the transforms delete from both (a delete does not go through a
-- view). Filled from the facts at hand before the view exists; a rerun of a failed attempt empties
-- the copy first, so no fact is in it twice.
CREATE TABLE IF NOT EXISTS fact_activity_by_user AS fact_activity ENGINE = MergeTree ORDER BY (pack, user_id, day, source_key);

ALTER TABLE fact_activity_by_user MODIFY COMMENT 'fact_activity ordered by (pack, user_id) instead of by day, row for row (a view copies its inserts; the transforms delete from both): for reading a set of users'' facts, as the feature export does.';

TRUNCATE TABLE fact_activity_by_user;

INSERT INTO fact_activity_by_user SELECT * FROM fact_activity;

CREATE MATERIALIZED VIEW IF NOT EXISTS tributary.fact_activity_by_user_mv TO analytics.fact_activity_by_user
AS SELECT * FROM analytics.fact_activity;
