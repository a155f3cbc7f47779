// Lands changes in the warehouse's raw mirrors; checkpoints and dead letters live in the same
// warehouse, so a restart reads the same truth the mirrors were written against.
import type { z } from 'zod';
import {
  completeSnapshotPart,
  migrate,
  readCheckpoint,
  recordDeadLetters,
  tombstoneOlderThan,
  writeCheckpoint,
  type SnapshotPart,
  type Warehouse,
} from '../../warehouse/index.ts';
import type { SourceVersion } from '../envelope.ts';
import { mirrorTableFor } from '../mirror/mirror-rows.ts';
import { MirrorWriter } from '../mirror/mirror-writer.ts';
import type { SourceTable } from '../source-table.ts';
import { deadLetterRecords } from './dead-letters.ts';
import type { LandingBatch, LandingSink, SinkOutcome } from './sink.ts';
import type { Rejection, SourceChange } from './types.ts';

/** Where dead letters go besides the warehouse (the Kafka worker's dead-letter topic). */
export interface DeadLetterCopy {
  publish(records: ReturnType<typeof deadLetterRecords>, rejections: readonly Rejection[]): Promise<void>;
}

export class WarehouseSink implements LandingSink {
  private readonly writer: MirrorWriter;

  constructor(
    private readonly warehouse: Warehouse,
    private readonly deadLetterCopy?: DeadLetterCopy,
  ) {
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

  /** Whether a table of this shape is registered as it is now. */
  isRegistered(table: SourceTable): boolean {
    return this.writer.isRegistered(table);
  }

  write(changes: readonly SourceChange[], batch: LandingBatch): Promise<SinkOutcome> {
    return this.writer.write(changes, batch.token);
  }

  async completeSnapshot(version: SourceVersion, tables?: SourceTable[], part?: SnapshotPart): Promise<void> {
    const mirrors = tables ? tables.map((table) => mirrorTableFor(table)) : this.writer.mirrors;
    for (const mirror of mirrors)
      if (part) await completeSnapshotPart(this.warehouse, mirror, version, part);
      else await tombstoneOlderThan(this.warehouse, mirror, version);
  }

  readCheckpoint<T>(pipeline: string, stream: string, schema: z.ZodType<T>): Promise<T | undefined> {
    return readCheckpoint(this.warehouse, pipeline, stream, schema);
  }

  writeCheckpoint(pipeline: string, stream: string, state: unknown): Promise<void> {
    return writeCheckpoint(this.warehouse, pipeline, stream, state);
  }

  async deadLetter(rejections: readonly Rejection[], batch: LandingBatch): Promise<void> {
    const records = deadLetterRecords(batch.pipeline, rejections, batch.token);
    await this.deadLetterCopy?.publish(records, rejections);
    await recordDeadLetters(this.warehouse, records, `${batch.token}:dead-letters`);
  }

  async close(): Promise<void> {
    // The warehouse belongs to the caller.
  }
}
