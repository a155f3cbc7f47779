// The seam between sources and the one landing runner. A source is read as streams of units (a
// Postgres transaction, a MongoDB change, a Kafka message), each carrying changes whose mirror
// versions the reader has already normalised; the runner batches units, records the batch as a
// write intent, lands it, and only then acknowledges the source. What differs between sources
// stays in their readers: how positions compare and print, and what state a reader resumes with.
import type { z } from 'zod';
import type { SnapshotPart } from '../../warehouse/index.ts';
import type { ChangeEnvelope, SourceVersion } from '../envelope.ts';
import type { RawImage } from '../mirror/row-binary.ts';
import type { SourceTable } from '../source-table.ts';

/** A Kafka message as it arrived: a dead letter keeps it so a replay is byte for byte. */
export interface OriginalMessage {
  topic: string;
  partition: number;
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: Record<string, Buffer>;
}

/** One change, ready to land. */
export interface SourceChange {
  envelope: ChangeEnvelope;
  /** The mirror row's `_version`: where the change sits in its row's order. */
  version: SourceVersion;
  /** The captured table or collection it belongs to, as `tableKey` names it (`source.schema.table`). */
  table: string;
  /** The message it came in, when it came over Kafka. */
  original?: OriginalMessage;
  /**
   * The row still in the source's bytes, for a mirror to write without decoding the envelope
   * (which is then built only when something asks for it). Never a truncate's.
   */
  image?: RawImage;
  /**
   * The table as the change was read, when a reader follows shape changes (MySQL's table maps):
   * its envelope values are encoded for these columns, which a later shape may encode otherwise
   * (DATETIME(3) in milliseconds, DATETIME(6) in microseconds).
   */
  shape?: SourceTable;
}

/** Something that cannot land, with why; it becomes a dead letter and the rest flows on. */
export interface Rejection {
  reason: string;
  /** `decode`: the reader could not read it; `mirror`: the warehouse could not store it. */
  stage: 'decode' | 'mirror';
  /** The change, when it was decoded. */
  change?: SourceChange;
  /** The bytes it came as, when it came as bytes (Kafka). */
  original?: OriginalMessage;
  /** The source it came from, when no change says so. */
  source?: string;
}

/** A unit of a stream: the runner batches whole units and never splits one. */
export interface ReadUnit<P, S = never> {
  changes: SourceChange[];
  /** Parts of the unit the reader had to set aside. */
  rejected?: Rejection[];
  /** Orders the units of a stream; a write intent records the first and last of its batch. */
  position: P;
  /** Roughly what the unit costs to hold: batches are bounded by bytes as well as by changes. */
  bytes: number;
  /** The reader's state once this unit is read (e.g. a resume token), for restarting after it. */
  stateAfter?: S;
  /**
   * A position report, not a change (a keepalive): acknowledged while nothing waits to land, never
   * part of a batch (the source does not send it again, so a rebuilt batch could not hold it).
   */
  heartbeat?: boolean;
  /**
   * This unit closes its part of a snapshot of `table` (a Kafka partition's marker, after that
   * partition's snapshot rows): once its batch has landed, the sink is told, and retracts the rows
   * the snapshot did not see when every part has landed.
   */
  snapshotCompleted?: { table: SourceTable; version: SourceVersion; part: SnapshotPart };
}

/** How a stream's positions and state are stored, compared and printed. */
export interface StreamCodec<P, S> {
  position: z.ZodType<P>;
  state: z.ZodType<S>;
  /** Negative, zero or positive, as `a` comes before, with or after `b`. */
  compare(a: P, b: P): number;
  /** The position as the source prints it (Postgres `0/1B8E3C0`), for messages and tokens. */
  text(position: P): string;
}

/**
 * A stream of units in source order, read from where the source stands. Units the source sends
 * again after a restart (everything after its acknowledged position) come again, in the same order.
 */
export interface ChangeStream<P, S, U extends ReadUnit<P, S> = ReadUnit<P, S>> {
  /** Names the stream's checkpoint (`wal`, `db.collection`, `topic:partition`). */
  readonly id: string;
  readonly codec: StreamCodec<P, S>;
  /**
   * Whether the source itself keeps the acknowledged position (a replication slot, committed
   * offsets). Otherwise the runner stores the reader's state after each batch and starts from it.
   */
  readonly acknowledgedAtSource: boolean;
  /** Units from the source's acknowledged position on, read with `state` (a restart's or none). */
  read(state: S | undefined): AsyncIterator<U>;
  /** Tells the source everything up to and including `unit` has landed. */
  acknowledge(unit: U): Promise<void>;
  /** For streams acknowledged at the source: whether it has acknowledged `position` already. */
  isAcknowledged?(position: P): Promise<boolean>;
  /** Whether a recorded intent belongs to this stream as it now stands (e.g. the same slot). */
  owns?(intent: WriteIntent<P, S>): boolean;
}

/** The batch being landed, stored before it lands: a restart rebuilds exactly it. */
export interface WriteIntent<P, S> {
  first: P;
  last: P;
  units: number;
  stateBefore?: S;
  stateAfter?: S;
  /** How many times this batch has been started: 1, then one more per restart that rebuilds it. */
  attempts: number;
}

/** What a stream's checkpoint row holds. */
export interface StreamCheckpoint<P, S> {
  /** The reader's state after the last landed batch (streams not acknowledged at the source). */
  state?: S;
  /** The batch recorded last; still to rebuild if the source did not acknowledge past it. */
  intent?: WriteIntent<P, S>;
}

/** What the runner reports as it goes; the service's metrics and the CLI's progress read it. */
export interface LandingObserver {
  landed?(stats: {
    stream: string;
    changes: number;
    byTable: Map<string, number>;
    /** Newest change's commit time at the source (ms since the epoch), for lag. */
    newestSourceMs?: number;
  }): void;
  deadLettered?(stats: { stream: string; count: number; reason: string }): void;
  /** Landing failed and will be tried again after `ms`: the pipeline waits, nothing is lost. */
  retrying?(stats: { stream: string; ms: number; reason: string }): void;
  log?(message: string): void;
  warn?(message: string): void;
}
