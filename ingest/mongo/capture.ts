// Native MongoDB capture: per collection, a snapshot joined to a change stream opened at or before
// it, landed through a CaptureSink. The resume token is stored only after the sink accepted the
// batch, and each batch's range is recorded first as a write intent, so a restart re-lands exactly
// that range with the same deduplication tokens. When the token has left the oplog, the collection
// is snapshotted again on its own: capture never stops for manual repair.
import { setTimeout as sleep } from 'node:timers/promises';
import {
  MongoClient,
  MongoError,
  MongoNetworkError,
  MongoServerError,
  MongoServerSelectionError,
  type ChangeStream,
  type ChangeStreamDocument,
  type Collection,
  type Document,
  type ResumeToken,
  type Timestamp,
} from 'mongodb';
import type { CaptureSink } from '../capture-sink.ts';
import type { ChangeEnvelope } from '../envelope.ts';
import { CaptureError } from '../errors.ts';
import type { RejectedEvent } from '../mirror-writer.ts';
import type { PiiPolicy } from '../pii.ts';
import type { DocumentField, SourceTable } from '../source-table.ts';
import { documentSourceTable } from './document-rows.ts';
import { canonicalJson, parseExtendedJson } from './extended-json.ts';
import { oldestOplogTime, newestOplogTime } from './oplog.ts';
import { sourcePositionOf, timestampOfVersion, versionOfTimestamp } from './positions.ts';
import { protectDocument } from './protect-document.ts';

export type CollectionSelection =
  { kind: 'list'; collections: string[] } | { kind: 'database'; database: string };

export interface MongoCaptureOptions {
  sourceUrl: string;
  sourceName: string;
  collections: CollectionSelection;
  /** Where changes land; opened and closed by the capture. */
  sink: CaptureSink;
  pii: PiiPolicy;
  /** The typed top-level fields a pack declares for a collection (the rest stays in `doc`). */
  documentFields?: (database: string, collection: string) => DocumentField[];
  /** Stop once every collection is snapshotted and its stream has nothing more to give. */
  untilCaughtUp: boolean;
  batchRows?: number;
  batchDelayMs?: number;
  snapshotChunkRows?: number;
  signal?: AbortSignal;
  events?: MongoCaptureEvents;
}

export interface MongoCaptureEvents {
  log?(message: string): void;
  warn?(message: string): void;
  snapshotProgress?(collection: string, documents: number): void;
  landed?(stats: { collection: string; changes: number }): void;
}

export interface MongoCaptureResult {
  snapshotDocuments: number;
  streamedChanges: number;
  deadLetters: number;
  /** Collections snapshotted again because their stream position had left the oplog. */
  resnapshots: number;
}

/** Where a collection's stream continues: after a resume token, or at a cluster time. */
type StreamPosition =
  { resumeAfter: string; version: string } | { startAtOperationTime: string; version: string };

interface CollectionCheckpoint {
  position: StreamPosition;
  /** The batch being landed: `count` events after `position`, the last with token `lastToken`. */
  intent?: { count: number; lastToken: string };
}

const MAX_TRANSIENT_RETRIES = 10;
const TRANSIENT_RETRY_DELAY_MS = 500;
const IDLE_POLL_STEP_MS = 200;
const IDLE_POLL_MAX_MS = 2_000;

/** Server errors meaning the stream cannot resume where it was: its history is gone. */
const HISTORY_LOST_CODES = new Set([
  136, // CappedPositionLost
  280, // ChangeStreamFatalError
  286, // ChangeStreamHistoryLost
]);

