// The row binary log as a stream for the landing runner, read as a replica reads it (zongji over
// mysql2). Each committed transaction that touched a captured table is a unit, positioned by the
// end of its commit event; MySQL keeps no position for a reader, so the runner stores the state
// after each batch (file, offset and GTID position) and a restart asks the server for what follows.
// Rows are decoded with the table map that precedes them in the log (binlog_row_metadata=FULL
// carries column names and types): a table altered mid-stream is decoded with its shape at the
// time, and its mirror gains the new columns before any row of the new shape lands.
import ZongJi, { readRowImage, type TableMapEntry } from '@vlasky/zongji';
import type { ChangeEnvelope, ChangeSource, KeyChange, Row, SourceVersion } from '../envelope.ts';
import { CaptureError } from '../errors.ts';
import { AsyncQueue } from '../landing/async-queue.ts';
import type { ChangeStream, ReadUnit, SourceChange } from '../landing/types.ts';
import type { SourceTable } from '../source-table.ts';
import {
  BINLOG_CODEC,
  binlogChangeVersion,
  binlogKeyChangePosition,
  binlogVersion,
  compareBinlogPositions,
  type BinlogPosition,
  type BinlogState,
} from './binlog-position.ts';
import {
  DECODING_OPTIONS,
  type MysqlCatalogColumn,
  type MysqlConnectionSettings,
  type MysqlServer,
} from './catalog.ts';
import { RowImageLayout, type RowImage } from './row-images.ts';
import type { MysqlTableCodec } from './table-codec.ts';
import { parseTableDdl } from './table-ddl.ts';

export type BinlogUnit = ReadUnit<BinlogPosition, BinlogState>;

export interface BinlogChangeStreamOptions {
  settings: MysqlConnectionSettings;
  server: MysqlServer;
  sourceName: string;
  /** The codec each captured table has now, by table name (in the source's database). */
  codecs: Map<string, MysqlTableCodec>;
  /** The codec of a table's shape as a table map shows it (the key stays the catalog's). */
  codecFor(previous: MysqlTableCodec, columns: MysqlCatalogColumn[]): MysqlTableCodec;
  /** A new shape: widen its mirror before any row of it lands. */
  register(codec: MysqlTableCodec): Promise<void>;
  /** Whether the capture's table selection takes a table of this name (one that appears mid-stream). */
  selects(table: string): boolean;
  /** Stop once the log is read up to here (`--until-caught-up`); undefined streams on. */
  target?: () => BinlogPosition | undefined;
  queueBytes: number;
  /** False decodes every row as it is read, keeping no row image (the envelope path alone). */
  keepRowImages?: boolean;
  /** The server says the position is gone from its binary log (error 1236 and kin). */
  onHistoryLost(error: Error): void;
  warn(message: string): void;
}

/** The v4 event header: timestamp, type, server id, length, next position, flags. */
const EVENT_HEADER_BYTES = 19;
/** Events MariaDB sends inside a transaction without their position. */
const POSITIONLESS_EVENTS = new Set(['tablemap', 'writerows', 'updaterows', 'deleterows']);

/** Irrelevant traffic moves the stored position once per this many bytes of log (deterministically). */
const PROGRESS_STRIDE = 16 * 1024 * 1024;

interface OpenTransaction {
  gtid: string | undefined;
  start: number;
  /** Where the transaction's first event (its GTID, or BEGIN) starts: Debezium's `source.pos`. */
  position: number;
  /** Changes emitted so far, in all and per table: Debezium's transaction metadata counts them. */
  emitted: number;
  emittedPerTable: Map<string, number>;
  changes: SourceChange[];
  bytes: number;
}

type BinlogEvent = Record<string, unknown> & {
  getEventName(): string;
  nextPosition: number;
  size: number;
  timestamp: number;
};

export class BinlogChangeStream implements ChangeStream<BinlogPosition, BinlogState, BinlogUnit> {
  readonly id = 'binlog';
  readonly codec = BINLOG_CODEC;
  readonly acknowledgedAtSource = false;
  private zongji: ZongJi | undefined;
  private stopped = false;
  /**
   * A logged CREATE/RENAME/DROP TABLE changed which tables are captured: the stream ended right
   * after it, so the capture reads the catalog again (and snapshots a table that appeared).
   */
  catalogChanged = false;

