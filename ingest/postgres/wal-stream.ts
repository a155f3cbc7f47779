// Streams committed transactions from the replication slot as changes in Debezium envelopes.
// Positions are confirmed to Postgres only through `confirm()`, after the warehouse accepted.
import { LogicalReplicationService, PgoutputPlugin, type Pgoutput } from 'pg-logical-replication';
import type { ChangeSource, KeyChange, Row } from '../envelope.ts';
import type { SourceChange } from '../landing/types.ts';
import { SESSION_OPTIONS } from './catalog.ts';
import { formatLsn, parseLsn } from './lsn.ts';
import type { TableCodec } from './table-codec.ts';
import { ROW_ID_COLUMN } from '../source-table.ts';

export interface WalTransaction {
  /** LSN of the commit record: orders transactions. */
  commitLsn: number;
  /**
   * Bytes of its row messages on the wire, and of the unchanged TOASTed values its rows will be
   * filled with: what buffering and landing it costs, roughly.
   */
  bytes: number;
  /** End of the commit record: confirming it tells Postgres this transaction is done. */
  commitEndLsn: number;
  xid: number;
  changes: SourceChange[];
}

export interface WalStreamHandlers {
  /** A table's shape as the stream now sends it (first use, or after ALTER TABLE). */
  onRelation(relation: Pgoutput.MessageRelation): Promise<TableCodec | undefined>;
  /** A complete transaction; awaiting it holds back the stream (backpressure). */
  onTransaction(transaction: WalTransaction): Promise<void> | void;
  /** Postgres' keepalive: its WAL position, when nothing of ours is in flight. */
  onIdle(serverLsn: number): void;
  onError(error: Error): void;
}

export interface WalStreamOptions {
  url: string;
  slot: string;
  publications: string[];
  sourceName: string;
  database: string;
  handlers: WalStreamHandlers;
}

const keepText = (value: unknown): unknown => value;

/** A parsed message with the size of the bytes it came from. */
type SizedMessage = Pgoutput.Message & { wireBytes?: number };

/** Keeps every column as Postgres' text output; Tributary's decoders turn it into envelope values. */
class TextPgoutputPlugin extends PgoutputPlugin {
  received = 0;
  override parse(buffer: Buffer): Pgoutput.Message {
    const message: SizedMessage = super.parse(buffer);
    message.wireBytes = buffer.length;
    this.received++;
    // Relation messages are parsed before the rows that use them, so this applies to those rows.
    if (message.tag === 'relation') for (const column of message.columns) column.parser = keepText;
    return message;
  }
}

export class WalStream {
  private readonly service: LogicalReplicationService;
  private readonly plugin: TextPgoutputPlugin;
  private readonly codecs = new Map<number, TableCodec>();
  private transaction: (WalTransaction & { commitTime: number }) | undefined;
  private handled = 0;
  private confirmed = 0;

  constructor(private readonly options: WalStreamOptions) {
    this.service = new LogicalReplicationService(
      { connectionString: options.url, options: SESSION_OPTIONS },
      // Never let the library confirm positions on its own: only landed data may be confirmed.
      { acknowledge: { auto: false, timeoutSeconds: 0 }, flowControl: { enabled: true } },
    );
    this.plugin = new TextPgoutputPlugin({ protoVersion: 1, publicationNames: options.publications });
    this.service.on('data', (lsn: string, message: Pgoutput.Message) => this.handle(parseLsn(lsn), message));
    this.service.on('heartbeat', (lsn: string, _timestamp: number, shouldRespond: boolean) => {
      if (this.isIdle()) this.options.handlers.onIdle(parseLsn(lsn));
      else if (shouldRespond) void this.service.acknowledge(formatLsn(Math.max(this.confirmed - 1, 0)));
    });
    this.service.on('error', (error: Error) => options.handlers.onError(error));
  }

  private stopping = false;
  /** Settles once the stream is up, or once setting it up failed: a stop waits for it. */
  private settled: Promise<void> = Promise.resolve();

  /** Streams until `stop()`; resolves when the replication connection closes. */
  async start(): Promise<void> {
    let markSettled!: () => void;
    this.settled = new Promise((resolve) => (markSettled = resolve));
    this.service.once('start', () => markSettled());
    const subscribed = this.service.subscribe(this.plugin, this.options.slot);
    subscribed.catch(() => undefined).finally(() => markSettled());
    try {
      await subscribed;
    } catch (error) {
      if (!this.stopping) throw error;
    }
  }

  /** Where the slot already stands, so keepalive replies never move it backwards. */
  resumeFrom(lsn: number): void {
    this.confirmed = lsn;
  }

  /** Confirms everything up to `lsn` (exclusive end of what has landed). */
  confirm(lsn: number): void {
    if (lsn <= this.confirmed) return;
    this.confirmed = lsn;
    // The library reports `lsn + 1` as flushed; Postgres skips transactions whose commit starts below it.
    void this.service.acknowledge(formatLsn(lsn - 1));
  }

  /** Asks the server for a keepalive now, so an idle stream learns the current WAL position. */
  ping(): void {
    void this.service.acknowledge(formatLsn(Math.max(this.confirmed - 1, 0)), true);
  }