export async function runMongoCapture(options: MongoCaptureOptions): Promise<MongoCaptureResult> {
  const client = new MongoClient(options.sourceUrl, { serverSelectionTimeoutMS: 10_000 });
  const result: MongoCaptureResult = {
    snapshotDocuments: 0,
    streamedChanges: 0,
    deadLetters: 0,
    resnapshots: 0,
  };
  try {
    await client.connect().catch((error: Error) => {
      throw new CaptureError(
        `cannot connect to MongoDB at ${redactMongoUrl(options.sourceUrl)}: ${error.message}`,
        {
          retriable: true,
        },
      );
    });
    await options.sink.open();
    const namespaces = await selectCollections(client, options.collections);
    if (namespaces.length === 0)
      throw new CaptureError(
        'no collection to capture: name them with --collections db.c1,db.c2 or --database db',
      );
    options.events?.log?.(
      `capturing ${namespaces.length} collection(s) from ${redactMongoUrl(options.sourceUrl)} into ${options.sink.description}`,
    );
    // Each collection has its own stream and position (servers without deployment-wide change
    // streams, like the test stand-in, only stream one collection at a time).
    await Promise.all(
      namespaces.map((namespace) => new CollectionCapture(client, namespace, options, result).run()),
    );
    return result;
  } finally {
    await options.sink.close().catch(() => undefined);
    await client.close().catch(() => undefined);
  }
}

interface Namespace {
  database: string;
  collection: string;
}

async function selectCollections(client: MongoClient, selection: CollectionSelection): Promise<Namespace[]> {
  if (selection.kind === 'list')
    return selection.collections.map((name) => {
      const dot = name.indexOf('.');
      if (dot <= 0 || dot === name.length - 1)
        throw new CaptureError(`collection "${name}" must be written as database.collection`);
      return { database: name.slice(0, dot), collection: name.slice(dot + 1) };
    });
  const collections = await client.db(selection.database).listCollections({}, { nameOnly: true }).toArray();
  return collections
    .map((entry) => entry.name)
    .filter((name) => !name.startsWith('system.'))
    .sort()
    .map((collection) => ({ database: selection.database, collection }));
}

class CollectionCapture {
  private readonly pipeline: string;
  private readonly stream: string;
  private readonly table: SourceTable;
  private readonly collection: Collection;

  constructor(
    private readonly client: MongoClient,
    private readonly namespace: Namespace,
    private readonly options: MongoCaptureOptions,
    private readonly result: MongoCaptureResult,
  ) {
    this.pipeline = `mongo:${options.sourceName}`;
    this.stream = `${namespace.database}.${namespace.collection}`;
    this.table = documentSourceTable(
      options.sourceName,
      namespace.database,
      namespace.collection,
      options.documentFields?.(namespace.database, namespace.collection) ?? [],
    );
    // BSON values as they are (Int32 stays Int32, Double stays Double): the mirror keeps the types.
    this.collection = client
      .db(namespace.database)
      .collection(namespace.collection, { promoteValues: false, promoteLongs: false });
  }

  async run(): Promise<void> {
    await this.options.sink.register(this.table);
    let checkpoint = await this.options.sink.readCheckpoint<CollectionCheckpoint>(this.pipeline, this.stream);
    let transientRetries = 0;
    for (;;) {
      if (this.options.signal?.aborted) return;
      try {
        if (!checkpoint || (await this.historyLost(checkpoint))) {
          if (checkpoint) {
            this.result.resnapshots++;
            this.warn(
              `${this.stream}: the stored stream position is no longer in the oplog; snapshotting the collection again`,
            );
          }
          checkpoint = await this.snapshot();
        }
        await this.follow(checkpoint);
        return;
      } catch (error) {
        const stored = await this.options.sink.readCheckpoint<CollectionCheckpoint>(
          this.pipeline,
          this.stream,
        );
        // Progress since the last failure starts the count again: only a server down for good stops capture.
        if (JSON.stringify(stored) !== JSON.stringify(checkpoint)) transientRetries = 0;
        if (isTransient(error) && transientRetries < MAX_TRANSIENT_RETRIES) {
          // The batch in flight was recorded as an intent: resuming from the stored position
          // re-lands it with the same tokens; an interrupted snapshot starts again.
          transientRetries++;
          this.warn(`${this.stream}: ${(error as Error).message}; resuming from the stored position`);
          await sleep(TRANSIENT_RETRY_DELAY_MS * transientRetries);
          checkpoint = stored;
          continue;
        }
        if (!isHistoryLost(error)) throw error;
        this.result.resnapshots++;
        this.warn(
          `${this.stream}: the server lost this stream's history (${(error as Error).message}); snapshotting again`,
        );
        checkpoint = undefined;
      }
    }
  }

