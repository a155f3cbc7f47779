// Native Postgres capture: snapshot, then stream, landing each batch of whole transactions in the raw
// mirrors exactly once. The write intent of a batch is stored before it lands, and the slot is
// confirmed after; a restart replays the unconfirmed batch with the same deduplication tokens.
import type { Pgoutput } from 'pg-logical-replication';
import type pg from 'pg';
import type { CaptureSink } from '../capture-sink.ts';
import type { ChangeEnvelope } from '../envelope.ts';
import { TributaryError } from '../../errors/index.ts';
import { CaptureError } from '../errors.ts';
import type { RejectedEvent } from '../mirror-writer.ts';
import type { PiiPolicy } from '../pii.ts';
import { qualifiedName } from '../source-table.ts';
import {
  checkLogicalReplication,
  connectSource,
  readCatalog,
  readTypes,
  redactUrl,
  type CatalogTable,
  type TableSelection,
} from './catalog.ts';
import {
  createSlotWithSnapshot,
  currentWalLsn,
  dropSlot,
  ensurePublication,
  replicationNames,
  slotConfirmedLsn,
  slotExists,
  slotRestartLsn,
  waitForSlotRelease,
} from './replication-slot.ts';
import { formatLsn } from './lsn.ts';
import { readSnapshot } from './snapshot.ts';
import { createTableCodec, type TableCodec } from './table-codec.ts';
import { WalStream, type WalTransaction } from './wal-stream.ts';

export interface PostgresCaptureOptions {
  sourceUrl: string;
  sourceName: string;
  tables: TableSelection;
  /** Where changes land: the warehouse's raw mirrors, or Kafka. Opened and closed by the capture. */
  sink: CaptureSink;
  pii: PiiPolicy;
  /** Stop once the snapshot is done and the mirrors reached the WAL position read at start. */
  untilCaughtUp: boolean;
  /** Flush when this many changes are buffered… */
  batchRows?: number;
  /** …or this many bytes of them (large rows: memory stays bounded whatever the row size)… */
  batchBytes?: number;
  /** …or when the oldest buffered change is this old. */
  batchDelayMs?: number;
  snapshotChunkRows?: number;
  signal?: AbortSignal;
  events?: CaptureEvents;
}

export interface CaptureEvents {
  log?(message: string): void;
  warn?(message: string): void;
  snapshotProgress?(table: string, rows: number): void;
  landed?(stats: { changes: number; confirmedLsn: number; targetLsn?: number }): void;
}

export interface CaptureResult {
  snapshotRows: number;
  streamedChanges: number;
  confirmedLsn: number;
  deadLetters: number;
}

interface SnapshotState {
  slot: string;
  consistentPoint: number;
  tables: string[];
  done: boolean;
}

/** The batch being landed: its range of commit LSNs. */
interface WalIntent {
  slotLineage: number;
  firstCommit: number;
  lastCommit: number;
  /** How many times the batch has been landed from this intent: 1, then one more per resume. */
  attempts?: number;
}

export async function runPostgresCapture(options: PostgresCaptureOptions): Promise<CaptureResult> {
  return startPostgresCapture(options).result;
}

export interface RunningCapture {
  result: Promise<CaptureResult>;
  /** Reads the source's WAL position now and stops once the mirrors reached it. */
  catchUpAndStop(): Promise<CaptureResult>;
}

export function startPostgresCapture(options: PostgresCaptureOptions): RunningCapture {
  const capture = new PostgresCapture(options);
  const result = capture.run();
  return {
    result,
    async catchUpAndStop() {
      await capture.finishAtCurrentPosition();
      return result;
    },
  };
}

