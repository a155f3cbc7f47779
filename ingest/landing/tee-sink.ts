// A sink that lands changes in another sink and then hands them, in order, to a follower (e.g. a
// denormalization sync): the follower sees a batch only once it landed, and again if the batch is
// redelivered after a crash, so it must be idempotent. Everything else is the inner sink's.
import type { z } from 'zod';
import type { SourceVersion } from '../envelope.ts';
import type { SourceTable } from '../source-table.ts';
import type { LandingSink, SinkOutcome } from './sink.ts';
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

  async write(changes: readonly SourceChange[], tokenBase: string): Promise<SinkOutcome> {
    const outcome = await this.inner.write(changes, tokenBase);
    const refused = new Set(outcome.rejected.map((rejection) => rejection.change));
    await this.follow(changes.filter((change) => !refused.has(change)));
    return outcome;
  }

  completeSnapshot(version: SourceVersion, tables?: SourceTable[]): Promise<void> {
    return this.inner.completeSnapshot(version, tables);
  }

  readCheckpoint<T>(pipeline: string, stream: string, schema: z.ZodType<T>): Promise<T | undefined> {
    return this.inner.readCheckpoint(pipeline, stream, schema);
  }

  writeCheckpoint(pipeline: string, stream: string, state: unknown): Promise<void> {
    return this.inner.writeCheckpoint(pipeline, stream, state);
  }

  deadLetter(pipeline: string, rejections: readonly Rejection[], tokenBase: string): Promise<void> {
    return this.inner.deadLetter(pipeline, rejections, tokenBase);
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
