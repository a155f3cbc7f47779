// Native Postgres capture: a snapshot exported with the replication slot, then the slot's stream,
// landed by the landing runner (batches recorded as write intents, the slot confirmed only after
// the warehouse accepted). This module owns what is Postgres's: the catalog, the publication and
// the slot, the snapshot, and the slot's lineage.
import type { Pgoutput } from 'pg-logical-replication';
import type pg from 'pg';
import { z } from 'zod';
import { CaptureError } from '../errors.ts';
import { BATCH_DEFAULTS, followStream } from '../landing/follow-stream.ts';
import { Lander } from '../landing/lander.ts';
import type { LandingSink } from '../landing/sink.ts';
import type { LandingObserver } from '../landing/types.ts';
import type { PiiPolicy } from '../pii.ts';
import { qualifiedName } from '../source-table.ts';
import {
  checkLogicalReplication,
  connectSource,
  readCatalog,
  readComments,
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
import { readSnapshot } from './snapshot.ts';
import { createTableCodec, type TableCodec } from './table-codec.ts';
import { WalChangeStream } from './wal-change-stream.ts';

export interface PostgresCaptureOptions {
  sourceUrl: string;
  sourceName: string;
  tables: TableSelection;
  /** Where changes land: the warehouse's raw mirrors, or Kafka. Opened and closed by the capture. */
  sink: LandingSink;
  pii: PiiPolicy;
  /** Stop once the snapshot is done and the mirrors reached the WAL position read at start. */
  untilCaughtUp: boolean;
  /** Batch limits (defaults: BATCH_DEFAULTS of the landing runner). */
  batchRows?: number;
  batchBytes?: number;
  batchDelayMs?: number;
  snapshotChunkRows?: number;
  signal?: AbortSignal;
  events?: CaptureEvents;
}

export interface CaptureEvents extends LandingObserver {
  snapshotProgress?(table: string, rows: number): void;
}

export interface CaptureResult {
  snapshotRows: number;
  streamedChanges: number;
  confirmedLsn: number;
  deadLetters: number;
}

const snapshotStateSchema = z.object({
  slot: z.string(),
  consistentPoint: z.number().int().nonnegative(),
  tables: z.array(z.string()),
  done: z.boolean(),
});
type SnapshotState = z.infer<typeof snapshotStateSchema>;

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
  private readonly names: ReturnType<typeof replicationNames>;
  private readonly sink: LandingSink;
  private readonly lander: Lander;
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
  private completed = false;

  constructor(private readonly options: PostgresCaptureOptions) {
    this.pipeline = `postgres:${options.sourceName}`;
    this.names = replicationNames(options.sourceName);
    this.sink = options.sink;
    this.lander = new Lander({
      pipeline: this.pipeline,
      sink: options.sink,
      signal: options.signal,
      observer: options.events,
    });
    this.ready = new Promise((resolve) => (this.markReady = resolve));
  }

  async finishAtCurrentPosition(): Promise<void> {
    await this.ready;
    if (this.completed || !this.catalogClient) return;
    this.targetLsn = await currentWalLsn(this.catalogClient);
  }

  async run(): Promise<CaptureResult> {
    try {
      const client = (this.catalogClient = await connectSource(this.options.sourceUrl));
      ({ serverVersion: this.serverVersion } = await checkLogicalReplication(client));
      this.database = client.database ?? '';
      const catalog = await readCatalog(client, this.options.tables);
      if (catalog.tables.length === 0) throw new CaptureError('no table to capture: the source has no table');
      for (const table of catalog.tables.filter((candidate) => candidate.rowIdentity === 'append'))
        this.warn(
          `${table.schema}.${table.table} has no key and REPLICA IDENTITY ${table.fullIdentity ? 'FULL' : 'DEFAULT'}: ` +
            'its inserts are mirrored, its updates and deletes are not (ALTER TABLE … REPLICA IDENTITY FULL captures them)',
        );
      this.log(
        `capturing ${catalog.tables.length} table(s) of ${redactUrl(this.options.sourceUrl)} as "${this.options.sourceName}"`,
      );
      if (this.options.untilCaughtUp) this.targetLsn = await currentWalLsn(client);
      await this.sink.open();
      const codecs = catalog.tables.map((table) => this.codecFor(table));
      for (const codec of codecs) await this.sink.register(codec.table);
      const tableNames = codecs.map((codec) => qualifiedName(codec.table)).sort();
      // A table without any identity publishes inserts alone: its updates and deletes would fail
      // on the source if published (Postgres cannot name their rows).
      const append = codecs.filter((codec) => codec.table.rowIdentity === 'append');
      const appendNames = append.map((codec) => qualifiedName(codec.table));
      const keyed = tableNames.filter((name) => !appendNames.includes(name));
      await ensurePublication(client, this.names.publication, keyed, this.serverVersion);
      await ensurePublication(client, this.names.insertsPublication, appendNames, this.serverVersion, true);
      const publications = [
        ...(keyed.length > 0 ? [this.names.publication] : []),
        ...(appendNames.length > 0 ? [this.names.insertsPublication] : []),
      ];
      const lineage = await this.ensureSnapshot(client, codecs, tableNames);
      const known = new Map(codecs.map((codec) => [qualifiedName(codec.table), codec]));
      const stream = new WalChangeStream({
        url: this.options.sourceUrl,
        slot: this.names.slot,
        publications,
        sourceName: this.options.sourceName,
        database: this.database,
        lineage,
        confirmed: Math.max(lineage, await slotConfirmedLsn(client, this.names.slot)),
        target: () => this.targetLsn,
        queueBytes: this.options.batchBytes ?? BATCH_DEFAULTS.bytes,
        onRelation: (relation) => this.onRelation(client, relation, known),
      });
      this.markReady();
      const followed = await followStream(stream, {
        lander: this.lander,
        batchRows: this.options.batchRows,
        batchBytes: this.options.batchBytes,
        batchDelayMs: this.options.batchDelayMs,
        signal: this.options.signal,
        observer: this.options.events,
      });
      this.result.streamedChanges += followed.changes;
      this.result.deadLetters += followed.deadLetters;
      this.result.confirmedLsn = stream.confirmedPosition;
      return this.result;
    } finally {
      this.completed = true;
      this.markReady();
      await this.sink.close().catch(() => undefined);
      await this.catalogClient?.end().catch(() => undefined);
    }
  }

  private codecFor(
    table: Pick<
      CatalogTable,
      'schema' | 'table' | 'comment' | 'columns' | 'key' | 'fullIdentity' | 'rowIdentity'
    >,
  ): TableCodec {
    return createTableCodec({
      source: this.options.sourceName,
      schema: table.schema,
      table: table.table,
      ...(table.comment !== undefined && { comment: table.comment }),
      columns: table.columns,
      key: table.key,
      fullIdentity: table.fullIdentity,
      rowIdentity: table.rowIdentity,
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
    const state = await this.sink.readCheckpoint(this.pipeline, 'snapshot', snapshotStateSchema);
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
    let landing: Promise<void> = Promise.resolve();
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
        onChunk: async (codec, changes, chunkIndex) => {
          await landing;
          const name = qualifiedName(codec.table);
          landing = this.lander
            .land(
              'snapshot',
              changes,
              [],
              `${this.pipeline}:snapshot:${exported.consistentPoint}:${name}:${chunkIndex}`,
            )
            .then((outcome) => {
              this.result.snapshotRows += outcome.changes;
              this.result.deadLetters += outcome.deadLetters;
              this.options.events?.snapshotProgress?.(name, changes.length);
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
    const comments = await readComments(client, relation.schema, relation.name);
    const codec = this.codecFor({
      schema: relation.schema,
      table: relation.name,
      ...(comments.table !== undefined && { comment: comments.table }),
      // Under REPLICA IDENTITY FULL the stream names every column as the key; the row key stays.
      key:
        relation.keyColumns.length > 0 && relation.replicaIdentity !== 'full'
          ? relation.keyColumns
          : previous.sourceKey,
      fullIdentity: relation.replicaIdentity === 'full',
      rowIdentity: previous.table.rowIdentity ?? 'key',
      columns: relation.columns.map((column) => {
        const type = types.get(column.typeOid) ?? { name: `oid:${column.typeOid}`, category: 'X' };
        const comment = comments.columns.get(column.name);
        return {
          name: column.name,
          typeOid: column.typeOid,
          generated: false,
          ...(comment !== undefined && { comment }),
          type: { ...type, typmod: column.typeMod },
        };
      }),
    });
    const added = await this.sink.register(codec.table);
    if (added.length > 0) this.log(`${name}: new columns mirrored: ${added.join(', ')}`);
    known.set(name, codec);
    return codec;
  }

  private log(message: string): void {
    this.options.events?.log?.(message);
  }

  private warn(message: string): void {
    this.options.events?.warn?.(message);
  }
}
