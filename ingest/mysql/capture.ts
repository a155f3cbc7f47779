// Native MySQL/MariaDB capture: a consistent snapshot whose binary log position (and GTID position)
// is recorded with it, then the row binary log from exactly there, landed by the landing runner
// (batches recorded as write intents, the position stored only after the warehouse accepted).
// A stored position the server has purged means the tables are snapshotted again, automatically.
import type mysql from 'mysql2/promise';
import { z } from 'zod';
import type { ChangeSource } from '../envelope.ts';
import { CaptureError } from '../errors.ts';
import { BATCH_DEFAULTS, checkpointSchema, followStream } from '../landing/follow-stream.ts';
import { Lander } from '../landing/lander.ts';
import type { LandingSink } from '../landing/sink.ts';
import type { LandingObserver, SourceChange } from '../landing/types.ts';
import type { PiiPolicy } from '../pii.ts';
import type { SourceTable } from '../source-table.ts';
import {
  BINLOG_CODEC,
  binlogPositionSchema,
  binlogVersion,
  compareBinlogPositions,
  formatBinlogPosition,
  type BinlogPosition,
  type BinlogState,
} from './binlog-position.ts';
import { BinlogChangeStream, HistoryLostError } from './binlog-change-stream.ts';
import {
  checkBinlogCapture,
  connectMysql,
  parseMysqlUrl,
  readMysqlCatalog,
  redactMysqlUrl,
  type MysqlCatalogColumn,
  type MysqlConnectionSettings,
  type MysqlServer,
  type MysqlTableSelection,
} from './catalog.ts';
import { createMysqlTableCodec, type MysqlTableCodec } from './table-codec.ts';

export interface MysqlCaptureOptions {
  sourceUrl: string;
  sourceName: string;
  tables: MysqlTableSelection;
  sink: LandingSink;
  pii: PiiPolicy;
  /** Stop once the snapshot is done and the mirrors reached the log position read at start. */
  untilCaughtUp: boolean;
  batchRows?: number;
  batchBytes?: number;
  batchDelayMs?: number;
  snapshotChunkRows?: number;
  signal?: AbortSignal;
  events?: MysqlCaptureEvents;
}

export interface MysqlCaptureEvents extends LandingObserver {
  snapshotProgress?(table: string, rows: number): void;
}

export interface MysqlCaptureResult {
  snapshotRows: number;
  streamedChanges: number;
  deadLetters: number;
  /** Snapshots taken again because the stored position had left the binary log. */
  resnapshots: number;
  /** Where the stored position stands. */
  position: string;
}

const snapshotStateSchema = binlogPositionSchema.extend({
  gtid: z.string().optional(),
  tables: z.array(z.string()),
  done: z.boolean(),
});
type SnapshotState = z.infer<typeof snapshotStateSchema>;
const streamCheckpointSchema = checkpointSchema(BINLOG_CODEC);

export async function runMysqlCapture(options: MysqlCaptureOptions): Promise<MysqlCaptureResult> {
  return new MysqlCapture(options).run();
}

class MysqlCapture {
  private readonly pipeline: string;
  private readonly settings: MysqlConnectionSettings;
  private readonly lander: Lander;
  private readonly warnedTypes = new Set<string>();
  private readonly registered = new Map<string, SourceTable>();
  private readonly result: MysqlCaptureResult = {
    snapshotRows: 0,
    streamedChanges: 0,
    deadLetters: 0,
    resnapshots: 0,
    position: '',
  };

  constructor(private readonly options: MysqlCaptureOptions) {
    this.pipeline = `mysql:${options.sourceName}`;
    this.settings = parseMysqlUrl(options.sourceUrl);
    this.lander = new Lander({
      pipeline: this.pipeline,
      sink: options.sink,
      signal: options.signal,
      observer: options.events,
    });
  }

