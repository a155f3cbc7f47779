// Native MongoDB capture: per collection, a snapshot joined to a change stream opened at or before
// it, landed by the landing runner. MongoDB keeps no position for a reader, so the runner stores
// the resume token after each batch landed, and records each batch first as a write intent: a
// restart re-reads exactly that batch and lands it with the same deduplication tokens. When the
// token has left the oplog, the collection is snapshotted again on its own: capture never stops
// for manual repair.
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
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { documentSourceTable } from '../documents/document-rows.ts';
import { canonicalJson, parseExtendedJson } from '../documents/extended-json.ts';
import { protectDocument } from '../documents/protect-document.ts';
import type { ChangeEnvelope } from '../envelope.ts';
import { CaptureError } from '../errors.ts';
import { AsyncQueue } from '../landing/async-queue.ts';
import { checkpointSchema, followStream } from '../landing/follow-stream.ts';
import { Lander } from '../landing/lander.ts';
import type { LandingSink } from '../landing/sink.ts';
import type {
  ChangeStream as LandingStream,
  LandingObserver,
  ReadUnit,
  SourceChange,
  StreamCheckpoint,
  StreamCodec,
} from '../landing/types.ts';
import type { PiiPolicy } from '../pii.ts';
import { tableKey, type DocumentField, type SourceTable } from '../source-table.ts';
import { oldestOplogTime, newestOplogTime } from './oplog.ts';
import { sourcePositionOf, timestampOfVersion, versionOfTimestamp } from './positions.ts';

export type CollectionSelection =
  | { kind: 'list'; collections: string[] }
  /** `exclude`: collections of the database left out (e.g. those Tributary's write-back fills). */
  | { kind: 'database'; database: string; exclude?: string[] };

export interface MongoCaptureOptions {
  sourceUrl: string;
  sourceName: string;
  collections: CollectionSelection;
  /** Where changes land; opened and closed by the capture. */
  sink: LandingSink;
  pii: PiiPolicy;
  /** The typed top-level fields a pack declares for a collection (the rest stays in `doc`). */
  documentFields?: (database: string, collection: string) => DocumentField[];
  /** Stop once every collection is snapshotted and its stream has nothing more to give. */
  untilCaughtUp: boolean;
  /** Batch limits (defaults: BATCH_DEFAULTS of the landing runner). */
  batchRows?: number;
  batchBytes?: number;
  batchDelayMs?: number;
  snapshotChunkRows?: number;
  signal?: AbortSignal;
  events?: MongoCaptureEvents;
}

export interface MongoCaptureEvents extends LandingObserver {
  snapshotProgress?(collection: string, documents: number): void;
}

export interface MongoCaptureResult {
  snapshotDocuments: number;
  streamedChanges: number;
  deadLetters: number;
  /** Collections snapshotted again because their stream position had left the oplog. */
  resnapshots: number;
}

/** Where a collection's stream continues: after a resume token, or at a cluster time. */
const streamPositionSchema = z.union([
  z.object({ resumeAfter: z.string(), version: z.string() }),
  z.object({ startAtOperationTime: z.string(), version: z.string() }),
]);
type StreamPosition = z.infer<typeof streamPositionSchema>;

/** A change's place: its cluster time (as a 64-bit number, in text) and its resume token. */
const changePositionSchema = z.object({ version: z.string(), token: z.string() });
type ChangePosition = z.infer<typeof changePositionSchema>;

const CHANGE_CODEC: StreamCodec<ChangePosition, StreamPosition> = {
  position: changePositionSchema,
  state: streamPositionSchema,
  compare: (a, b) => {
    const difference = BigInt(a.version) - BigInt(b.version);
    return difference < 0n ? -1 : difference > 0n ? 1 : 0;
  },
  // Changes of one transaction share a cluster time: the token's digest tells them apart.
  text: (position) =>
    `${position.version}#${createHash('sha256').update(position.token).digest('hex').slice(0, 12)}`,
};

