-- Every attempt to deliver a report (webhook, e-mail), so a failed delivery is visible and its
-- retries can be read back; the report's files are written before any attempt.
CREATE TABLE IF NOT EXISTS _tributary_report_deliveries (
  pack LowCardinality(String),
  period LowCardinality(String),
  first_day Date,
  last_day Date,
  channel LowCardinality(String),
  target String,
  attempt UInt16,
  ok UInt8,
  error String,
  at DateTime64(3, 'UTC')
) ENGINE = MergeTree ORDER BY (pack, last_day, channel, at);