  async run(): Promise<MysqlCaptureResult> {
    const connection = await connectMysql(this.settings);
    try {
      const server = await checkBinlogCapture(connection, this.settings);
      const catalog = await readMysqlCatalog(connection, this.settings.database, this.options.tables);
      if (catalog.length === 0)
        throw new CaptureError(`no table to capture: the database ${this.settings.database} has no table`);
      for (const table of catalog.filter((candidate) => candidate.key.length === 0))
        this.warn(
          `${table.database}.${table.table} has no primary key or unique NOT NULL index: its rows are named by their values, and identical rows are one row in the mirror`,
        );
      this.log(
        `capturing ${catalog.length} table(s) of ${redactMysqlUrl(this.options.sourceUrl)} (${server.version}) as "${this.options.sourceName}"`,
      );
      const target = this.options.untilCaughtUp ? await currentPosition(connection, server) : undefined;
      await this.options.sink.open();
      const codecs = new Map(
        catalog.map((table) => [
          table.table,
          this.codecFor({ database: table.database, table: table.table, key: table.key }, table.columns),
        ]),
      );
      for (const codec of codecs.values()) await this.register(codec);
      let lost = false;
      for (;;) {
        await this.ensureSnapshot(connection, server, codecs, [...codecs.keys()].sort(), lost);
        try {
          while (await this.stream(server, codecs, target))
            await this.followCatalog(connection, server, codecs);
          return this.result;
        } catch (error) {
          if (!(error instanceof HistoryLostError)) throw error;
          // The server purged what the stored position needs: a new snapshot from where it stands.
          this.warn(error.message);
          this.result.resnapshots++;
          lost = true;
        }
      }
    } finally {
      await this.options.sink.close().catch(() => undefined);
      await connection.end().catch(() => undefined);
    }
  }

  private codecFor(
    table: { database: string; table: string; key: string[] },
    columns: MysqlCatalogColumn[],
  ): MysqlTableCodec {
    return createMysqlTableCodec({
      source: this.options.sourceName,
      database: table.database,
      table: table.table,
      columns,
      // A key column dropped at the source: rows are then named by their values.
      key: table.key.every((name) => columns.some((column) => column.name === name)) ? table.key : [],
      pii: this.options.pii,
      onUnknownType: (type) => {
        if (this.warnedTypes.has(type)) return;
        this.warnedTypes.add(type);
        this.warn(`type ${type} is not known to Tributary; its values are kept as text`);
      },
    });
  }

  /** Takes the snapshot unless a completed one for these tables stands (with the stream after it). */
  private async ensureSnapshot(
    connection: mysql.Connection,
    server: MysqlServer,
    codecs: Map<string, MysqlTableCodec>,
    tableNames: string[],
    lost: boolean,
  ): Promise<void> {
    const state = await this.options.sink.readCheckpoint(this.pipeline, 'snapshot', snapshotStateSchema);
    const stream = await this.options.sink.readCheckpoint(this.pipeline, 'binlog', streamCheckpointSchema);
    const resumeAt = stream?.intent?.stateBefore ?? stream?.state;
    if (!lost && state?.done === true && state.tables.join(',') === tableNames.join(',') && resumeAt) {
      if (await positionAvailable(connection, resumeAt)) return;
      this.result.resnapshots++;
      this.warn(
        `the stored position ${formatBinlogPosition(resumeAt)} is no longer in the server's binary log (purged); snapshotting again`,
      );
    } else if (state && !state.done) this.warn('the previous snapshot did not finish; taking a new one');
    else if (state) this.warn('the captured tables changed since the last snapshot; taking a new one');
    await this.snapshot(server, codecs, tableNames, resumeAt);
  }