type CollectionCheckpoint = StreamCheckpoint<ChangePosition, StreamPosition>;
const collectionCheckpointSchema = checkpointSchema(CHANGE_CODEC);

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
  const lander = new Lander({
    pipeline: `mongo:${options.sourceName}`,
    sink: options.sink,
    signal: options.signal,
    observer: options.events,
  });
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
        // A database without collections yet may get them (the application's first start).
        { retriable: options.collections.kind === 'database' },
      );
    options.events?.log?.(
      `capturing ${namespaces.length} collection(s) from ${redactMongoUrl(options.sourceUrl)} into ${options.sink.description}`,
    );
    // Each collection has its own stream and position (servers without deployment-wide change
    // streams, like the test stand-in, only stream one collection at a time).
    await Promise.all(
      namespaces.map((namespace) => new CollectionCapture(client, namespace, options, lander, result).run()),
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
    .filter((name) => !name.startsWith('system.') && !(selection.exclude ?? []).includes(name))
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
    private readonly lander: Lander,
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
    let checkpoint = await this.readCheckpoint();
    let transientRetries = 0;
    for (;;) {
      if (this.options.signal?.aborted) return;
      try {
        // A recorded batch is read again from where it started.
        const resumeAt = checkpoint?.intent?.stateBefore ?? checkpoint?.state;
        if (!resumeAt || (await this.historyLost(resumeAt))) {
          if (resumeAt) {
            this.result.resnapshots++;
            this.warn(
              `${this.stream}: the stored stream position is no longer in the oplog; snapshotting the collection again`,
            );
          }
          checkpoint = { state: await this.snapshot() };
        }
        const followed = await followStream(new CollectionStream(this), {
          lander: this.lander,
          batchRows: this.options.batchRows,
          batchBytes: this.options.batchBytes,
          batchDelayMs: this.options.batchDelayMs,
          signal: this.options.signal,
          observer: this.options.events,
        });
        this.result.streamedChanges += followed.changes;
        this.result.deadLetters += followed.deadLetters;
        return;
      } catch (error) {
        const stored = await this.readCheckpoint();
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

  private readCheckpoint(): Promise<CollectionCheckpoint | undefined> {
    return this.options.sink.readCheckpoint(this.pipeline, this.stream, collectionCheckpointSchema);
  }

  /**
   * A snapshot whose rows carry a version just below the stream's start, so every change the
   * stream then delivers supersedes them; afterwards, mirror rows the snapshot did not see are gone.
   */
  private async snapshot(): Promise<StreamPosition> {
    const start = await this.streamStart();
    const version = BigInt(start.version) - 1n;
    const chunkRows = this.options.snapshotChunkRows ?? 5_000;
    let chunk: SourceChange[] = [];
    let chunkIndex = 0;
    let documents = 0;
    const flush = async () => {
      if (chunk.length === 0) return;
      const token = `${this.pipeline}:${this.stream}:snapshot:${version}:${chunkIndex++}`;
      const outcome = await this.lander.land(`${this.stream} snapshot`, chunk, [], token);
      this.result.deadLetters += outcome.deadLetters;
      documents += chunk.length;
      this.options.events?.snapshotProgress?.(this.stream, documents);
      chunk = [];
    };
    for await (const document of this.collection.find({}, { sort: { _id: 1 } })) {
      if (this.options.signal?.aborted) throw new CaptureError('capture stopped during a snapshot');
      chunk.push(this.change('r', document, undefined, version));
      if (chunk.length >= chunkRows) await flush();
    }
    await flush();
    await this.options.sink.completeSnapshot(version, [this.table]);
    this.result.snapshotDocuments += documents;
    const checkpoint: CollectionCheckpoint = { state: start };
    await this.options.sink.writeCheckpoint(this.pipeline, this.stream, checkpoint);
    this.log(`${this.stream}: snapshot of ${documents} document(s) landed`);
    return start;
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
  private async historyLost(position: StreamPosition): Promise<boolean> {
    const oldest = await oldestOplogTime(this.client);
    if (oldest === undefined) return false;
    // An empty oplog on a server that had one: it was restarted from scratch.
    if (oldest === null) return true;
    return versionOfTimestamp(oldest) > BigInt(position.version);
  }

  get streamId(): string {
    return this.stream;
  }

  get untilCaughtUp(): boolean {
    return this.options.untilCaughtUp;
  }

  /** The collection's change stream from `position`, updates as whole documents. */
  openStream(position: StreamPosition): ChangeStream {
    return this.collection.watch([], {
      // Debezium's change_streams_update_full: an update carries the whole document.
      fullDocument: 'updateLookup',
      maxAwaitTimeMS: 250,
      ...('resumeAfter' in position
        ? { resumeAfter: parseExtendedJson(position.resumeAfter) as ResumeToken }
        : { startAtOperationTime: timestampOfVersion(BigInt(position.startAtOperationTime)) }),
    });
  }

  /** The cluster time the stream had reached when capture started (`--until-caught-up`), if readable. */
  async caughtUpTarget(): Promise<bigint | undefined> {
    if (!this.options.untilCaughtUp) return undefined;
    const newest = await newestOplogTime(this.client);
    return newest ? versionOfTimestamp(newest) : undefined;
  }

  /** A change-stream event as a unit: its changes, its place, and the position after it. */
  unitOf(change: ChangeStreamDocument): ReadUnit<ChangePosition, StreamPosition> {
    const token = canonicalJson(change._id);
    const version = String(clusterTimeOf(change) ?? 0n);
    const changes = this.changes(change);
    return {
      changes,
      position: { version, token },
      bytes: changes.reduce(
        (sum, { envelope }) => sum + (typeof envelope.after === 'string' ? envelope.after.length : 0) + 64,
        0,
      ),
      stateAfter: { resumeAfter: token, version },
    };
  }

  private changes(change: ChangeStreamDocument): SourceChange[] {
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
          this.change(change.operationType === 'insert' ? 'c' : 'u', change.fullDocument, undefined, version),
        ];
      }
      case 'delete': {
        const id = (change.documentKey as Document | undefined)?._id;
        if (id === undefined) return [];
        return [this.change('d', undefined, { _id: id }, version)];
      }
      case 'drop':
        // Every document is gone: the mirror treats it as a truncate at this version.
        return [this.change('t', undefined, undefined, version)];
      default:
        return [];
    }
  }

  /** A change in a Debezium MongoDB envelope: documents as canonical extended JSON, the position as ts_ms/ord. */
  private change(
    op: ChangeEnvelope['op'],
    after: Document | undefined,
    before: Document | undefined,
    version: bigint,
  ): SourceChange {
    const image = (document: Document | undefined) =>
      document ? canonicalJson(protectDocument(document, this.options.pii)) : null;
    return {
      envelope: {
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
      },
      version,
      table: tableKey(this.table),
    };
  }

  private log(message: string): void {
    this.options.events?.log?.(message);
  }

  private warn(message: string): void {
    this.options.events?.warn?.(message);
  }
}

