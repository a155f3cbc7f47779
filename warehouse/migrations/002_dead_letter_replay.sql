-- When a dead letter was fed back to its topic (`tributary dlq replay`); NULL while it waits.
ALTER TABLE dead_letters ADD COLUMN IF NOT EXISTS replayed_at Nullable(DateTime64(3, 'UTC'));