class PostgresCapture {
  private readonly pipeline: string;
  private readonly names: { slot: string; publication: string };
  private readonly sink: CaptureSink;
  private readonly batchRows: number;
  private readonly batchBytes: number;
  private readonly batchDelayMs: number;
  private catalogClient: pg.Client | undefined;
  private serverVersion = 0;
  private database = '';
  private readonly warnedTypes = new Set<string>();
  private readonly result: CaptureResult = {
    snapshotRows: 0,
    streamedChanges: 0,
    confirmedLsn: 0,
    deadLetters: 0,
  };
  /** Where to stop (`--until-caught-up`, or `finishAtCurrentPosition()`); undefined streams on. */
  private targetLsn: number | undefined;
  private readonly ready: Promise<void>;
  private markReady!: () => void;
  private onTargetChanged: () => void = () => undefined;
  private completed = false;

  constructor(private readonly options: PostgresCaptureOptions) {
    this.pipeline = `postgres:${options.sourceName}`;
    this.names = replicationNames(options.sourceName);
    this.sink = options.sink;
    this.batchRows = options.batchRows ?? 20_000;
    this.batchBytes = options.batchBytes ?? 16 * 1024 * 1024;
    this.batchDelayMs = options.batchDelayMs ?? 200;
    this.ready = new Promise((resolve) => (this.markReady = resolve));
  }

  async finishAtCurrentPosition(): Promise<void> {
    await this.ready;
    if (this.completed || !this.catalogClient) return;
    this.targetLsn = await currentWalLsn(this.catalogClient);
    this.onTargetChanged();
  }

  async run(): Promise<CaptureResult> {
    try {
      const client = (this.catalogClient = await connectSource(this.options.sourceUrl));
      ({ serverVersion: this.serverVersion } = await checkLogicalReplication(client));
      this.database = client.database ?? '';
      const catalog = await readCatalog(client, this.options.tables);
      for (const reason of catalog.skipped) this.warn(`skipped: ${reason}`);
      if (catalog.tables.length === 0)
        throw new CaptureError(
          'no table to capture: the source has no table with a primary key in the selection',
        );
      this.log(
        `capturing ${catalog.tables.length} table(s) of ${redactUrl(this.options.sourceUrl)} as "${this.options.sourceName}"`,
      );
      if (this.options.untilCaughtUp) this.targetLsn = await currentWalLsn(client);
      await this.sink.open();
      const codecs = catalog.tables.map((table) => this.codecFor(table));
      for (const codec of codecs) await this.sink.register(codec.table);
      const tableNames = codecs.map((codec) => qualifiedName(codec.table)).sort();
      await ensurePublication(client, this.names.publication, tableNames, this.serverVersion);
      const lineage = await this.ensureSnapshot(client, codecs, tableNames);
      await this.stream(client, codecs, lineage);
      return this.result;
    } finally {
      this.completed = true;
      this.markReady();
      await this.sink.close().catch(() => undefined);
      await this.catalogClient?.end().catch(() => undefined);
    }
  }

  private codecFor(
    table: Pick<CatalogTable, 'schema' | 'table' | 'columns' | 'key' | 'fullIdentity'>,
  ): TableCodec {
    return createTableCodec({
      source: this.options.sourceName,
      schema: table.schema,
      table: table.table,
      columns: table.columns,
      key: table.key,
      fullIdentity: table.fullIdentity,
      pii: this.options.pii,
      generatedColumnsStreamed: this.serverVersion >= 180000,
      onUnknownType: (type) => {
        if (this.warnedTypes.has(type)) return;
        this.warnedTypes.add(type);
        this.warn(`type ${type} is not known to Tributary; its values are kept as text`);
      },
      onSkippedColumn: (column, reason) =>
        this.warn(`${table.schema}.${table.table}.${column} is not mirrored: ${reason}`),
    });
  }