/**
 * A collection's change stream as a landing stream: each event is a unit, positioned by its cluster
 * time and resume token. MongoDB keeps no reader position, so the runner stores the resume token
 * after each batch (`acknowledgedAtSource: false`).
 */
class CollectionStream implements LandingStream<ChangePosition, StreamPosition> {
  readonly codec = CHANGE_CODEC;
  readonly acknowledgedAtSource = false;
  readonly id: string;

  constructor(private readonly capture: CollectionCapture) {
    this.id = capture.streamId;
  }

  read(state: StreamPosition | undefined): AsyncIterator<ReadUnit<ChangePosition, StreamPosition>> {
    if (!state) throw new CaptureError(`${this.id}: no stream position to resume from`);
    let stopped = false;
    const changes = this.capture.openStream(state);
    const queue = new AsyncQueue<ReadUnit<ChangePosition, StreamPosition>>(8 * 1024 * 1024, async () => {
      stopped = true;
      await changes.close().catch(() => undefined);
    });
    void (async () => {
      const target = await this.capture.caughtUpTarget();
      let idlePolls = 0;
      while (!stopped) {
        const change = await changes.tryNext();
        if (change) {
          idlePolls = 0;
          const unit = this.capture.unitOf(change);
          await queue.push(unit, unit.bytes);
          if (target !== undefined && BigInt(unit.position.version) >= target) {
            queue.end();
            return;
          }
          continue;
        }
        // Caught up: nothing more to give now.
        if (this.capture.untilCaughtUp) {
          queue.end();
          return;
        }
        // Each poll of an idle stream costs the server a read of its oplog: poll less while idle.
        idlePolls++;
        await sleep(Math.min(IDLE_POLL_MAX_MS, IDLE_POLL_STEP_MS * idlePolls));
      }
    })().catch((error: Error) => queue.fail(error));
    return queue;
  }

  async acknowledge(): Promise<void> {
    // The runner stores the resume token; MongoDB keeps nothing for readers.
  }
}

function startAt(version: bigint): StreamPosition {
  return { startAtOperationTime: String(version), version: String(version) };
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
