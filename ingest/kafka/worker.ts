// The Kafka ingest worker: one member of a consumer group. Each assigned partition is a stream for
// the landing runner: its messages are units positioned by offset, batched by size and age, recorded
// as a write intent, landed, and committed only after the warehouse accepted. A restarted or newly
// assigned worker rebuilds the recorded batch with the same tokens. A partition whose runner is
// busy (a slow or failing warehouse) is paused instead of blocking the group's fetch loop, so the
// member keeps its place in the group; on every rebalance the runners start again from the
// committed offsets and the recorded batches.
import {
  Kafka,
  logLevel,
  type Admin,
  type Consumer,
  type EachBatchPayload,
  type KafkaMessage,
  type Producer,
} from 'kafkajs';
import { migrate, type Warehouse } from '../../warehouse/index.ts';
import { documentSourceTable } from '../documents/document-rows.ts';
import { protectDocumentText } from '../documents/protect-document.ts';
import { rowImage, type ChangeEnvelope, type Row } from '../envelope.ts';
import { CaptureError } from '../errors.ts';
import { AsyncQueue } from '../landing/async-queue.ts';
import { BATCH_DEFAULTS, followStream, type FollowResult } from '../landing/follow-stream.ts';
import { Lander } from '../landing/lander.ts';
import type {
  ChangeStream,
  LandingObserver,
  OriginalMessage,
  ReadUnit,
  SourceChange,
  StreamCodec,
} from '../landing/types.ts';
import { WarehouseSink } from '../landing/warehouse-sink.ts';
import type { PiiPolicy } from '../pii.ts';
import { tableKey, type DocumentField, type SourceTable } from '../source-table.ts';
import { z } from 'zod';
import { topicPartition, trackFetchedOffsets } from './compacted-topic.ts';
import { connectSchemaFingerprint, keyColumnsOf, shapeFromConnectSchema } from './connect-schema.ts';
import { DeadLetterTopic } from './dead-letter-topic.ts';
import { decodeChangeMessage, DEFAULT_MAX_EVENT_BYTES } from './decode-message.ts';
import { readWithDialect, type DialectRead, type PartitionState } from './dialects.ts';
import { headerText, PII_APPLIED_HEADER, SHAPE_HEADER } from './headers.ts';
import { idempotentProducer } from './producer.ts';
import { keyChangeFromHeaders } from './key-change-headers.ts';
import { withRowIdentity } from './row-identity.ts';
import { publishTableSchemas, SchemaCatalog } from './schema-topic.ts';
import { isSnapshotMarker, readSnapshotMarker } from './snapshot-marker.ts';
import { isRebalance } from './rebalance.ts';

export interface KafkaWorkerOptions {
  brokers: string[];
  group: string;
  topics: RegExp;
  warehouse: Warehouse;
  /** Applied to events nobody applied a policy to yet (Debezium's). */
  pii: PiiPolicy;
  /** Stop after this many seconds without a message, once the group committed everything. */
  untilIdleSeconds?: number;
  /** How often to look for new topics matching `topics` (kafkajs resolves the pattern once). Default 5 s. */
  topicRefreshMs?: number;
  /**
   * The typed top-level fields a pack declares for a MongoDB collection, for collections whose
   * shape nobody published (Debezium's MongoDB connector publishes none).
   */
  documentFields?: (database: string, collection: string) => DocumentField[];
  maxEventBytes?: number;
  /** Batch limits per partition (defaults: BATCH_DEFAULTS of the landing runner). */
  batchRows?: number;
  batchBytes?: number;
  batchDelayMs?: number;
  /**
   * How far the process's old generation may grow past its live size between full collections,
   * in percent (the Lander's option: heap-growth.ts). It applies to the whole process.
   */
  heapGrowingPercent?: number;
  signal?: AbortSignal;
  events?: WorkerEvents;
}

export interface WorkerEvents extends LandingObserver {
  /** A fetched batch arrived (before it is decoded and landed). */
  received?(stats: {
    topic: string;
    partition: number;
    messages: number;
    /** The batch's first and last messages' timestamps (when they were produced, by default). */
    firstTimestampMs: number;
    lastTimestampMs: number;
  }): void;
}

export interface WorkerResult {
  messages: number;
  deadLetters: number;
}

/** A Kafka message as a unit: at most one change, or the reason it cannot be one. */
type MessageUnit = ReadUnit<number, PartitionState>;

const OFFSET_CODEC: StreamCodec<number, PartitionState> = {
  position: z.number().int().nonnegative(),
  state: z.object({ snapshotLsn: z.number().int().nonnegative().optional() }),
  compare: (a, b) => a - b,
  text: String,
};