  constructor(private readonly options: BinlogChangeStreamOptions) {}

  read(state: BinlogState | undefined): AsyncIterator<BinlogUnit> {
    if (!state) throw new CaptureError('binlog: no position to resume from');
    const options = this.options;
    const queue = new AsyncQueue<BinlogUnit>(options.queueBytes, async () => {
      this.stopped = true;
      await this.stop();
    });
    const target = options.target?.();
    if (target && compareBinlogPositions(state, target) >= 0) {
      queue.end();
      return queue;
    }
    const domains = gtidDomains(state.gtid);
    let file = state.file;
    // Where the next event starts. MariaDB sends the events inside a transaction with no position
    // of their own (log_pos 0): they follow one another from the transaction's first event on.
    let cursor = state.pos;
    let transaction: OpenTransaction | undefined;
    /**
     * Each table's last table map (as shapeOf), the codec it is decoded with, and how its row
     * images lie when row-images.ts reads them (zongji then keeps them as bytes).
     */
    const shapes = new Map<string, { codec: MysqlTableCodec; shape: string; layout?: RowImageLayout }>();
    const imageLayout = (tableMap: TableMapEntry | undefined) => {
      if (!tableMap || tableMap.parentSchema !== options.settings.database) return undefined;
      const seen = shapes.get(tableMap.tableName);
      return seen && options.codecs.get(tableMap.tableName) === seen.codec ? seen.layout : undefined;
    };
    // Side effects run in log order: widening a mirror, then queueing the units that need it.
    let chain: Promise<void> = Promise.resolve();
    let chainedBytes = 0;
    let paused = false;
    const zongji = (this.zongji = new ZongJi({
      host: options.settings.host,
      port: options.settings.port,
      user: options.settings.user,
      password: options.settings.password,
      ...DECODING_OPTIONS,
    }));
    // Rows of tables whose columns row-images.ts reads stay as bytes until a mirror writes them.
    if (options.keepRowImages !== false)
      zongji.keepRowImages = (tableMap) => imageLayout(tableMap) !== undefined;
    const enqueue = (work: () => Promise<void>, bytes: number) => {
      chainedBytes += bytes;
      chain = chain
        .then(work)
        .then(() => {
          chainedBytes -= bytes;
          if (paused && chainedBytes < options.queueBytes / 2) {
            paused = false;
            (zongji as unknown as { connection?: { resume(): void } }).connection?.resume();
          }
        })
        .catch((error: Error) => queue.fail(error));
      if (!paused && chainedBytes >= options.queueBytes) {
        // The runner is behind: stop reading the socket until it catches up.
        paused = true;
        (zongji as unknown as { connection?: { pause(): void } }).connection?.pause();
      }
    };
    const push = (unit: BinlogUnit) => enqueue(() => queue.push(unit, unit.bytes), unit.bytes);
    const reached = (position: BinlogPosition) =>
      target !== undefined && compareBinlogPositions(position, target) >= 0;
    const finishIfReached = (position: BinlogPosition) => {
      if (!reached(position)) return;
      enqueue(async () => queue.end(), 0);
      this.stopped = true;
    };
    const gtidState = () =>
      options.server.flavor === 'mariadb'
        ? [...domains.values()].join(',') || undefined
        : ((zongji as unknown as { gtidSet?: string }).gtidSet ?? state.gtid);
    const commit = (end: number, force = false) => {
      const open = transaction;
      transaction = undefined;
      const position = { file, pos: end };
      if (!open) return finishIfReached(position);
      const crossesStride = Math.floor(open.start / PROGRESS_STRIDE) !== Math.floor(end / PROGRESS_STRIDE);
      if (open.changes.length > 0 || crossesStride || force)
        push({
          changes: open.changes,
          position,
          bytes: open.bytes,
          stateAfter: { file, pos: end, ...(gtidState() !== undefined && { gtid: gtidState() }) },
        });
      finishIfReached(position);
    };
    const begin = (event: BinlogEvent, gtid: string | undefined, position: number) => {
      transaction = {
        gtid,
        start: event.nextPosition,
        position,
        emitted: 0,
        emittedPerTable: new Map(),
        changes: [],
        bytes: 0,
      };
    };

    zongji.on('binlog', (raw: unknown) => {
      const event = raw as BinlogEvent;
      if (this.stopped) return;
      try {
        const name = event.getEventName();
        // zongji's `size` leaves out the header and, when the server checksums events, the CRC32.
        const length =
          event.size +
          EVENT_HEADER_BYTES +
          ((zongji as unknown as { useChecksum?: boolean }).useChecksum ? 4 : 0);
        let start = cursor;
        if (event.nextPosition > 0) {
          start = event.nextPosition - length;
          cursor = event.nextPosition;
        } else if (POSITIONLESS_EVENTS.has(name)) cursor += length;
        switch (name) {
          case 'rotate': {
            file = String(event.binlogName);
            cursor = Number(event.position);
            return;
          }
          case 'mariadbgtid': {
            const gtid = String(event.gtid);
            const domain = gtid.split('-')[0] ?? '0';
            domains.set(domain, gtid);
            begin(event, gtid, start);
            return;
          }
          case 'gtid':
            begin(event, String(event.gtid), start);
            return;
          case 'tablemap': {
            const entry = tableMapOf(event);
            if (!entry || entry.parentSchema !== options.settings.database) return;
            const previous = options.codecs.get(entry.tableName);
            if (!previous) return;
            // Every statement logs its table's map: a codec is built only for a shape not seen last.
            const shape = shapeOf(entry);
            const seen = shapes.get(entry.tableName);
            if (seen?.codec === previous && seen.shape === shape) return;
            const columns = entry.columnSchemas.map((column) => ({
              name: column.COLUMN_NAME,
              columnType: column.COLUMN_TYPE,
              charset: column.CHARACTER_SET_NAME,
            }));
            const codec = options.codecFor(previous, columns);
            const same = codec.signature === previous.signature;
            const current = same ? previous : codec;
            shapes.set(entry.tableName, { codec: current, shape, layout: RowImageLayout.of(entry, current) });
            if (same) return;
            // Rows after this table map decode with the new shape; they land after its mirror widened.
            options.codecs.set(entry.tableName, codec);
            enqueue(() => options.register(codec), 0);
            return;
          }
          case 'query': {
            const query = String(event.query ?? '').trim();
            if (/^BEGIN\b/i.test(query)) {
              if (!transaction) begin(event, undefined, start);
              return;
            }
            if (/^(SAVEPOINT|ROLLBACK TO|RELEASE SAVEPOINT)\b/i.test(query)) return;
            if (/^COMMIT\b/i.test(query)) return commit(event.nextPosition);
            // A statement (DDL) commits on its own.
            this.statement(
              query,
              String(event.schema ?? ''),
              event,
              file,
              (transaction ??= open(event, start)),
            );
            // After a change of tables the position moves past the statement even with no row in
            // it: read again, a CREATE of a table already dropped would end the stream once more.
            commit(event.nextPosition, this.catalogChanged);
            if (this.catalogChanged && !this.stopped) {
              // Everything up to the statement lands; the capture then continues with the new tables.
              enqueue(async () => queue.end(), 0);
              this.stopped = true;
            }
            return;
          }
          case 'writerows':
          case 'updaterows':
          case 'deleterows': {
            const current = (transaction ??= open(event, start));
            const layout = imageLayout(tableMapOf(event));
            if (layout && event.rowImages) this.rowImages(name, event, file, current, layout);
            else this.rows(name, event, file, current);
            return;
          }
          case 'xid':
            return commit(event.nextPosition);
          default:
            // Format descriptions, GTID lists, checkpoints, heartbeats: nothing to land, but the
            // position moves (a rotated-to file's first events can be the caught-up target).
            if (event.nextPosition > 0 && !transaction) finishIfReached({ file, pos: event.nextPosition });
        }
      } catch (error) {
        queue.fail(error as Error);
      }
    });
    zongji.on('error', (error: Error & { code?: string; errno?: number }) => {
      if (this.stopped) return;
      if (isHistoryLost(error)) {
        options.onHistoryLost(error);
        queue.fail(new HistoryLostError(error));
      } else
        queue.fail(
          new CaptureError(`the binary log stream failed: ${error.message}`, {
            cause: error,
            retriable: true,
          }),
        );
    });
    const schema = { [options.settings.database]: true } as Record<string, true>;
    const start =
      state.gtid && options.server.flavor === 'mariadb'
        ? { gtidSet: state.gtid }
        : { filename: state.file, position: state.pos };
    zongji.start({
      // Any id no real replica uses: the server drops an older connection with the same id.
      serverId: 0x7f000000 + Math.floor(Math.random() * 0xffffff),
      ...start,
      includeEvents: [
        'rotate',
        'mariadbgtid',
        'gtid',
        'query',
        'tablemap',
        'writerows',
        'updaterows',
        'deleterows',
        'xid',
        'format',
        'heartbeat',
        'mariadbgtidlist',
        'binlogcheckpoint',
        'previousgtids',
      ],
      includeSchema: schema,
    });
    return queue;

    function open(event: BinlogEvent, position: number): OpenTransaction {
      return {
        gtid: undefined,
        start: event.nextPosition || cursor,
        position,
        emitted: 0,
        emittedPerTable: new Map(),
        changes: [],
        bytes: 0,
      };
    }
  }