  /**
   * One transaction WITH CONSISTENT SNAPSHOT reads every table; the log position it stands at is
   * where the stream starts. Rows carry that position as their version: every change the stream
   * then delivers sits after it, so it supersedes them. With `only`, it reads just those tables
   * (ones that appeared mid-stream) and leaves the stream's position where it is.
   */
  private async snapshot(
    server: MysqlServer,
    codecs: Map<string, MysqlTableCodec>,
    tableNames: string[],
    previous: BinlogState | undefined,
    only?: string[],
  ): Promise<void> {
    const connection = await connectMysql(this.settings);
    try {
      await connection.query('SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ');
      const position = await startConsistentSnapshot(connection, server);
      if (previous && compareBinlogPositions(position, previous) < 0)
        throw new CaptureError(
          `the server's binary log restarted (now at ${formatBinlogPosition(position)}, capture had reached ${formatBinlogPosition(previous)}): ` +
            'versions would go backwards; capture it under a new --source-name',
        );
      const version = binlogVersion(position.file, position.pos);
      const snapshot: SnapshotState = { ...position, tables: tableNames, done: false };
      await this.options.sink.writeCheckpoint(this.pipeline, 'snapshot', snapshot);
      const chunkRows = this.options.snapshotChunkRows ?? 10_000;
      const read = only ?? tableNames;
      for (const name of read) {
        const codec = codecs.get(name) as MysqlTableCodec;
        let chunk: SourceChange[] = [];
        let chunkIndex = 0;
        let rows = 0;
        // One chunk lands while the next is read and decoded; snapshot rows share one version and
        // never overlap, so their order does not matter.
        let landing: Promise<void> = Promise.resolve();
        const flush = async () => {
          await landing;
          if (chunk.length === 0) return;
          const changes = chunk;
          chunk = [];
          landing = this.lander
            .land(
              'snapshot',
              changes,
              [],
              `${this.pipeline}:snapshot:${formatBinlogPosition(position)}:${name}:${chunkIndex++}`,
            )
            .then((outcome) => {
              this.result.snapshotRows += outcome.changes;
              this.result.deadLetters += outcome.deadLetters;
              rows += changes.length;
              this.options.events?.snapshotProgress?.(name, rows);
            });
          // Its failure surfaces at the next await, not as an unhandled rejection meanwhile.
          landing.catch(() => undefined);
        };
        const columns = codec.table.columns
          .map((column) => column.name)
          .filter((column) => column !== '_row_id' || codec.sourceKey.length > 0);
        const sql = `SELECT ${columns.map(quote).join(', ')} FROM ${quote(this.settings.database)}.${quote(name)}`;
        const source: ChangeSource = {
          version: 'tributary',
          connector: 'mysql',
          name: this.options.sourceName,
          db: this.settings.database,
          table: name,
          server_id: 0,
          gtid: position.gtid ?? null,
          file: position.file,
          pos: position.pos,
          row: 0,
          ts_ms: Date.now(),
          snapshot: 'true',
        };
        const core = (
          connection as unknown as {
            connection: { query(sql: string): { stream(): AsyncIterable<Record<string, unknown>> } };
          }
        ).connection;
        for await (const row of core.query(sql).stream()) {
          if (this.options.signal?.aborted) throw new CaptureError('capture stopped during a snapshot');
          chunk.push({
            envelope: { before: null, after: codec.decodeRow(row), source, op: 'r', ts_ms: Date.now() },
            version,
            table: codec.tableName,
            shape: codec.table,
          });
          if (chunk.length >= chunkRows) await flush();
        }
        await flush();
        await landing;
      }
      await connection.query('COMMIT');
      // Rows an earlier snapshot or stream left but this snapshot did not see are gone.
      await this.options.sink.completeSnapshot(
        version,
        read.map((name) => (codecs.get(name) as MysqlTableCodec).table),
      );
      const state: BinlogState = {
        file: position.file,
        pos: position.pos,
        ...(position.gtid && { gtid: position.gtid }),
      };
      if (!only) await this.options.sink.writeCheckpoint(this.pipeline, 'binlog', { state });
      await this.options.sink.writeCheckpoint(this.pipeline, 'snapshot', { ...snapshot, done: true });
      this.log(`snapshot of ${read.length} table(s) landed at ${formatBinlogPosition(position)}`);
    } finally {
      await connection.end().catch(() => undefined);
    }
  }

  /**
   * After a CREATE/RENAME/DROP TABLE ended the stream: tables that appeared in the selection get
   * codecs, mirrors and a snapshot of their own, taken now and versioned here, above every change
   * of theirs the stream (resuming right after the statement) reads again. The others' stream
   * position does not move, so nothing of theirs is skipped.
   */
  private async followCatalog(
    connection: mysql.Connection,
    server: MysqlServer,
    codecs: Map<string, MysqlTableCodec>,
  ): Promise<void> {
    const catalog = await readMysqlCatalog(connection, this.settings.database, this.options.tables, {
      skipMissing: true,
    });
    const added = catalog.filter((table) => !codecs.has(table.table));
    for (const table of added) {
      const codec = this.codecFor(
        { database: table.database, table: table.table, key: table.key },
        table.columns,
      );
      await this.register(codec);
      codecs.set(table.table, codec);
    }
    const tableNames = [...codecs.keys()].sort();
    this.log(
      `the database's tables changed: capturing ${tableNames.length} table(s)` +
        (added.length > 0 ? `, snapshotting ${added.map((table) => table.table).join(', ')}` : ''),
    );
    if (added.length > 0)
      await this.snapshot(
        server,
        codecs,
        tableNames,
        undefined,
        added.map((table) => table.table),
      );
    else {
      const state = await this.options.sink.readCheckpoint(this.pipeline, 'snapshot', snapshotStateSchema);
      if (state)
        await this.options.sink.writeCheckpoint(this.pipeline, 'snapshot', { ...state, tables: tableNames });
    }
  }