/**
 * What one fetch may bring: 512 KiB per partition, 2 MiB in all. Each message's bytes are views into
 * its fetch's response, which stays in memory until the last of them is landed, and larger fetches
 * cost more memory than they save in round trips (8 MiB and 2 MiB: 55 MB more peak RSS over 100k
 * messages at the same CPU; bench/README.md).
 */
const FETCH_BYTES = { total: 2 * 1024 * 1024, perPartition: 512 * 1024 } as const;
/** How often an idle partition's offset is moved past the transaction markers it fetched. */
const COMMIT_PAST_MARKERS_MS = 1_000;

export async function runKafkaWorker(options: KafkaWorkerOptions): Promise<WorkerResult> {
  const kafka = new Kafka({
    clientId: `tributary-${options.group}`,
    brokers: options.brokers,
    logLevel: logLevel.NOTHING,
  });
  const producer = idempotentProducer(kafka);
  // A killed member holds its partitions until its session times out: keep that short.
  const consumer = kafka.consumer({
    groupId: options.group,
    sessionTimeout: 10_000,
    heartbeatInterval: 1_000,
    maxBytes: FETCH_BYTES.total,
    maxBytesPerPartition: FETCH_BYTES.perPartition,
    maxWaitTimeInMs: 200,
  });
  const admin = kafka.admin();
  const worker = new Worker(
    options,
    producer,
    consumer,
    admin,
    new SchemaCatalog(kafka, (key, reason) => options.events?.warn?.(`schema of ${key} ignored: ${reason}`)),
  );
  return worker.run();
}

class Worker {
  private readonly pipeline: string;
  private readonly sink: WarehouseSink;
  private readonly decoder: EventDecoder;
  private readonly followers = new Map<string, PartitionFollower>();
  /** Settles once the runners of the previous assignment have stopped. */
  private barrier: Promise<void> = Promise.resolve();
  /** Counts abandonments: a runner asked for under an earlier assignment is not made. */
  private generation = 0;
  /** Set once the runners are told to stop: fetched batches are left to the next run. */
  private stopping = false;
  private readonly result: WorkerResult = { messages: 0, deadLetters: 0 };
  private failure: Error | undefined;
  private lastMessageAt = Date.now();
  /** Per partition (`topicPartition`), the offset past every record fetched, transaction markers included. */
  private readonly fetched = new Map<string, number>();
  private stop!: () => void;
  private readonly stopped = new Promise<void>((resolve) => (this.stop = resolve));

  constructor(
    private readonly options: KafkaWorkerOptions,
    private readonly producer: Producer,
    private readonly consumer: Consumer,
    private readonly admin: Admin,
    private readonly schemas: SchemaCatalog,
  ) {
    this.pipeline = `kafka:${options.group}`;
    this.sink = new WarehouseSink(options.warehouse, new DeadLetterTopic(producer));
    this.decoder = new EventDecoder(options, this.sink, schemas, producer);
  }