  /**
   * A snapshot whose rows carry a version just below the stream's start, so every change the
   * stream then delivers supersedes them; afterwards, mirror rows the snapshot did not see are gone.
   */
  private async snapshot(): Promise<CollectionCheckpoint> {
    const start = await this.streamStart();
    const version = BigInt(start.version) - 1n;
    const chunkRows = this.options.snapshotChunkRows ?? 5_000;
    let chunk: ChangeEnvelope[] = [];
    let chunkIndex = 0;
    let documents = 0;
    const flush = async () => {
      if (chunk.length === 0) return;
      await this.land(chunk, `${this.pipeline}:${this.stream}:snapshot:${version}:${chunkIndex++}`);
      documents += chunk.length;
      this.options.events?.snapshotProgress?.(this.stream, documents);
      chunk = [];
    };
    for await (const document of this.collection.find({}, { sort: { _id: 1 } })) {
      if (this.options.signal?.aborted) throw new CaptureError('capture stopped during a snapshot');
      chunk.push(this.envelope('r', document, undefined, version));
      if (chunk.length >= chunkRows) await flush();
    }
    await flush();
    await this.options.sink.completeSnapshot(version, [this.table]);
    this.result.snapshotDocuments += documents;
    const checkpoint: CollectionCheckpoint = { position: start };
    await this.options.sink.writeCheckpoint(this.pipeline, this.stream, checkpoint);
    this.log(`${this.stream}: snapshot of ${documents} document(s) landed`);
    return checkpoint;
  }

  /**
   * The cluster time the stream starts at: the newest oplog entry where the oplog is readable (so
   * nothing written before the snapshot's first read is missed), else the server's
   * post-batch resume token, else this machine's clock a minute back.
   */
  private async streamStart(): Promise<StreamPosition> {
    const newest = await newestOplogTime(this.client);
    if (newest) return startAt(versionOfTimestamp(newest));
    const probe = this.collection.watch([], { fullDocument: 'updateLookup' });
    try {
      await probe.tryNext();
      if (probe.resumeToken) {
        const token = probe.resumeToken as Document;
        const version = clusterTimeOfToken(token);
        if (version !== undefined) return { resumeAfter: canonicalJson(token), version: String(version) };
      }
    } finally {
      await probe.close();
    }
    // Replaying a minute of changes is harmless; missing one is not.
    const seconds = Math.floor(Date.now() / 1000) - 60;
    return startAt(BigInt(seconds) << 32n);
  }

  /** Whether the oplog (where it is readable) has moved past the stored position. */
  private async historyLost(checkpoint: CollectionCheckpoint): Promise<boolean> {
    const oldest = await oldestOplogTime(this.client);
    if (oldest === undefined) return false;
    // An empty oplog on a server that had one: it was restarted from scratch.
    if (oldest === null) return true;
    return versionOfTimestamp(oldest) > BigInt(checkpoint.position.version);
  }

  private async follow(initial: CollectionCheckpoint): Promise<void> {
    let checkpoint = initial;
    const batchRows = this.options.batchRows ?? 5_000;
    const batchDelayMs = this.options.batchDelayMs ?? 200;
    const newest = this.options.untilCaughtUp ? await newestOplogTime(this.client) : undefined;
    const target = newest ? versionOfTimestamp(newest) : undefined;
    const changes = this.openStream(checkpoint.position);
    let idlePolls = 0;
    try {
      if (checkpoint.intent) checkpoint = await this.replayIntent(changes, checkpoint, checkpoint.intent);
      for (;;) {
        if (this.options.signal?.aborted) return;
        const batch: ChangeStreamDocument[] = [];
        const startedAt = Date.now();
        let exhausted = false;
        while (batch.length < batchRows && Date.now() - startedAt < batchDelayMs) {
          const change = await changes.tryNext();
          if (change === null) {
            exhausted = true;
            break;
          }
          batch.push(change);
        }
        if (batch.length > 0) checkpoint = await this.landBatch(checkpoint, batch);
        // Each poll of an idle stream costs the server a read of its oplog: poll less while idle.
        idlePolls = batch.length > 0 ? 0 : idlePolls + 1;
        if (!this.options.untilCaughtUp && idlePolls > 0)
          await sleep(Math.min(IDLE_POLL_MAX_MS, IDLE_POLL_STEP_MS * idlePolls));
        const caughtUp = exhausted || (target !== undefined && BigInt(checkpoint.position.version) >= target);
        if (this.options.untilCaughtUp && caughtUp && batch.length === 0) return;
      }
    } finally {
      await changes.close().catch(() => undefined);
    }
  }