  /**
   * Takes the initial snapshot unless a completed one exists for this slot and these tables.
   * Returns the slot's lineage (its consistent point), which scopes the WAL intents.
   */
  private async ensureSnapshot(
    client: pg.Client,
    codecs: TableCodec[],
    tableNames: string[],
  ): Promise<number> {
    const state = await this.sink.readCheckpoint<SnapshotState>(this.pipeline, 'snapshot');
    const reusable =
      state?.done === true &&
      state.slot === this.names.slot &&
      state.tables.join(',') === tableNames.join(',') &&
      (await slotExists(client, this.names.slot));
    if (reusable) {
      await waitForSlotRelease(client, this.names.slot);
      return state.consistentPoint;
    }
    if (state && !state.done) this.warn('the previous snapshot did not finish; taking a new one');
    else if (state)
      this.warn('the captured tables or the slot changed since the last snapshot; taking a new one');

    await dropSlot(client, this.names.slot);
    const exported = await createSlotWithSnapshot(this.options.sourceUrl, this.names.slot);
    // Not the consistent point: a transaction that began before it and commits after it is streamed,
    // and its changes carry older LSNs. Versioned at the consistent point, the snapshot's rows would
    // outrank those changes and lose them.
    const snapshotVersion = await slotRestartLsn(client, this.names.slot);
    const snapshot: SnapshotState = {
      slot: this.names.slot,
      consistentPoint: exported.consistentPoint,
      tables: tableNames,
      done: false,
    };
    await this.sink.writeCheckpoint(this.pipeline, 'snapshot', snapshot);
    let landing = Promise.resolve();
    try {
      await readSnapshot({
        url: this.options.sourceUrl,
        snapshotName: exported.snapshotName,
        version: snapshotVersion,
        database: this.database,
        sourceName: this.options.sourceName,
        tables: codecs,
        chunkRows: this.options.snapshotChunkRows ?? 10_000,
        // One chunk lands while the next is read and decoded; snapshot rows share one version and
        // never overlap, so their order does not matter.
        onChunk: async (codec, envelopes, chunkIndex) => {
          await landing;
          const name = qualifiedName(codec.table);
          landing = this.land(
            envelopes,
            `${this.pipeline}:snapshot:${exported.consistentPoint}:${name}:${chunkIndex}`,
          ).then(() => {
            this.result.snapshotRows += envelopes.length;
            this.options.events?.snapshotProgress?.(name, envelopes.length);
          });
          // Its failure surfaces at the next await, not as an unhandled rejection meanwhile.
          landing.catch(() => undefined);
        },
      });
      await landing;
    } finally {
      await exported.release();
    }
    // Rows an earlier snapshot or stream left behind but this snapshot no longer saw are gone.
    await this.sink.completeSnapshot(snapshotVersion);
    await this.sink.writeCheckpoint(this.pipeline, 'snapshot', { ...snapshot, done: true });
    return exported.consistentPoint;
  }