  async run(): Promise<WorkerResult> {
    const timers: NodeJS.Timeout[] = [];
    try {
      // Independent round trips, at once: the worker starts consuming that much sooner.
      await Promise.all([
        migrate(this.options.warehouse),
        this.schemas.start(),
        this.producer.connect(),
        this.consumer.connect(),
        this.admin.connect(),
      ]);
      // Tables with no change yet still get their (empty) mirror, as the native capture gives them.
      for (const [topic, table] of this.schemas.all())
        if (this.options.topics.test(topic)) await this.decoder.ensureMirror(table);
      let subscribed = new Set(await matchingTopics(this.admin, this.options.topics));
      await this.consumer.subscribe({ topics: [this.options.topics], fromBeginning: true });
      this.options.signal?.addEventListener('abort', () => this.stop());
      // A stop asked for while connecting is not lost.
      if (this.options.signal?.aborted) this.stop();
      // Partitions may have moved: the runners start again from what is committed and recorded.
      this.consumer.on(this.consumer.events.GROUP_JOIN, () => this.rebalanced());
      trackFetchedOffsets(this.consumer, this.fetched);
      this.consumer.on(this.consumer.events.CRASH, (event) => {
        if (!event.payload.restart) this.fail(event.payload.error);
      });
      const start = () =>
        this.consumer.run({
          autoCommit: false,
          eachBatchAutoResolve: false,
          eachBatch: (payload) => this.route(payload),
        });
      await start();
      this.options.events?.log?.(
        `consuming topics matching ${this.options.topics}: ${[...subscribed].join(', ') || 'none yet'}`,
      );
      // Idle is measured from when the consumer runs, not from when the worker began starting.
      this.lastMessageAt = Date.now();
      if (this.options.untilIdleSeconds !== undefined)
        timers.push(this.idleTimer(this.options.untilIdleSeconds));
      timers.push(setInterval(() => this.commitPastUndelivered(), COMMIT_PAST_MARKERS_MS));
      // A topic made after the subscription (a table captured later, a connector still starting) is
      // only consumed once the consumer subscribes again; the write intents make the restart safe.
      let refreshing: Promise<void> | undefined;
      let ending = false;
      void this.stopped.then(() => (ending = true));
      timers.push(
        setInterval(() => {
          if (refreshing || ending) return;
          refreshing = matchingTopics(this.admin, this.options.topics)
            .then(async (topics) => {
              if (ending || topics.every((topic) => subscribed.has(topic))) return;
              this.options.events?.log?.(
                `new topics: ${topics.filter((topic) => !subscribed.has(topic)).join(', ')}`,
              );
              this.lastMessageAt = Date.now();
              subscribed = new Set(topics);
              this.abandonAll();
              await this.barrier;
              await this.consumer.stop();
              await this.consumer.subscribe({ topics: [this.options.topics], fromBeginning: true });
              await start();
            })
            .catch((error: Error) => this.fail(error))
            .finally(() => (refreshing = undefined));
        }, this.options.topicRefreshMs ?? 5000),
      );
      await this.stopped;
      for (const timer of timers) clearInterval(timer);
      // A resubscription under way finishes before the runners stop.
      await refreshing;
      await this.stopFollowers();
      if (this.failure) throw this.failure;
      return this.result;
    } finally {
      for (const timer of timers) clearInterval(timer);
      this.abandonAll();
      await this.barrier;
      await this.consumer.disconnect();
      await this.admin.disconnect();
      await this.producer.disconnect();
      await this.schemas.stop();
    }
  }

  /** Hands a fetched batch to its partition's runner; pauses the partition while the runner is full. */
  private async route(payload: EachBatchPayload): Promise<void> {
    await this.barrier;
    const generation = this.generation;
    const { batch } = payload;
    if (batch.messages.length === 0 || payload.isStale() || this.failure || this.stopping) return;
    this.lastMessageAt = Date.now();
    this.options.events?.received?.({
      topic: batch.topic,
      partition: batch.partition,
      messages: batch.messages.length,
      firstTimestampMs: Number(batch.messages[0]?.timestamp ?? 0),
      lastTimestampMs: Number(batch.messages.at(-1)?.timestamp ?? 0),
    });
    const key = topicPartition(batch.topic, batch.partition);
    const follower = this.followers.get(key) ?? (await this.follow(batch.topic, batch.partition, generation));
    // The group rebalanced while the committed offset was read: the batch is fetched again.
    if (!follower) return;
    if (!follower.positioned) {
      follower.positioned = true;
      // A batch fetched before the group rebalanced may start past the committed offset a new
      // runner resumes from (kafkajs marks only sought batches stale), and the runner must rebuild
      // its recorded batch from there: fetch again from the committed offset, once (after that, a
      // first offset past it is a gap in the log, not a skipped message).
      if (Number(batch.messages[0]?.offset) > follower.nextOffset) {
        this.consumer.seek({
          topic: batch.topic,
          partition: batch.partition,
          offset: String(follower.nextOffset),
        });
        return;
      }
    }
    let space: Promise<void> = Promise.resolve();
    for (const message of batch.messages) {
      const offset = Number(message.offset);
      // Offsets a runner already has (or that were committed) are not handed to it again: a
      // runner's units must come in order, each once, or a batch is landed under a new token.
      if (offset < follower.nextOffset) continue;
      follower.nextOffset = offset + 1;
      space = follower.queue.push(message, message.value?.length ?? 0);
    }
    // The last offset resolves the whole batch: the consumer fetches on after it.
    const last = batch.messages.at(-1);
    if (last) payload.resolveOffset(last.offset);
    if (follower.queue.full) {
      const partition = [{ topic: batch.topic, partitions: [batch.partition] }];
      this.consumer.pause(partition);
      void space.then(() => {
        if (this.followers.get(key) === follower) this.consumer.resume(partition);
      });
    }
    await payload.heartbeat();
  }

