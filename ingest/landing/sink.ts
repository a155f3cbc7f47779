// Where landed changes go: the warehouse's raw mirrors, or Kafka for the ingest workers. The runner
// and the readers talk to this seam only; checkpoints live with the data they describe.
import type { z } from 'zod';
import type { SnapshotPart } from '../../warehouse/index.ts';
import type { SourceVersion } from '../envelope.ts';
import type { SourceTable } from '../source-table.ts';
import type { Rejection, SourceChange } from './types.ts';

/**
 * One batch a stream lands. Landing it again (a retry, or the batch rebuilt after a crash) has no
 * further effect: the warehouse drops its inserts by token, Kafka finds the batch marked as landed.
 */
export interface LandingBatch {
  pipeline: string;
  /** The stream it comes from: a stream lands its batches one after another. */
  stream: string;
  /** Unique to the batch's changes; the warehouse's insert tokens start with it. */
  token: string;
}

/** What a sink could not land as given. */
export interface SinkOutcome {
  /** Changes it refused, with the reason. */
  rejected: Rejection[];
  /** Values that had to come from an earlier version of their row that the mirror does not hold. */
  unfilled: string[];
}

export interface LandingSink {
  /** Describes where the changes go, for log lines. */
  readonly description: string;
  open(): Promise<void>;
  /** Prepares for a table's current shape; returns the columns that are new since last time. */
  register(table: SourceTable): Promise<string[]>;
  /** Lands the changes; a repeat of the same batch has no further effect. */
  write(changes: readonly SourceChange[], batch: LandingBatch): Promise<SinkOutcome>;
  /**
   * A snapshot at `version` completed: rows older than it that it did not see are gone. `tables`
   * limits that to the tables (collections) it read; by default it read every registered one.
   * `part` says only that part of it landed (a Kafka partition's share): the rows it did not see
   * are gone once every part has.
   */
  completeSnapshot(version: SourceVersion, tables?: SourceTable[], part?: SnapshotPart): Promise<void>;
  /** A stored checkpoint, checked against its schema (a mismatch throws CheckpointError); undefined when none is stored. */
  readCheckpoint<T>(pipeline: string, stream: string, schema: z.ZodType<T>): Promise<T | undefined>;
  writeCheckpoint(pipeline: string, stream: string, state: unknown): Promise<void>;
  /**
   * Keeps what could not land, with its reason and the bytes it came as. A repeat for the same
   * batch (one rebuilt after a crash) keeps nothing twice.
   */
  deadLetter(rejections: readonly Rejection[], batch: LandingBatch): Promise<void>;
  close(): Promise<void>;
}