  private openStream(position: StreamPosition): ChangeStream {
    return this.collection.watch([], {
      // Debezium's change_streams_update_full: an update carries the whole document.
      fullDocument: 'updateLookup',
      maxAwaitTimeMS: 250,
      ...('resumeAfter' in position
        ? { resumeAfter: parseExtendedJson(position.resumeAfter) as ResumeToken }
        : { startAtOperationTime: timestampOfVersion(BigInt(position.startAtOperationTime)) }),
    });
  }

  /** Re-lands the recorded batch: the same events after the same position, with the same tokens. */
  private async replayIntent(
    changes: ChangeStream,
    checkpoint: CollectionCheckpoint,
    intent: { count: number; lastToken: string },
  ): Promise<CollectionCheckpoint> {
    const batch: ChangeStreamDocument[] = [];
    while (batch.length < intent.count) {
      if (this.options.signal?.aborted) throw new CaptureError('capture stopped while re-landing a batch');
      const change = await changes.tryNext();
      if (change) batch.push(change);
    }
    if (canonicalJson(batch.at(-1)?._id) !== intent.lastToken)
      this.warn(`${this.stream}: the re-read batch ends at another token than recorded; landing it anyway`);
    return this.landBatch(checkpoint, batch, true);
  }

  private async landBatch(
    checkpoint: CollectionCheckpoint,
    batch: ChangeStreamDocument[],
    isReplay = false,
  ): Promise<CollectionCheckpoint> {
    const last = batch.at(-1) as ChangeStreamDocument;
    const lastToken = canonicalJson(last._id);
    if (!isReplay)
      await this.options.sink.writeCheckpoint(this.pipeline, this.stream, {
        ...checkpoint,
        intent: { count: batch.length, lastToken },
      } satisfies CollectionCheckpoint);
    const envelopes = batch.flatMap((change) => this.changeEnvelopes(change));
    await this.land(
      envelopes,
      `${this.pipeline}:${this.stream}:${positionKey(checkpoint.position)}:${batch.length}`,
    );
    const lastVersion = clusterTimeOf(last) ?? BigInt(checkpoint.position.version);
    const next: CollectionCheckpoint = { position: { resumeAfter: lastToken, version: String(lastVersion) } };
    await this.options.sink.writeCheckpoint(this.pipeline, this.stream, next);
    this.result.streamedChanges += batch.length;
    this.options.events?.landed?.({ collection: this.stream, changes: batch.length });
    return next;
  }

  private changeEnvelopes(change: ChangeStreamDocument): ChangeEnvelope[] {
    const version = clusterTimeOf(change);
    if (version === undefined) {
      this.warn(`${this.stream}: a ${change.operationType} event without a cluster time was skipped`);
      return [];
    }
    switch (change.operationType) {
      case 'insert':
      case 'update':
      case 'replace': {
        // The looked-up document is gone when a later change deleted it, and that delete follows:
        // MongoDB then sends null, the stand-in a fragment without _id.
        if (!change.fullDocument || !('_id' in change.fullDocument)) return [];
        return [
          this.envelope(
            change.operationType === 'insert' ? 'c' : 'u',
            change.fullDocument,
            undefined,
            version,
          ),
        ];
      }
      case 'delete': {
        const id = (change.documentKey as Document | undefined)?._id;
        if (id === undefined) return [];
        return [this.envelope('d', undefined, { _id: id }, version)];
      }
      case 'drop':
        // Every document is gone: the mirror treats it as a truncate at this version.
        return [this.envelope('t', undefined, undefined, version)];
      default:
        return [];
    }
  }

