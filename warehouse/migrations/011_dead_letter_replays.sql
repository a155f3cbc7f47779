-- A batch rebuilt after a crash records its dead letters again under the same ids and insert
-- token: the table drops the repeat, so no letter is kept twice.
ALTER TABLE dead_letters MODIFY SETTING non_replicated_deduplication_window = 1000;