  async acknowledge(): Promise<void> {
    // The runner stores the state; the server keeps nothing for readers.
  }

  async stop(): Promise<void> {
    this.stopped = true;
    const zongji = this.zongji;
    this.zongji = undefined;
    if (!zongji) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 2_000);
      zongji.once('stopped', () => {
        clearTimeout(timer);
        resolve();
      });
      try {
        zongji.stop();
      } catch {
        clearTimeout(timer);
        resolve();
      }
    });
  }

  /** The source of a change, named as Debezium's MySQL connectors name it. */
  private changeSource(
    codec: MysqlTableCodec,
    transaction: OpenTransaction,
    file: string,
    timestamp: number,
    row: number,
  ): ChangeSource {
    return {
      version: 'tributary',
      connector: 'mysql',
      name: this.options.sourceName,
      db: this.options.settings.database,
      table: codec.table.table,
      server_id: 0,
      gtid: transaction.gtid ?? null,
      file,
      pos: transaction.position,
      row,
      ts_ms: timestamp,
      snapshot: 'false',
    };
  }

  /**
   * Row events: each row is a change. Its source names it as Debezium's MySQL connectors do (the
   * transaction's position, the row's index in its event, its order in the transaction), and its
   * version is derived from that source (binlogSourceVersion), the same on both paths.
   */
  private rows(name: string, event: BinlogEvent, file: string, transaction: OpenTransaction): void {
    const tableMap = tableMapOf(event);
    if (!tableMap || tableMap.parentSchema !== this.options.settings.database) return;
    const codec = this.options.codecs.get(tableMap.tableName);
    if (!codec) return;
    const rows = (event.rows as unknown[] | undefined) ?? decodeRowImages(name, event, tableMap);
    for (let index = 0; index < rows.length; index++) {
      const value = rows[index];
      const source = this.changeSource(codec, transaction, file, event.timestamp, index);
      if (name === 'writerows')
        this.emit(transaction, codec, source, 'c', null, codec.decodeRow(value as Row));
      else if (name === 'deleterows')
        this.emit(transaction, codec, source, 'd', codec.decodeRow(value as Row), null);
      else {
        const { before, after } = value as { before: Row; after: Row };
        this.update(transaction, codec, source, codec.decodeRow(before), codec.decodeRow(after));
      }
    }
  }

  /**
   * Row events of a table whose images row-images.ts reads: each change keeps its image as bytes
   * and decodes its envelope only when asked. An update that changes the key is decoded at once
   * (it is two changes); so is an event whose images leave columns out (binlog_row_image other than FULL).
   */
  private rowImages(
    name: string,
    event: BinlogEvent,
    file: string,
    transaction: OpenTransaction,
    layout: RowImageLayout,
  ): void {
    const [bitmap, afterBitmap] = presentColumns(event);
    if (!layout.holdsEveryColumn(bitmap) || !layout.holdsEveryColumn(afterBitmap))
      return this.rows(name, event, file, transaction);
    const codec = layout.codec;
    const bytes = event.rowImages as Buffer;
    const shared: ImageEvent = {
      bytes,
      layout,
      tableMap: tableMapOf(event) as TableMapEntry,
      source: this.changeSource(codec, transaction, file, event.timestamp, 0),
      transactionId: transaction.gtid ?? `${file}:${transaction.position}`,
      readAt: Date.now(),
    };
    let at = 0;
    for (let index = 0; at < bytes.length; index++) {
      if (name !== 'updaterows') {
        const end = layout.imageEnd(bytes, at);
        this.emitImage(transaction, shared, name === 'writerows' ? 'c' : 'd', index, at, at, end - at);
        at = end;
        continue;
      }
      const { after, end, sameKey } = layout.update(bytes, at);
      if (sameKey) this.emitImage(transaction, shared, 'u', index, at, after, end - at);
      else
        this.update(
          transaction,
          codec,
          this.changeSource(codec, transaction, file, event.timestamp, index),
          decodeImage(shared, at),
          decodeImage(shared, after),
        );
      at = end;
    }
  }

  private update(
    transaction: OpenTransaction,
    codec: MysqlTableCodec,
    source: ChangeSource,
    old: Row,
    next: Row,
  ): void {
    // A changed key is another row, as Debezium sends it: delete the old, create the new. A
    // table without a key stays one update, as Debezium sends it (and counts it in the
    // transaction's order); the mirror retires the old row's digest at the same version.
    // Key values are decoded scalars (numbers, text, booleans): compared as they are.
    if (codec.sourceKey.some((column) => old[column] !== next[column])) {
      const [oldKey, newKey] = [codec.keyOf(old), codec.keyOf(next)];
      const position = binlogKeyChangePosition(source) as number;
      this.emit(transaction, codec, source, 'd', old, null, { side: 'old', position, otherKey: newKey });
      this.emit(transaction, codec, { ...source }, 'c', null, next, {
        side: 'new',
        position,
        otherKey: oldKey,
      });
    } else this.emit(transaction, codec, source, 'u', old, next);
  }

  /**
   * A statement in the log: TRUNCATE empties a captured table's mirror; a table dropped or renamed
   * away is emptied the same way (its mirror keeps the history, and no live row of a table that
   * is gone); a table created or renamed into the selection ends the stream (`catalogChanged`).
   * Others only shape the stream.
   */
  private statement(
    query: string,
    schema: string,
    event: BinlogEvent,
    file: string,
    transaction: OpenTransaction,
  ): void {
    const database = this.options.settings.database;
    const truncate = /^TRUNCATE\s+(?:TABLE\s+)?(?:`?([^`.\s]+)`?\.)?`?([^`\s;]+)`?/i.exec(query);
    if (truncate) {
      if ((truncate[1] ?? schema) === database) this.empty(truncate[2] ?? '', event, file, transaction);
      return;
    }
    const ddl = parseTableDdl(query, schema);
    if (!ddl) return;
    for (const { table } of ddl.removed.filter((name) => name.database === database)) {
      if (!this.options.codecs.has(table)) continue;
      this.empty(table, event, file, transaction);
      this.options.codecs.delete(table);
      this.catalogChanged = true;
    }
    if (
      ddl.created.some(
        (name) =>
          name.database === database &&
          this.options.selects(name.table) &&
          !this.options.codecs.has(name.table),
      )
    )
      this.catalogChanged = true;
  }

  /** A `t` event: every row of the table's mirror is gone as of this position. */
  private empty(table: string, event: BinlogEvent, file: string, transaction: OpenTransaction): void {
    const codec = this.options.codecs.get(table);
    if (!codec) return;
    const source = this.changeSource(codec, transaction, file, event.timestamp, 0);
    this.emit(transaction, codec, source, 't', null, null);
  }

  /** Counts a change of `codec`'s table in its transaction; returns its place among the table's. */
  private place(transaction: OpenTransaction, codec: MysqlTableCodec): number {
    const inTable = (transaction.emittedPerTable.get(codec.tableName) ?? 0) + 1;
    transaction.emittedPerTable.set(codec.tableName, inTable);
    transaction.emitted++;
    return inTable;
  }

  private emitImage(
    transaction: OpenTransaction,
    shared: ImageEvent,
    op: 'c' | 'u' | 'd',
    row: number,
    before: number,
    at: number,
    bytes: number,
  ): void {
    const inTable = this.place(transaction, shared.layout.codec);
    const order = transaction.emitted;
    // As binlogChangeVersion reads it from the envelope: the transaction's position, then the order.
    const version = binlogVersion(shared.source.file as string, transaction.position, order);
    transaction.changes.push(new BinlogImageChange(shared, op, row, before, at, order, inTable, version));
    transaction.bytes += bytes + 96;
  }

  private emit(
    transaction: OpenTransaction,
    codec: MysqlTableCodec,
    source: ChangeSource,
    op: 'c' | 'u' | 'd' | 't',
    before: Row | null,
    after: Row | null,
    keyChange?: KeyChange,
  ): void {
    const inTable = this.place(transaction, codec);
    // Debezium's transaction block (provide.transaction.metadata), which orders changes within one.
    const metadata = {
      id: transaction.gtid ?? `${source.file}:${transaction.position}`,
      total_order: transaction.emitted,
      data_collection_order: inTable,
    };
    const envelope: ChangeEnvelope = { before, after, source, op, ts_ms: Date.now(), transaction: metadata };
    if (keyChange) envelope.keyChange = keyChange;
    transaction.changes.push({
      envelope,
      version: binlogChangeVersion(envelope) as number,
      table: codec.tableName,
      shape: codec.table,
    });
    transaction.bytes += approximateBytes(before) + approximateBytes(after) + 96;
  }
}

