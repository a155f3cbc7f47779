// How the ingest worker reads the envelopes of each connector it takes from Kafka: which captured
// table an event belongs to, where it sits in its row's order (the mirror version), and what a
// connector leaves out that the mirror needs. The one place that tells connectors apart.
import { deleteImageFromKey } from '../documents/document-rows.ts';
import type { ChangeEnvelope, SourceVersion } from '../envelope.ts';
import { mongoVersion } from '../mongo/positions.ts';
import { binlogChangeVersion, binlogKeyChangePosition } from '../mysql/binlog-position.ts';
import { tableKey } from '../source-table.ts';

/** What the worker keeps per partition between events: Postgres' newest snapshot position seen. */
export interface PartitionState {
  snapshotLsn?: number;
}

/** An event read by its connector's dialect. */
export interface DialectRead {
  ok: true;
  envelope: ChangeEnvelope;
  table: string;
  /** The table's namespace at its source: Postgres schema, MySQL or MongoDB database. */
  namespace: string;
  version: SourceVersion;
  state: PartitionState;
}

export type DialectOutcome = DialectRead | { ok: false; reason: string };

interface Dialect {
  read(envelope: ChangeEnvelope, key: string | null, state: PartitionState): DialectOutcome;
}

const postgres: Dialect = {
  read(envelope, _key, state) {
    const { name, schema = 'public', table, lsn } = envelope.source;
    if (!table) return { ok: false, reason: 'a Postgres event without source.table' };
    if (lsn === undefined) return { ok: false, reason: 'a Postgres event without source.lsn' };
    if (envelope.op === 'd' && !envelope.before) return { ok: false, reason: "op 'd' needs a 'before' row" };
    const lifted = liftStraddler(envelope.op, lsn, state);
    const key = tableKey({ source: name, schema, table });
    return {
      ok: true,
      envelope,
      table: key,
      namespace: schema,
      version: lifted.version,
      state: lifted.state,
    };
  },
};

/**
 * Debezium's MySQL and MariaDB connectors, and the native MySQL capture: versions come from the
 * binary log position both fill alike (binlogChangeVersion). Snapshot rows carry the snapshot's
 * position, read under the global read lock, which every streamed change passes: nothing straddles.
 */
const mysql: Dialect = {
  read(envelope, _key, state) {
    const { name, db, table } = envelope.source;
    if (!table) return { ok: false, reason: 'a MySQL event without source.table' };
    const version = binlogChangeVersion(envelope);
    if (version === undefined)
      return { ok: false, reason: 'a MySQL event without a binary log position (source.file, source.pos)' };
    if (envelope.op === 'd' && !envelope.before) return { ok: false, reason: "op 'd' needs a 'before' row" };
    return {
      ok: true,
      envelope,
      table: tableKey({ source: name, schema: db, table }),
      namespace: db,
      version,
      state,
    };
  },
};

const mongodb: Dialect = {
  read(envelope, key, state) {
    const { name, db, collection } = envelope.source;
    if (!collection) return { ok: false, reason: 'a MongoDB event without source.collection' };
    const version = mongoVersion(envelope.source);
    if (version === undefined) return { ok: false, reason: 'a MongoDB event without source.ord' };
    let read = envelope;
    if (envelope.op === 'd' && !envelope.before) {
      // Debezium's MongoDB deletes carry the document id only in the message key.
      const before = deleteImageFromKey(key);
      if (!before) return { ok: false, reason: 'a MongoDB delete whose message key holds no document id' };
      read = { ...envelope, before };
    }
    return {
      ok: true,
      envelope: read,
      table: tableKey({ source: name, schema: db, table: collection }),
      namespace: db,
      version,
      state,
    };
  },
};

const DIALECTS: Record<string, Dialect> = { postgresql: postgres, mongodb, mysql, mariadb: mysql };

/**
 * Where an event sits in its source's own order, before the worker re-versions anything: what
 * pairs the two halves of a key change.
 */
export function sourcePosition(source: ChangeEnvelope['source']): number | undefined {
  return source.lsn ?? binlogKeyChangePosition(source);
}

export function readWithDialect(
  envelope: ChangeEnvelope,
  key: string | null,
  state: PartitionState,
): DialectOutcome {
  const dialect = DIALECTS[envelope.source.connector];
  if (!dialect)
    return { ok: false, reason: `events of connector "${envelope.source.connector}" are not supported` };
  return dialect.read(envelope, key, state);
}

/**
 * Debezium versions its snapshot rows at one WAL position, but what it streams after them includes
 * transactions open while the snapshot was taken: their changes carry that position or older ones,
 * and would lose to (or tie with) the snapshot rows. They are lifted to one past the snapshot's
 * position, which no record starts at: above its rows, below every change made after it. Lifted
 * changes of one row tie, and the mirror keeps the last inserted, which is the stream's order.
 * A partition carries one table's keys in order, so the newest snapshot seen in it is the one these
 * changes follow. (Native snapshots sit below their stream: nothing of theirs is ever lifted.)
 */
export function liftStraddler(
  op: ChangeEnvelope['op'],
  lsn: number,
  state: PartitionState,
): { version: number; state: PartitionState } {
  if (op === 'r') return { version: lsn, state: { snapshotLsn: Math.max(state.snapshotLsn ?? 0, lsn) } };
  if (state.snapshotLsn !== undefined && lsn <= state.snapshotLsn)
    return { version: state.snapshotLsn + 1, state };
  return { version: lsn, state };
}
