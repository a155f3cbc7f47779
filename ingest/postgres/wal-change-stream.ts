// The replication slot as a stream for the landing runner: each committed transaction is a unit,
// positioned by its commit LSN; Postgres' keepalives are heartbeats that let an idle slot move.
// The slot itself keeps the acknowledged position, so nothing is stored beside it.
import { z } from 'zod';
import { AsyncQueue } from '../landing/async-queue.ts';
import type { ChangeStream, ReadUnit, StreamCodec } from '../landing/types.ts';
import { formatLsn } from './lsn.ts';
import { WalStream, type WalStreamOptions } from './wal-stream.ts';

/** A transaction (or a keepalive: no changes), and where confirming it moves the slot. */
export interface WalUnit extends ReadUnit<number> {
  /** The end of its commit record (or the server's position, for a keepalive). */
  end: number;
}

export const WAL_CODEC: StreamCodec<number, undefined> = {
  position: z.number().int().nonnegative(),
  state: z.undefined(),
  compare: (a, b) => a - b,
  text: formatLsn,
};

export interface WalChangeStreamOptions extends Omit<WalStreamOptions, 'handlers'> {
  /** Scopes recorded batches to the slot they were read from (a new slot streams other WAL). */
  lineage: number;
  /** Where the slot stands: confirmed up to here. */
  confirmed: number;
  /** Stop once everything up to this WAL position landed (`--until-caught-up`); undefined streams on. */
  target?: () => number | undefined;
  /** Queued transactions are held to about this many bytes while the runner is busy. */
  queueBytes: number;
  onRelation: WalStreamOptions['handlers']['onRelation'];
}

export class WalChangeStream implements ChangeStream<number, undefined, WalUnit> {
  readonly id: string;
  readonly codec = WAL_CODEC;
  readonly acknowledgedAtSource = true;
  private wal: WalStream | undefined;
  private confirmed: number;

  constructor(private readonly options: WalChangeStreamOptions) {
    this.id = `wal@${formatLsn(options.lineage)}`;
    this.confirmed = options.confirmed;
  }

  async isAcknowledged(position: number): Promise<boolean> {
    return position < this.confirmed;
  }

  read(): AsyncIterator<WalUnit> {
    const target = () => this.options.target?.();
    let stopping: Promise<void> | undefined;
    const stop = () => (stopping ??= this.stopWal());
    const queue = new AsyncQueue<WalUnit>(this.options.queueBytes, stop);
    const reached = (position: number) => {
      const goal = target();
      return goal !== undefined && position >= goal;
    };
    // Nothing to wait for: the slot already stands at the target (an idle source).
    if (reached(this.confirmed)) {
      queue.end();
      return queue;
    }
    // Caught up: the runner lands and confirms what is queued, then stops the stream (return).
    const finish = () => queue.end();
    const wal = (this.wal = new WalStream({
      ...this.options,
      handlers: {
        onRelation: this.options.onRelation,
        onTransaction: async (transaction) => {
          await queue.push(
            {
              changes: transaction.changes,
              position: transaction.commitLsn,
              bytes: transaction.bytes,
              end: transaction.commitEndLsn,
            },
            transaction.bytes,
          );
          if (reached(transaction.commitEndLsn)) finish();
        },
        onIdle: (serverLsn) => {
          const position = Math.max(serverLsn, this.confirmed);
          void queue.push({ changes: [], heartbeat: true, position, bytes: 0, end: position }, 0);
          if (reached(position)) finish();
        },
        onError: (error) => queue.fail(error),
      },
    }));
    wal.resumeFrom(this.confirmed);
    // While a target is set, ask for keepalives often: an idle source reports its position at once.
    const pinger = setInterval(() => {
      if (target() !== undefined) wal.ping();
    }, 250);
    void wal
      .start()
      .catch((error: Error) => queue.fail(error))
      .finally(() => clearInterval(pinger));
    return queue;
  }

  async acknowledge(unit: WalUnit): Promise<void> {
    this.confirmed = Math.max(this.confirmed, unit.end);
    this.wal?.confirm(this.confirmed);
  }

  get confirmedPosition(): number {
    return this.confirmed;
  }

  private async stopWal(): Promise<void> {
    await this.wal?.stop().catch(() => undefined);
  }
}