  private async stream(client: pg.Client, initialCodecs: TableCodec[], lineage: number): Promise<void> {
    const known = new Map(initialCodecs.map((codec) => [qualifiedName(codec.table), codec]));
    const storedIntent = await this.sink.readCheckpoint<WalIntent | null>(this.pipeline, 'wal');
    let confirmed = Math.max(lineage, await slotConfirmedLsn(client, this.names.slot));
    this.result.confirmedLsn = confirmed;
    // An intent from an older slot describes WAL this slot never sends; one the slot confirmed past
    // (a clean stop confirms what landed) has nothing left to rebuild.
    let replay =
      storedIntent && storedIntent.slotLineage === lineage && storedIntent.lastCommit >= confirmed
        ? { ...storedIntent, attempts: (storedIntent.attempts ?? 1) + 1 }
        : undefined;
    if (replay) {
      this.log(
        `resuming: the batch of commits ${formatLsn(replay.firstCommit)}–${formatLsn(replay.lastCommit)} is rebuilt with its recorded tokens`,
      );
      await this.sink.writeCheckpoint(this.pipeline, 'wal', replay);
    }
    // Nothing to wait for: the slot already stands at the target (an idle source).
    if (this.targetLsn !== undefined && confirmed >= this.targetLsn && !replay) return;
    let pending: WalTransaction[] = [];
    let pendingChanges = 0;
    let pendingBytes = 0;
    let firstPendingAt = 0;
    let flushing: Promise<void> = Promise.resolve();
    let inFlight = 0;
    let failure: Error | undefined;
    let finished!: () => void;
    const done = new Promise<void>((resolve) => (finished = resolve));

    const wal = new WalStream({
      url: this.options.sourceUrl,
      slot: this.names.slot,
      publication: this.names.publication,
      sourceName: this.options.sourceName,
      database: this.database,
      handlers: {
        onRelation: (relation) => this.onRelation(client, relation, known),
        onTransaction: (transaction) => {
          if (replay && transaction.commitLsn > replay.lastCommit) {
            // Postgres had processed the confirmation of the recorded batch: nothing to rebuild.
            if (pending.length > 0) {
              fail(
                new CaptureError(
                  'the stream skipped the last transaction of the recorded batch; refusing to guess',
                ),
              );
              return;
            }
            replay = undefined;
          }
          if (replay && transaction.commitLsn < replay.firstCommit) return; // landed before the crash
          pending.push(transaction);
          pendingChanges += transaction.events.length;
          pendingBytes += transaction.bytes;
          if (pending.length === 1) firstPendingAt = Date.now();
          // The unconfirmed batch must be rebuilt exactly, so its tokens match what may have landed.
          if (replay && transaction.commitLsn < replay.lastCommit) return;
          if (pendingChanges >= this.batchRows || pendingBytes >= this.batchBytes || replay) {
            // One batch lands while the next one fills; a third waits, which bounds memory.
            const busy = inFlight > 0;
            const landing = startFlush();
            if (busy) return landing;
          }
        },
        onIdle: (serverLsn) => {
          // Only a stream with nothing buffered and nothing landing may move to the server's position.
          if (pending.length > 0 || inFlight > 0) return;
          wal.confirm(Math.max(confirmed, serverLsn));
          confirmed = Math.max(confirmed, serverLsn);
          this.result.confirmedLsn = confirmed;
          checkCaughtUp();
        },
        onError: (error) => fail(error),
      },
    });

    const startFlush = (): Promise<void> => {
      const batch = pending;
      const changes = pendingChanges;
      pending = [];
      pendingChanges = 0;
      pendingBytes = 0;
      const intent: WalIntent = replay ?? {
        slotLineage: lineage,
        firstCommit: batch[0]?.commitLsn ?? 0,
        lastCommit: batch.at(-1)?.commitLsn ?? 0,
        attempts: 1,
      };
      const isReplay = replay !== undefined;
      replay = undefined;
      inFlight++;
      flushing = flushing.then(async () => {
        if (failure || batch.length === 0) return;
        try {
          if (!isReplay) await this.sink.writeCheckpoint(this.pipeline, 'wal', intent);
          await this.land(
            batch.flatMap((transaction) => transaction.events),
            `${this.pipeline}:wal:${intent.firstCommit}-${intent.lastCommit}`,
          );
          const end = batch.at(-1)?.commitEndLsn ?? confirmed;
          confirmed = Math.max(confirmed, end);
          wal.confirm(confirmed);
          this.result.streamedChanges += changes;
          this.result.confirmedLsn = confirmed;
          this.options.events?.landed?.({ changes, confirmedLsn: confirmed, targetLsn: this.targetLsn });
          checkCaughtUp();
        } catch (error) {
          fail(isReplay ? repeatedFailure(intent, error as Error) : (error as Error));
        } finally {
          inFlight--;
        }
      });
      return flushing;
    };

    const checkCaughtUp = (): void => {
      if (this.targetLsn !== undefined && confirmed >= this.targetLsn && pending.length === 0) finished();
    };
    this.onTargetChanged = checkCaughtUp;
    const fail = (error: Error): void => {
      failure ??= error;
      finished();
    };

    const timer = setInterval(
      () => {
        if (pending.length > 0 && !replay && Date.now() - firstPendingAt >= this.batchDelayMs)
          void startFlush();
        else if (pending.length === 0 && this.targetLsn !== undefined) wal.ping();
      },
      Math.max(20, Math.min(this.batchDelayMs, 250)),
    );
    const onAbort = () => finished();
    this.options.signal?.addEventListener('abort', onAbort);
    this.markReady();
    checkCaughtUp();

    wal.resumeFrom(confirmed);
    const streaming = wal.start().catch((error: Error) => fail(error));
    try {
      await done;
      if (!failure && pending.length > 0 && !replay) void startFlush();
      await flushing;
    } finally {
      clearInterval(timer);
      this.options.signal?.removeEventListener('abort', onAbort);
      await wal.stop().catch(() => undefined);
      await streaming;
    }
    if (failure) throw failure;
  }