  private async follow(
    topic: string,
    partition: number,
    generation: number,
  ): Promise<PartitionFollower | undefined> {
    const committed = await committedOffset(this.admin, this.options.group, topic, partition);
    if (generation !== this.generation) return undefined;
    const follower = new PartitionFollower(topic, partition, committed, this);
    this.followers.set(topicPartition(topic, partition), follower);
    follower.done
      .then((result) => {
        this.result.messages += result.units;
        this.result.deadLetters += result.deadLetters;
      })
      .catch((error: Error) => this.fail(error));
    return follower;
  }

  /**
   * The group rebalanced: partitions may have moved. kafkajs keeps a partition paused across a
   * rebalance, and the runner that would have resumed it once its queue drained is gone: without
   * the resume the partition is never fetched again, and the worker waits for ever doing nothing.
   */
  private rebalanced(): void {
    const previous = this.abandonAll();
    if (previous.length > 0)
      this.consumer.resume(
        previous.map((follower) => ({ topic: follower.topic, partitions: [follower.partition] })),
      );
  }

  /** Stops every runner at once, landing nothing more; the next assignment rebuilds what was recorded. */
  private abandonAll(): PartitionFollower[] {
    this.generation++;
    const previous = [...this.followers.values()];
    this.followers.clear();
    for (const follower of previous) follower.abandon.abort();
    const previousBarrier = this.barrier;
    this.barrier = Promise.all([
      previousBarrier,
      ...previous.map((follower) => follower.done.catch(() => undefined)),
    ]).then(() => undefined);
    return previous;
  }

  /** Graceful stop: no new fetches; each runner lands and commits what it read. */
  private async stopFollowers(): Promise<void> {
    this.stopping = true;
    const running = [...this.followers.values()];
    this.consumer.pause(
      running.map((follower) => ({ topic: follower.topic, partitions: [follower.partition] })),
    );
    for (const follower of running) follower.stop.abort();
    await Promise.all(running.map((follower) => follower.done.catch(() => undefined)));
  }

  /** `--until-idle`: stops once no message came for that long and the group committed everything. */
  private idleTimer(seconds: number): NodeJS.Timeout {
    let checking = false;
    return setInterval(() => {
      if (checking || Date.now() - this.lastMessageAt < seconds * 1000) return;
      // Idle is not enough (a rebalance can take a while): the group must have committed everything.
      checking = true;
      groupCaughtUp(this.admin, this.options.group, this.options.topics)
        .then((caughtUp) => caughtUp && this.stop())
        .catch(() => undefined)
        .finally(() => (checking = false));
    }, 500);
  }

  /**
   * A partition's committed offset stops at the last message landed; transaction markers and
   * aborted records after it are never delivered, so nothing else would move it past them: the
   * group would show a lag of one per transaction for ever, and never look caught up. Once a runner
   * has landed and committed everything handed to it and the consumer fetched past such records,
   * the offset moves past them (as Kafka's own consumers commit their position). No await comes
   * between the check and the commit's request, so a later landing's commit is sent after it.
   */
  private commitPastUndelivered(): void {
    const moves = [...this.followers.values()].flatMap((follower) => {
      const fetched = this.fetched.get(topicPartition(follower.topic, follower.partition)) ?? 0;
      if (fetched <= Math.max(follower.nextOffset, follower.committedPastMarkers)) return [];
      if (follower.stream.committed !== follower.nextOffset) return [];
      follower.committedPastMarkers = fetched;
      return [{ topic: follower.topic, partition: follower.partition, offset: String(fetched) }];
    });
    if (moves.length === 0) return;
    this.consumer.commitOffsets(moves).catch((error: unknown) => {
      // The group is rebalancing: the partition's next reader starts from what was committed.
      if (!isRebalance(error))
        this.fail(
          new CaptureError(`committing past transaction markers failed: ${String(error)}`, { cause: error }),
        );
    });
  }

  private fail(error: Error): void {
    this.failure ??= error;
    this.stop();
  }

  /** What a partition's runner needs from the worker. */
  get context() {
    return {
      options: this.options,
      pipeline: this.pipeline,
      sink: this.sink,
      decoder: this.decoder,
      consumer: this.consumer,
    };
  }
}

/** One assigned partition, read by its own runner. */
class PartitionFollower {
  readonly queue: AsyncQueue<KafkaMessage>;
  readonly abandon = new AbortController();
  readonly stop = new AbortController();
  readonly done: Promise<FollowResult>;
  /** The offset the runner reads next: those before it were handed over already. */
  nextOffset: number;
  /** Whether the consumer's fetch position was checked against the committed offset. */
  positioned = false;
  readonly stream: PartitionStream;
  /** Where the offset was last moved past transaction markers: each move is committed once. */
  committedPastMarkers = 0;