  /** A Debezium MongoDB envelope: documents as canonical extended JSON, the position as ts_ms/ord. */
  private envelope(
    op: ChangeEnvelope['op'],
    after: Document | undefined,
    before: Document | undefined,
    version: bigint,
  ): ChangeEnvelope {
    const image = (document: Document | undefined) =>
      document ? canonicalJson(protectDocument(document, this.options.pii)) : null;
    return {
      before: image(before),
      after: image(after),
      source: {
        version: 'tributary',
        connector: 'mongodb',
        name: this.options.sourceName,
        db: this.namespace.database,
        collection: this.namespace.collection,
        ...sourcePositionOf(version),
        snapshot: op === 'r' ? 'true' : 'false',
      },
      op,
      ts_ms: Date.now(),
    };
  }

  private async land(envelopes: ChangeEnvelope[], tokenBase: string): Promise<void> {
    const { rejected } = await this.options.sink.write(envelopes, tokenBase);
    if (rejected.length > 0) await this.deadLetter(rejected);
  }

  private async deadLetter(rejected: RejectedEvent[]): Promise<void> {
    this.result.deadLetters += rejected.length;
    this.warn(
      `${this.stream}: ${rejected.length} change(s) sent to the dead letters: ${rejected[0]?.reason ?? ''}`,
    );
    await this.options.sink.deadLetter(
      rejected.map(({ envelope, reason }) => ({
        pipeline: this.pipeline,
        source: this.options.sourceName,
        position: `${envelope.source.ts_ms / 1000}:${String(envelope.source.ord ?? '')}`,
        original: JSON.stringify(envelope),
        error: reason,
        stage: 'mirror',
      })),
    );
  }

  private log(message: string): void {
    this.options.events?.log?.(message);
  }

  private warn(message: string): void {
    this.options.events?.warn?.(message);
  }
}

function startAt(version: bigint): StreamPosition {
  return { startAtOperationTime: String(version), version: String(version) };
}

function positionKey(position: StreamPosition): string {
  return 'resumeAfter' in position ? position.resumeAfter : `at:${position.startAtOperationTime}`;
}

function clusterTimeOf(change: ChangeStreamDocument): bigint | undefined {
  const clusterTime = (change as { clusterTime?: Timestamp }).clusterTime;
  return clusterTime ? versionOfTimestamp(clusterTime) : undefined;
}

/** A resume token's `_data` begins with the event's cluster time (hex) on MongoDB and the stand-in. */
function clusterTimeOfToken(token: Document): bigint | undefined {
  const data: unknown = token._data;
  if (typeof data !== 'string' || !/^[0-9a-fA-F]{16}/.test(data)) return undefined;
  // MongoDB prefixes a type byte (0x82) before the timestamp; the stand-in writes it bare.
  const hex = data.startsWith('82') && data.length > 18 ? data.slice(2, 18) : data.slice(0, 16);
  return BigInt(`0x${hex}`);
}

/** A network failure or an overloaded server: worth resuming from the stored position. */
function isTransient(error: unknown): boolean {
  if (!(error instanceof MongoError)) return false;
  return (
    error instanceof MongoNetworkError ||
    error instanceof MongoServerSelectionError ||
    error.hasErrorLabel('ResumableChangeStreamError') ||
    error.hasErrorLabel('RetryableWriteError') ||
    error.name === 'PoolClearedOnNetworkError'
  );
}

function isHistoryLost(error: unknown): boolean {
  if (
    error instanceof MongoServerError &&
    typeof error.code === 'number' &&
    HISTORY_LOST_CODES.has(error.code)
  )
    return true;
  return (
    error instanceof Error && /resume (point|token).*(not found|no longer)|history.*lost/i.test(error.message)
  );
}

export function redactMongoUrl(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//***@');
}
