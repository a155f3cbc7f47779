// A sink that lands changes in another sink and hands the same changes, in order, to a follower
// (e.g. a denormalization sync) at the same time: the batch's position is confirmed only once both
// are done, and a batch redelivered after a crash reaches both again, so the follower must be
// idempotent. The follower follows the source: a change the warehouse refused (dead-lettered there)
// still happened in the source, so its copies follow it too. Everything else is the inner sink's.
import type { z } from 'zod';
import type { SnapshotPart } from '../../warehouse/index.ts';
import type { SourceVersion } from '../envelope.ts';
import type { SourceTable } from '../source-table.ts';
import type { LandingBatch, LandingSink, SinkOutcome } from './sink.ts';
import type { Rejection, SourceChange } from './types.ts';

export class TeeSink implements LandingSink {
  readonly description: string;

  constructor(
    private readonly inner: LandingSink,
    private readonly follow: (changes: readonly SourceChange[]) => Promise<void>,
  ) {
    this.description = `${inner.description}, then followed`;
  }

  open(): Promise<void> {
    return this.inner.open();
  }

  register(table: SourceTable): Promise<string[]> {
    return this.inner.register(table);
  }

  async write(changes: readonly SourceChange[], batch: LandingBatch): Promise<SinkOutcome> {
    // Side by side, not one after the other: a change reaches its copies without waiting for the
    // warehouse insert (bench:denormalize's commit → last copy latency).
    // Both settle before a failure is reported, so a retried batch never overlaps its first try.
    const [landed, followed] = await Promise.allSettled([
      this.inner.write(changes, batch),
      this.follow(changes),
    ]);
    if (landed.status === 'rejected') throw landed.reason;
    if (followed.status === 'rejected') throw followed.reason;
    return landed.value;
  }

  completeSnapshot(version: SourceVersion, tables?: SourceTable[], part?: SnapshotPart): Promise<void> {
    return this.inner.completeSnapshot(version, tables, part);
  }

  readCheckpoint<T>(pipeline: string, stream: string, schema: z.ZodType<T>): Promise<T | undefined> {
    return this.inner.readCheckpoint(pipeline, stream, schema);
  }

  writeCheckpoint(pipeline: string, stream: string, state: unknown): Promise<void> {
    return this.inner.writeCheckpoint(pipeline, stream, state);
  }

  deadLetter(rejections: readonly Rejection[], batch: LandingBatch): Promise<void> {
    return this.inner.deadLetter(rejections, batch);
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