  /** Streams until stopped or caught up (false), or until the database's tables changed (true). */
  private async stream(
    server: MysqlServer,
    codecs: Map<string, MysqlTableCodec>,
    target: BinlogPosition | undefined,
  ): Promise<boolean> {
    const stream = new BinlogChangeStream({
      settings: this.settings,
      server,
      sourceName: this.options.sourceName,
      codecs,
      codecFor: (previous, columns) =>
        this.codecFor(
          { database: previous.table.schema, table: previous.table.table, key: previous.sourceKey },
          columns,
        ),
      register: (codec) => this.register(codec),
      selects: (table) =>
        this.options.tables.kind === 'all' ||
        this.options.tables.tables.some(
          (name) => name === table || name === `${this.settings.database}.${table}`,
        ),
      target: () => target,
      queueBytes: this.options.batchBytes ?? BATCH_DEFAULTS.bytes,
      onHistoryLost: () => undefined,
      warn: (message) => this.warn(message),
    });
    try {
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
    } finally {
      await stream.stop();
    }
    const stored = await this.options.sink.readCheckpoint(this.pipeline, 'binlog', streamCheckpointSchema);
    if (stored?.state) this.result.position = formatBinlogPosition(stored.state);
    return stream.catalogChanged && !this.options.signal?.aborted;
  }

  /**
   * Registers every column the table has had: rows of an older shape may still be landing (or be
   * read again after a restart) when a newer shape arrives, and dropped columns stay in the mirror.
   */
  private async register(codec: MysqlTableCodec): Promise<void> {
    const previous = this.registered.get(codec.tableName);
    const current = new Set(codec.table.columns.map((column) => column.name));
    const table = {
      ...codec.table,
      columns: [
        ...codec.table.columns,
        ...(previous?.columns ?? []).filter((column) => !current.has(column.name)),
      ],
    };
    this.registered.set(codec.tableName, table);
    const added = await this.options.sink.register(table);
    if (added.length > 0 && previous)
      this.log(`${codec.table.schema}.${codec.table.table}: new columns mirrored: ${added.join(', ')}`);
  }

  private log(message: string): void {
    this.options.events?.log?.(message);
  }

  private warn(message: string): void {
    this.options.events?.warn?.(message);
  }
}

function quote(identifier: string): string {
  return `\`${identifier.replaceAll('`', '``')}\``;
}

/** The log position now (`--until-caught-up` stops there). */
async function currentPosition(connection: mysql.Connection, server: MysqlServer): Promise<BinlogPosition> {
  const statement =
    server.flavor === 'mysql' && !/^[0-8]\.[0-3]\./.test(server.version)
      ? 'SHOW BINARY LOG STATUS'
      : 'SHOW MASTER STATUS';
  const [rows] = (await connection.query(statement)) as unknown as [{ File: string; Position: number }[]];
  const row = rows[0];
  if (!row) throw new CaptureError('the server reports no binary log position: is log_bin on?');
  return { file: row.File, pos: Number(row.Position) };
}

/**
 * Opens the snapshot transaction and returns the log position it is consistent with. MariaDB
 * reports that position for the transaction itself (binlog_snapshot_file/position); MySQL needs
 * writes held for the moment the transaction starts and the position is read.
 */
async function startConsistentSnapshot(
  connection: mysql.Connection,
  server: MysqlServer,
): Promise<BinlogPosition & { gtid?: string }> {
  if (server.flavor === 'mariadb') {
    await connection.query('START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY');
    const [rows] = (await connection.query("SHOW STATUS LIKE 'binlog_snapshot_%'")) as unknown as [
      { Variable_name: string; Value: string }[],
    ];
    const file = rows.find((row) => row.Variable_name === 'Binlog_snapshot_file')?.Value ?? '';
    const pos = Number(rows.find((row) => row.Variable_name === 'Binlog_snapshot_position')?.Value);
    if (!file || !Number.isInteger(pos))
      throw new CaptureError("the server did not report the snapshot's binary log position");
    const [[gtidRow]] = (await connection.query('SELECT BINLOG_GTID_POS(?, ?) AS gtid', [
      file,
      pos,
    ])) as unknown as [{ gtid: string | null }[]];
    return { file, pos, ...(gtidRow?.gtid ? { gtid: gtidRow.gtid } : {}) };
  }
  await connection.query('FLUSH TABLES WITH READ LOCK');
  try {
    await connection.query('START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY');
    const position = await currentPosition(connection, server);
    const [[gtidRow]] = (await connection.query('SELECT @@GLOBAL.gtid_executed AS gtid')) as unknown as [
      { gtid: string | null }[],
    ];
    return { ...position, ...(gtidRow?.gtid ? { gtid: gtidRow.gtid.replace(/\s+/g, '') } : {}) };
  } finally {
    await connection.query('UNLOCK TABLES');
  }
}

/** Whether the server still has the log file a position is in. */
async function positionAvailable(connection: mysql.Connection, position: BinlogPosition): Promise<boolean> {
  const [rows] = (await connection.query('SHOW BINARY LOGS')) as unknown as [{ Log_name: string }[]];
  return rows.some((row) => row.Log_name === position.file);
}