/** The table map a rows or table map event refers to. */
function tableMapOf(event: BinlogEvent): TableMapEntry | undefined {
  return (event.tableMap as Record<number, TableMapEntry>)[event.tableId as number];
}

/** A rows event's present-columns bitmaps: its images', and an update's after images'. */
function presentColumns(event: BinlogEvent): [Buffer, Buffer] {
  const bitmap = event.columns_present_bitmap as Buffer;
  return [bitmap, (event.columns_present_bitmap2 as Buffer | undefined) ?? bitmap];
}

/**
 * What zongji's value decoding reads of its instance: the options the stream decodes with. The
 * stream's own connection may be closed by the time an envelope is asked for.
 */
const IMAGE_DECODER = {
  connection: { config: DECODING_OPTIONS },
  emit(_event: string, error: unknown): boolean {
    throw error;
  },
};

/** What the changes read from one rows event's images share. */
interface ImageEvent {
  bytes: Buffer;
  layout: RowImageLayout;
  tableMap: TableMapEntry;
  /** The changes' source, but for each one's `row`. */
  source: ChangeSource;
  transactionId: string;
  readAt: number;
}

/**
 * A change read as a row image: the mirror writes its bytes; its envelope is decoded by zongji and
 * the table codec, as any other row's, the first time something asks for it (a dead letter, Kafka).
 */