  constructor(
    readonly topic: string,
    readonly partition: number,
    committed: number,
    worker: Worker,
  ) {
    this.nextOffset = committed;
    const { options, pipeline, sink, decoder, consumer } = worker.context;
    const batchBytes = options.batchBytes ?? BATCH_DEFAULTS.bytes;
    this.queue = new AsyncQueue<KafkaMessage>(batchBytes);
    const stream = (this.stream = new PartitionStream(
      topic,
      partition,
      committed,
      this.queue,
      decoder,
      consumer,
    ));
    const signals = [this.abandon.signal, ...(options.signal ? [options.signal] : [])];
    this.done = followStream(stream, {
      lander: new Lander({
        pipeline,
        sink,
        signal: AbortSignal.any(signals),
        observer: options.events,
        heapGrowingPercent: options.heapGrowingPercent,
      }),
      batchRows: options.batchRows,
      batchBytes,
      batchDelayMs: options.batchDelayMs,
      signal: this.stop.signal,
      abandon: this.abandon.signal,
      observer: options.events,
    });
  }
}

/** A partition's messages as a landing stream; committed offsets are where it stands. */
class PartitionStream implements ChangeStream<number, PartitionState, MessageUnit> {
  readonly id: string;
  private committedOffset: number;
  readonly codec = OFFSET_CODEC;
  readonly acknowledgedAtSource = true;

  constructor(
    private readonly topic: string,
    private readonly partition: number,
    private readonly committedAtStart: number,
    private readonly messages: AsyncQueue<KafkaMessage>,
    private readonly decoder: EventDecoder,
    private readonly consumer: Consumer,
  ) {
    this.id = topicPartition(topic, partition);
    this.committedOffset = committedAtStart;
  }

  /** The offset committed last: where the partition stands. */
  get committed(): number {
    return this.committedOffset;
  }

  async isAcknowledged(offset: number): Promise<boolean> {
    return offset < this.committedAtStart;
  }

  read(state: PartitionState | undefined): AsyncIterator<MessageUnit> {
    let current: PartitionState = state ?? {};
    const read = (unit: MessageUnit): IteratorResult<MessageUnit> => {
      current = unit.stateAfter ?? current;
      return { value: unit, done: false };
    };
    return {
      // Chained, not awaited: most units decode synchronously, and each await is a hop per message.
      next: () =>
        this.messages.next().then((next) => {
          if (next.done) return next;
          const unit = this.decoder.decode(this.topic, this.partition, next.value, current);
          return unit instanceof Promise ? unit.then(read) : read(unit);
        }),
      return: async () => {
        await this.messages.return();
        return { value: undefined, done: true };
      },
    };
  }

  async acknowledge(unit: MessageUnit): Promise<void> {
    try {
      await this.consumer.commitOffsets([
        { topic: this.topic, partition: this.partition, offset: String(unit.position + 1) },
      ]);
      this.committedOffset = unit.position + 1;
    } catch (error) {
      // The group is rebalancing: the partition's next reader rebuilds the recorded batch.
      if (!isRebalance(error)) throw error;
    }
  }
}

/** Turns messages into changes: decoding, the connector's dialect, PII, and the table's mirror. */
class EventDecoder {
  /** Collections nobody published a shape for (Debezium's): the schema topic is read once for each. */
  private readonly declaredCollections = new Map<string, SourceTable>();
  /** Shapes derived from events' Connect schemas, by table and schema fingerprint (null: none). */
  private readonly eventShapes = new WeakMap<SourceTable, Map<string, SourceTable | null>>();

  constructor(
    private readonly options: KafkaWorkerOptions,
    private readonly sink: WarehouseSink,
    private readonly schemas: SchemaCatalog,
    private readonly producer: Producer,
  ) {}

  /**
   * The message's unit. Synchronous while the table's shape is known and its mirror registered (all
   * but a table's first events): an async hop per message cost more than the rest of its decoding.
   */
  decode(
    topic: string,
    partition: number,
    message: KafkaMessage,
    state: PartitionState,
  ): MessageUnit | Promise<MessageUnit> {
    const position = Number(message.offset);
    const bytes = message.value?.length ?? 0;
    if (isSnapshotMarker(message.headers)) return this.markerUnit(topic, partition, message, state);
    const decoded = decodeChangeMessage(message.value, this.options.maxEventBytes ?? DEFAULT_MAX_EVENT_BYTES);
    if (decoded.kind === 'drop') return { changes: [], position, bytes, stateAfter: state };
    const original = new ReceivedMessage(topic, partition, message);
    if (decoded.kind === 'dead-letter') return rejectedUnit(decoded.reason, original, position, bytes, state);
    const keyChange = keyChangeFromHeaders(message.headers, decoded.envelope);
    const read = readWithDialect(
      keyChange ? { ...decoded.envelope, keyChange } : decoded.envelope,
      message.key?.toString() ?? null,
      state,
    );
    if (!read.ok) return rejectedUnit(read.reason, original, position, bytes, state);
    const known = this.knownTable(read.envelope, read.namespace);
    if (known) return this.changeUnit(known, read, original, position, bytes, decoded.schema);
    return this.resolveTable(read.envelope, read.namespace, decoded.schema, message.key).then(
      async (table) => {
        if (!table)
          return rejectedUnit(
            `no table shape is published on tributary.schemas for ${read.table}`,
            original,
            position,
            bytes,
            state,
          );
        await this.ensureMirror(table);
        return this.changeUnit(table, read, original, position, bytes, decoded.schema);
      },
    );
  }