  /** A relation message: a table's columns as of this point in the WAL; widen its mirror if it grew. */
  private async onRelation(
    client: pg.Client,
    relation: Pgoutput.MessageRelation,
    known: Map<string, TableCodec>,
  ): Promise<TableCodec | undefined> {
    const name = `${relation.schema}.${relation.name}`;
    const previous = known.get(name);
    if (!previous) return undefined;
    const types = await readTypes(client, [...new Set(relation.columns.map((column) => column.typeOid))]);
    const codec = this.codecFor({
      schema: relation.schema,
      table: relation.name,
      // Under REPLICA IDENTITY FULL the stream names every column as the key; the row key stays.
      key:
        relation.keyColumns.length > 0 && relation.replicaIdentity !== 'full'
          ? relation.keyColumns
          : previous.table.key,
      fullIdentity: relation.replicaIdentity === 'full',
      columns: relation.columns.map((column) => {
        const type = types.get(column.typeOid) ?? { name: `oid:${column.typeOid}`, category: 'X' };
        return {
          name: column.name,
          typeOid: column.typeOid,
          generated: false,
          type: { ...type, typmod: column.typeMod },
        };
      }),
    });
    const added = await this.sink.register(codec.table);
    if (added.length > 0) this.log(`${name}: new columns mirrored: ${added.join(', ')}`);
    known.set(name, codec);
    return codec;
  }

  private async land(envelopes: ChangeEnvelope[], tokenBase: string): Promise<void> {
    const { rejected, unfilled } = await this.sink.write(envelopes, tokenBase);
    if (unfilled.length > 0)
      this.warn(
        `${unfilled.length} unchanged value(s) had no earlier version in the mirror and were stored as NULL: ${unfilled.slice(0, 3).join(', ')}`,
      );
    if (rejected.length > 0) await this.deadLetter(rejected);
  }

  private async deadLetter(rejected: RejectedEvent[]): Promise<void> {
    this.result.deadLetters += rejected.length;
    this.warn(`${rejected.length} change(s) sent to the dead letters: ${rejected[0]?.reason ?? ''}`);
    await this.sink.deadLetter(
      rejected.map(({ envelope, reason }) => ({
        pipeline: this.pipeline,
        source: this.options.sourceName,
        position: String(envelope.source.lsn ?? ''),
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

/**
 * A recorded batch that fails again once rebuilt fails the same way on every restart: say so, with
 * the batch, instead of letting a supervisor restart the capture in a silent loop.
 */
function repeatedFailure(intent: WalIntent, error: Error): Error {
  const restarts = (intent.attempts ?? 2) - 1;
  return new CaptureError(
    `the batch of commits ${formatLsn(intent.firstCommit)}–${formatLsn(intent.lastCommit)} failed again after ` +
      `${restarts} restart(s), and will fail the same way on every restart until its cause is fixed: ${error.message}`,
    { cause: error, retriable: error instanceof TributaryError && error.retriable },
  );
}