class BinlogImageChange implements SourceChange, RowImage {
  private decoded: ChangeEnvelope | undefined;

  constructor(
    private readonly shared: ImageEvent,
    private readonly op: 'c' | 'u' | 'd',
    private readonly row: number,
    /** An update's old image; otherwise `at`. */
    private readonly before: number,
    /** The image the mirror stores: the new row's, or a delete's old one. */
    readonly at: number,
    private readonly totalOrder: number,
    private readonly inTable: number,
    readonly version: SourceVersion,
  ) {}

  get image(): RowImage {
    return this;
  }

  get layout(): RowImageLayout {
    return this.shared.layout;
  }

  get bytes(): Buffer {
    return this.shared.bytes;
  }

  get deleted(): boolean {
    return this.op === 'd';
  }

  get table(): string {
    return this.shared.layout.codec.tableName;
  }

  get shape(): SourceTable {
    return this.shared.layout.codec.table;
  }

  get envelope(): ChangeEnvelope {
    return (this.decoded ??= this.decode());
  }

  private decode(): ChangeEnvelope {
    const { shared, op } = this;
    return {
      before: op === 'c' ? null : decodeImage(shared, this.before),
      after: op === 'd' ? null : decodeImage(shared, this.at),
      source: { ...shared.source, row: this.row },
      op,
      ts_ms: shared.readAt,
      transaction: {
        id: shared.transactionId,
        total_order: this.totalOrder,
        data_collection_order: this.inTable,
      },
    };
  }
}