  /** A snapshot's end marker (snapshot-marker.ts): the unit that reports its partition's part landed. */
  private async markerUnit(
    topic: string,
    partition: number,
    message: KafkaMessage,
    state: PartitionState,
  ): Promise<MessageUnit> {
    const position = Number(message.offset);
    const bytes = message.value?.length ?? 0;
    const reject = (reason: string) =>
      rejectedUnit(reason, new ReceivedMessage(topic, partition, message), position, bytes, state);
    const read = readSnapshotMarker(message.value);
    if (!read.ok) return reject(read.reason);
    const { marker } = read;
    const table = await this.publishedTable(marker.source, marker.schema, marker.table);
    if (!table)
      return reject(`no table shape is published on tributary.schemas for the snapshot of ${marker.table}`);
    await this.ensureMirror(table);
    return {
      changes: [],
      position,
      bytes,
      stateAfter: state,
      snapshotCompleted: {
        table,
        version: BigInt(marker.version),
        part: { id: String(partition), of: marker.partitions },
      },
    };
  }

  /**
   * A change's unit, converted with the shape it was written with where that may not be the
   * table's newest: the native capture names it (SHAPE_HEADER), Debezium's event carries it (its
   * Connect schema). A change logged before an ALTER is then read as it was written (DATETIME(3)
   * in milliseconds, (6) in microseconds).
   */
  private changeUnit(
    table: SourceTable,
    read: DialectRead,
    original: ReceivedMessage,
    position: number,
    bytes: number,
    connectSchema: unknown,
  ): MessageUnit | Promise<MessageUnit> {
    // The native capture applied its policy at the source and says so; Debezium's events get it here.
    const protectedEnvelope = original.message.headers?.[PII_APPLIED_HEADER]
      ? read.envelope
      : protect(read.envelope, this.options.pii);
    const envelope = withRowIdentity(protectedEnvelope, table, original);
    // The common case (no shape of its own) allocates nothing more than before: this runs per message.
    const change: SourceChange = { envelope, version: read.version, table: read.table, original };
    const unit = { changes: [change], position, bytes, stateAfter: read.state };
    const digest = headerText(original.message.headers?.[SHAPE_HEADER]);
    if (digest === undefined) {
      const shape =
        connectSchema === undefined ? undefined : this.eventShape(table, read.envelope, connectSchema);
      if (shape) change.shape = shape;
      return unit;
    }
    // The native capture published the shape before the change.
    const published = () => this.schemas.version(tableKey(table), digest);
    const shape = published();
    if (shape) {
      change.shape = shape;
      return unit;
    }
    return this.schemas.catchUp().then(() => {
      const caughtUp = published();
      if (!caughtUp)
        return rejectedUnit(
          `the shape ${digest} the change was read with is not published on tributary.schemas for ${tableKey(table)}`,
          original,
          position,
          bytes,
          read.state,
        );
      change.shape = caughtUp;
      return unit;
    });
  }

  /** The event's table when its known shape fits the event and its mirror is registered as it is. */
  private knownTable(envelope: ChangeEnvelope, schema: string): SourceTable | undefined {
    const { name, db, table: tableName, collection } = envelope.source;
    let table: SourceTable | undefined;
    if (collection !== undefined)
      table =
        this.schemas.get(name, db, collection) ?? this.declaredCollections.get(`${name}.${db}.${collection}`);
    else if (tableName) {
      table = this.schemas.get(name, schema, tableName);
      if (table && !fitsShape(table, envelope)) return undefined;
    }
    return table && this.sink.isRegistered(table) ? table : undefined;
  }

  async ensureMirror(table: SourceTable): Promise<void> {
    if (!this.sink.isRegistered(table)) await this.sink.register(table);
  }