  /**
   * Ends the stream. A stop that arrives while the connection is still being set up waits for it:
   * closing a client in the middle of its connect leaves the stream running, or hangs.
   */
  async stop(): Promise<void> {
    this.stopping = true;
    await this.settled;
    await this.service.stop();
  }

  private isIdle(): boolean {
    return this.transaction === undefined && this.plugin.received === this.handled;
  }

  private async handle(lsn: number, message: Pgoutput.Message): Promise<void> {
    try {
      await this.dispatch(lsn, message);
    } catch (error) {
      this.options.handlers.onError(error as Error);
    } finally {
      this.handled++;
    }
  }

  private async dispatch(lsn: number, message: SizedMessage): Promise<void> {
    if (this.transaction) this.transaction.bytes += message.wireBytes ?? 0;
    switch (message.tag) {
      case 'relation': {
        const codec = await this.options.handlers.onRelation(message);
        if (codec) this.codecs.set(message.relationOid, codec);
        else this.codecs.delete(message.relationOid);
        return;
      }
      case 'begin':
        this.transaction = {
          commitLsn: parseLsn(message.commitLsn ?? '0/0'),
          bytes: 0,
          commitEndLsn: 0,
          xid: message.xid,
          changes: [],
          commitTime: Number(message.commitTime) / 1000,
        };
        return;
      case 'insert': {
        const codec = this.codecs.get(message.relation.relationOid);
        if (!codec) return;
        const after = codec.decodeRow(message.new);
        // A table without any identity is insert-only: a row is named by the position of its insert.
        if (codec.table.rowIdentity === 'append') after[ROW_ID_COLUMN] = formatLsn(lsn);
        this.emit(lsn, codec, message.relation, 'c', null, after);
        return;
      }
      case 'update': {
        const codec = this.codecs.get(message.relation.relationOid);
        if (!codec) return;
        // An old row logged whole (REPLICA IDENTITY FULL) holds the values the new one leaves out.
        const after = codec.decodeRow(message.new, message.old ?? undefined);
        // The batch holds the row as it will land: unchanged TOASTed values filled in.
        if (this.transaction) this.transaction.bytes += codec.unchangedBytes(after);
        const previousKey = message.key ?? message.old;
        const before = previousKey ? codec.decodeBefore(previousKey) : null;
        // A changed key is a different row: like Debezium, delete the old key and create the new
        // one, both marked with the update's position so the create can find the old row's
        // unchanged TOASTed values, which Postgres does not resend.
        if (before && keyChanged(codec, before, after)) {
          const [oldKey, newKey] = [pickKey(codec, before), pickKey(codec, after)];
          this.emit(lsn, codec, message.relation, 'd', before, null, {
            side: 'old',
            position: lsn,
            otherKey: newKey,
          });
          this.emit(lsn, codec, message.relation, 'c', null, after, {
            side: 'new',
            position: lsn,
            otherKey: oldKey,
          });
        } else {
          this.emit(lsn, codec, message.relation, 'u', message.old ? before : null, after);
        }
        return;
      }
      case 'delete': {
        const codec = this.codecs.get(message.relation.relationOid);
        const old = message.old ?? message.key;
        if (codec && old) this.emit(lsn, codec, message.relation, 'd', codec.decodeBefore(old), null);
        return;
      }
      case 'truncate':
        for (const relation of message.relations) {
          const codec = this.codecs.get(relation.relationOid);
          if (codec) this.emit(lsn, codec, relation, 't', null, null);
        }
        return;
      case 'commit': {
        const transaction = this.transaction;
        this.transaction = undefined;
        if (!transaction) return;
        transaction.commitEndLsn = parseLsn(message.commitEndLsn ?? '0/0');
        await this.options.handlers.onTransaction({
          commitLsn: transaction.commitLsn,
          bytes: transaction.bytes,
          commitEndLsn: transaction.commitEndLsn,
          xid: transaction.xid,
          changes: transaction.changes,
        });
        return;
      }
      default:
        return;
    }
  }

  private emit(
    lsn: number,
    codec: TableCodec,
    relation: Pgoutput.MessageRelation,
    op: 'c' | 'u' | 'd' | 't',
    before: Row | null,
    after: Row | null,
    keyChange?: KeyChange,
  ): void {
    const transaction = this.transaction;
    if (!transaction) return;
    const source: ChangeSource = {
      version: 'tributary',
      connector: 'postgresql',
      name: this.options.sourceName,
      db: this.options.database,
      schema: relation.schema,
      table: relation.name,
      lsn,
      txId: transaction.xid,
      sequence: `["${transaction.commitLsn}","${lsn}"]`,
      ts_ms: transaction.commitTime,
      snapshot: 'false',
    };
    transaction.changes.push({
      envelope: {
        before,
        after,
        source,
        op,
        ts_ms: Date.now(),
        ...(keyChange && { keyChange }),
      },
      version: lsn,
      table: codec.tableName,
    });
  }
}

function pickKey(codec: TableCodec, row: Row): Row {
  return Object.fromEntries(codec.table.key.map((column) => [column, row[column]]));
}

/** Whether the key columns differ between the old row (or key) and the new row. */
function keyChanged(codec: TableCodec, previous: Row, next: Row): boolean {
  return codec.table.key.some(
    (column) =>
      previous[column] !== undefined && JSON.stringify(previous[column]) !== JSON.stringify(next[column]),
  );
}
