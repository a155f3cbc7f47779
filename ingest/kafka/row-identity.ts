// Rows of tables without a key, as Debezium sends them: the mirror names such a row by a synthetic
// `_row_id` that Debezium's envelopes do not carry (the native capture's do). Under REPLICA IDENTITY
// FULL it is a digest of the row's values (its logged old row names it on update and delete); an
// insert-only table's row is named by where its insert sits on Kafka.
import { UNAVAILABLE_VALUE, rowImage, type ChangeEnvelope, type Row } from '../envelope.ts';
import { ROW_ID_COLUMN, rowDigest, type SourceTable } from '../source-table.ts';

/** Where a message sits on Kafka: an insert-only row's name is `topic:partition:offset`. */
export interface KafkaPosition {
  topic: string;
  partition: number;
  offset: string;
}

export function withRowIdentity(
  envelope: ChangeEnvelope,
  table: SourceTable,
  message: KafkaPosition,
): ChangeEnvelope {
  if (table.rowIdentity !== 'append' && table.rowIdentity !== 'row') return envelope;
  const after = rowImage(envelope.after);
  const before = rowImage(envelope.before);
  if (table.rowIdentity === 'append') {
    if (!after || after[ROW_ID_COLUMN] !== undefined) return envelope;
    const position = `${message.topic}:${message.partition}:${message.offset}`;
    return { ...envelope, after: { ...after, [ROW_ID_COLUMN]: position } };
  }
  const identify = (row: Row | undefined, fallback?: Row): Row | undefined => {
    if (!row || row[ROW_ID_COLUMN] !== undefined) return row;
    const complete: Row = { ...row };
    // Unchanged TOASTed values: the old row, logged whole, holds them.
    for (const [column, value] of Object.entries(row))
      if (value === UNAVAILABLE_VALUE && fallback && column in fallback) complete[column] = fallback[column];
    complete[ROW_ID_COLUMN] = rowDigest(complete, table.columns);
    return complete;
  };
  return {
    ...envelope,
    before: identify(before) ?? envelope.before,
    after: identify(after, before) ?? envelope.after,
  };
}