  /** The shape an event's Connect schema gives its table, derived once per distinct schema. */
  private eventShape(
    table: SourceTable,
    envelope: ChangeEnvelope,
    connectSchema: unknown,
  ): SourceTable | undefined {
    if (envelope.source.collection !== undefined) return undefined;
    const fingerprint = connectSchemaFingerprint(connectSchema);
    if (fingerprint === undefined) return undefined;
    let shapes = this.eventShapes.get(table);
    if (!shapes) this.eventShapes.set(table, (shapes = new Map()));
    let shape = shapes.get(fingerprint);
    if (shape === undefined) {
      const keyColumns = mysqlKeyless(envelope, table.rowIdentity === 'row') ? [] : table.key;
      shape = this.deriveShape(connectSchema, envelope, table.schema, table, keyColumns) ?? null;
      shapes.set(fingerprint, shape);
    }
    return shape ?? undefined;
  }

  /** The table's shape from an event's Connect schema, keyed by `keyColumns` (none: `mysqlKeyless`). */
  private deriveShape(
    connectSchema: unknown,
    envelope: ChangeEnvelope,
    schema: string,
    table: SourceTable | undefined,
    keyColumns: string[],
  ): SourceTable | undefined {
    const { connector, name, table: tableName } = envelope.source;
    if (!tableName) return undefined;
    return shapeFromConnectSchema(connectSchema, {
      connector,
      source: name,
      schema,
      table: tableName,
      key: keyColumns,
      beforeImage: table?.beforeImage,
      pii: this.options.pii,
      warn: (message) => this.options.events?.warn?.(message),
    });
  }

  /** A shape the native capture published (it publishes before anything that needs it). */
  private async publishedTable(
    source: string,
    schema: string,
    table: string,
  ): Promise<SourceTable | undefined> {
    const known = this.schemas.get(source, schema, table);
    if (known) return known;
    await this.schemas.catchUp();
    return this.schemas.get(source, schema, table);
  }

  /**
   * The table's shape. When the event shows columns the known shape lacks, the schema topic is read
   * up to now (the native capture publishes a new shape before the changes that need it), and
   * failing that the shape comes from the Connect schema the event carries (Debezium with schemas):
   * it is published for the other workers, and the worker never asks the source.
   */
  private async resolveTable(
    envelope: ChangeEnvelope,
    schema: string,
    connectSchema: unknown,
    key: Buffer | null,
  ): Promise<SourceTable | undefined> {
    if (envelope.source.collection !== undefined) return this.resolveCollection(envelope);
    const { name, table: tableName } = envelope.source;
    if (!tableName) return undefined;
    let table = this.schemas.get(name, schema, tableName);
    if (table && fitsShape(table, envelope)) return table;
    await this.schemas.catchUp();
    table = this.schemas.get(name, schema, tableName);
    if ((table && fitsShape(table, envelope)) || connectSchema === undefined) return table;
    const keyless = mysqlKeyless(envelope, table ? table.rowIdentity === 'row' : key === null);
    const keyColumns = keyless ? [] : (table?.key ?? keyColumnsOf(parseKeySchema(key)));
    if (!keyColumns || (keyColumns.length === 0 && !keyless)) return table;
    const derived = this.deriveShape(connectSchema, envelope, schema, table, keyColumns);
    if (!derived) return table;
    await publishTableSchemas(this.producer, [derived]);
    await this.schemas.catchUp();
    this.options.events?.log?.(
      `${name}.${schema}.${tableName}: shape taken from the event's schema (${derived.columns.length} columns)`,
    );
    return derived;
  }

  /** A collection's mirror shape: as its native capture published it, else from the pack's declaration. */
  private async resolveCollection(envelope: ChangeEnvelope): Promise<SourceTable | undefined> {
    const { name, db, collection } = envelope.source;
    if (!collection) return undefined;
    const published = this.schemas.get(name, db, collection);
    if (published) return published;
    const key = `${name}.${db}.${collection}`;
    let declared = this.declaredCollections.get(key);
    if (!declared) {
      await this.schemas.catchUp();
      const caughtUp = this.schemas.get(name, db, collection);
      if (caughtUp) return caughtUp;
      declared = documentSourceTable(
        name,
        db,
        collection,
        this.options.documentFields?.(db, collection) ?? [],
      );
      this.declaredCollections.set(key, declared);
    }
    return declared;
  }
}

/** Each known shape's column names, looked up for every event (shapes are replaced, never changed). */
const COLUMN_NAMES = new WeakMap<SourceTable, Set<string>>();