/** One row image of an event whose images hold every column, decoded by zongji and the table codec. */
function decodeImage(shared: ImageEvent, at: number): Row {
  const { layout } = shared;
  return layout.codec.decodeRow(
    readRowImage(shared.bytes, at, shared.tableMap, layout.everyColumn, IMAGE_DECODER).row as Row,
  );
}

/** A rows event's images, decoded by zongji (an event whose table map it kept as bytes, read the old way). */
function decodeRowImages(name: string, event: BinlogEvent, tableMap: TableMapEntry): unknown[] {
  const bytes = event.rowImages as Buffer | undefined;
  if (!bytes) return [];
  const [bitmap, afterBitmap] = presentColumns(event);
  const rows: unknown[] = [];
  for (let at = 0; at < bytes.length;) {
    const first = readRowImage(bytes, at, tableMap, bitmap, IMAGE_DECODER);
    if (name !== 'updaterows') {
      rows.push(first.row);
      at = first.end;
      continue;
    }
    const second = readRowImage(bytes, first.end, tableMap, afterBitmap, IMAGE_DECODER);
    rows.push({ before: first.row, after: second.row });
    at = second.end;
  }
  return rows;
}

/** Raised when the server no longer has the position asked for: the capture snapshots again. */
export class HistoryLostError extends CaptureError {
  constructor(cause: Error) {
    super(`the server no longer has the stored binary log position (${cause.message}); snapshotting again`, {
      cause,
    });
  }
}

