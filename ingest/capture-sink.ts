// Where a capture lands what it reads: straight into the warehouse's raw mirrors, or onto Kafka for
// the ingest workers. The capture loop is the same for both; only this seam differs.
import {
  migrate,
  readCheckpoint,
  recordDeadLetters,
  tombstoneOlderThan,
  writeCheckpoint,
  type DeadLetter,
  type Warehouse,
} from '../warehouse/index.ts';
import type { ChangeEnvelope, SourceVersion } from './envelope.ts';
import { mirrorTableFor } from './mirror-rows.ts';
import { MirrorWriter, type WriteResult } from './mirror-writer.ts';
import type { SourceTable } from './source-table.ts';

/** What a sink could not land as given: events set aside, and values no earlier version held. */
export type LandingOutcome = Pick<WriteResult, 'rejected' | 'unfilled'>;

export interface CaptureSink {
  /** Describes where the changes go, for log lines. */
  readonly description: string;
  open(): Promise<void>;
  /** Prepares for a table's current shape; returns the columns that are new since last time. */
  register(table: SourceTable): Promise<string[]>;
  /** Lands the events; the token base names this batch so a repeat of it can be recognised. */
  write(events: ChangeEnvelope[], tokenBase: string): Promise<LandingOutcome>;
  /**
   * A snapshot at `version` completed: rows older than it that it did not see are gone. `tables`
   * limits that to the tables (collections) it read; by default it read every registered one.
   */
  completeSnapshot(version: SourceVersion, tables?: SourceTable[]): Promise<void>;
  readCheckpoint<State>(pipeline: string, stream: string): Promise<State | undefined>;
  writeCheckpoint(pipeline: string, stream: string, state: unknown): Promise<void>;
  deadLetter(letters: DeadLetter[]): Promise<void>;
  close(): Promise<void>;
}

/** Lands changes in the raw mirrors; checkpoints live in the same warehouse. */
export class WarehouseSink implements CaptureSink {
  private readonly writer: MirrorWriter;

  constructor(private readonly warehouse: Warehouse) {
    this.writer = new MirrorWriter(warehouse);
  }

  get description(): string {
    const target = this.warehouse.target;
    return target.kind === 'chdb' ? target.path : target.url;
  }

  async open(): Promise<void> {
    await migrate(this.warehouse);
  }

  register(table: SourceTable): Promise<string[]> {
    return this.writer.register(table);
  }

  async write(events: ChangeEnvelope[], tokenBase: string): Promise<LandingOutcome> {
    return this.writer.write(events, tokenBase);
  }

  async completeSnapshot(version: SourceVersion, tables?: SourceTable[]): Promise<void> {
    const mirrors = tables ? tables.map((table) => mirrorTableFor(table)) : this.writer.mirrors;
    for (const mirror of mirrors) await tombstoneOlderThan(this.warehouse, mirror, version);
  }

  readCheckpoint<State>(pipeline: string, stream: string): Promise<State | undefined> {
    return readCheckpoint<State>(this.warehouse, pipeline, stream);
  }

  writeCheckpoint(pipeline: string, stream: string, state: unknown): Promise<void> {
    return writeCheckpoint(this.warehouse, pipeline, stream, state);
  }

  deadLetter(letters: DeadLetter[]): Promise<void> {
    return recordDeadLetters(this.warehouse, letters);
  }

  async close(): Promise<void> {
    // The warehouse belongs to the caller.
  }
}