/** Whether the shape has every column the event's row carries. */
function fitsShape(table: SourceTable, envelope: ChangeEnvelope): boolean {
  let columns = COLUMN_NAMES.get(table);
  if (!columns) COLUMN_NAMES.set(table, (columns = new Set(table.columns.map((column) => column.name))));
  const image = rowImage(envelope.after ?? envelope.before);
  if (image) for (const field in image) if (!columns.has(field)) return false;
  return true;
}

/**
 * Debezium's MySQL connectors send a table without a key with no message key: its rows are named by
 * their values (a `_row_id` digest the codec adds), as the native capture names them.
 */
function mysqlKeyless(envelope: ChangeEnvelope, withoutKey: boolean): boolean {
  const { connector } = envelope.source;
  return (connector === 'mysql' || connector === 'mariadb') && withoutKey;
}

/** A message that cannot be a change: a dead letter with the reason, and the partition moves past it. */
function rejectedUnit(
  reason: string,
  original: ReceivedMessage,
  position: number,
  bytes: number,
  state: PartitionState,
): MessageUnit {
  return {
    changes: [],
    rejected: [{ reason, stage: 'decode', original, source: original.topic.split('.')[0] }],
    position,
    bytes,
    stateAfter: state,
  };
}

/** The Connect schema of a message key sent with schemas enabled (`{schema, payload}`). */
function parseKeySchema(key: Buffer | null): unknown {
  try {
    return (JSON.parse(key?.toString() ?? 'null') as { schema?: unknown } | null)?.schema;
  } catch {
    return undefined;
  }
}

/**
 * The message exactly as it came, for a dead letter. Its fields are read only when one is written:
 * copying every message's headers up front was among the worker's largest costs per message.
 */
class ReceivedMessage implements OriginalMessage {
  constructor(
    readonly topic: string,
    readonly partition: number,
    readonly message: KafkaMessage,
  ) {}

  get offset(): string {
    return this.message.offset;
  }

  get key(): Buffer | null {
    return this.message.key;
  }

  get value(): Buffer | null {
    return this.message.value;
  }

  get headers(): Record<string, Buffer> {
    const headers: Record<string, Buffer> = {};
    for (const [name, value] of Object.entries(this.message.headers ?? {})) {
      const first = Array.isArray(value) ? value[0] : value;
      if (first !== undefined) headers[name] = Buffer.isBuffer(first) ? first : Buffer.from(first);
    }
    return headers;
  }
}

/** Debezium's events carry source values as they are: apply the same secret and PII rules. */
function protect(envelope: ChangeEnvelope, pii: PiiPolicy): ChangeEnvelope {
  const clean = (row: Row | string | null | undefined): Row | string | null | undefined => {
    if (!row) return row;
    if (typeof row === 'string') return protectDocumentText(row, pii);
    const result: Row = {};
    for (const [field, value] of Object.entries(row)) {
      const treatment = pii.treatmentOf(field);
      if (treatment === 'keep') result[field] = value;
      else if (treatment === 'hash') result[field] = pii.hash(value);
    }
    return result;
  };
  return { ...envelope, before: clean(envelope.before), after: clean(envelope.after) };
}

/** kafkajs' errors for a commit from a member whose group is being rebalanced. */

async function committedOffset(
  admin: Admin,
  group: string,
  topic: string,
  partition: number,
): Promise<number> {
  const [entry] = await admin.fetchOffsets({ groupId: group, topics: [topic] });
  const offset = Number(
    entry?.partitions.find((candidate) => candidate.partition === partition)?.offset ?? -1,
  );
  return Math.max(0, offset);
}

/** The topics a worker subscribed with `topics` consumes: not Tributary's own, not Kafka's internal ones. */
async function matchingTopics(admin: Admin, topics: RegExp): Promise<string[]> {
  return (await admin.listTopics())
    .filter((topic) => topics.test(topic) && !topic.startsWith('tributary.') && !topic.startsWith('__'))
    .sort();
}

/** Whether the group's committed offsets reached the end of every partition of the matching topics. */
async function groupCaughtUp(admin: Admin, group: string, topics: RegExp): Promise<boolean> {
  const names = await matchingTopics(admin, topics);
  const committed = await admin.fetchOffsets({ groupId: group, topics: names });
  for (const name of names) {
    const ends = await admin.fetchTopicOffsets(name);
    const done = committed.find((entry) => entry.topic === name)?.partitions ?? [];
    for (const end of ends) {
      const offset = Number(done.find((partition) => partition.partition === end.partition)?.offset ?? -1);
      if (Number(end.high) > Math.max(offset, Number(end.low))) return false;
    }
  }
  return true;
}