export function isHistoryLost(error: { errno?: number; code?: string; message?: string }): boolean {
  // 1236: could not find the position or GTID in the binary log; MariaDB 1945/1955 for a GTID
  // position the log no longer (or never) had.
  return (
    error.errno === 1236 ||
    error.errno === 1945 ||
    error.errno === 1955 ||
    /could not find first log file|binary log.*purged|GTID.*(not|no longer).*(binary log|binlog)|requested.*(purged|not exist)/i.test(
      error.message ?? '',
    )
  );
}

/** A table map's columns as one string: equal strings, equal shapes. */
function shapeOf(entry: TableMapEntry): string {
  let shape = '';
  // The binlog's own type codes too: MariaDB's pre-5.6 DATETIME and DATETIME2 read alike as text,
  // and their row images do not.
  for (const [index, column] of entry.columnSchemas.entries())
    shape += `${column.COLUMN_NAME}\u0000${column.COLUMN_TYPE}\u0000${column.CHARACTER_SET_NAME ?? '\u0001'}\u0000${entry.columns?.[index]?.type ?? ''}\u0002`;
  return shape;
}

function gtidDomains(gtid: string | undefined): Map<string, string> {
  const domains = new Map<string, string>();
  for (const entry of (gtid ?? '').split(',').map((part) => part.trim()))
    if (/^\d+-\d+-\d+$/.test(entry)) domains.set(entry.split('-')[0] as string, entry);
  return domains;
}

function approximateBytes(row: Row | null): number {
  if (!row) return 0;
  let bytes = 0;
  for (const key in row) {
    const value = row[key];
    bytes += key.length + (typeof value === 'string' ? value.length : 8);
  }
  return bytes;
}
