// Engine sessions per user. A chDB session runs one streaming query at a time, so each user has a
// few sessions of their own (their settings and limits set once) and requests beyond those wait
// their turn first come, first served: a user's long export never holds up another user.
import { ANALYTICS_DATABASE, openEngineSession, type EngineSession } from '../warehouse/index.ts';

export interface Lease {
  readonly session: EngineSession;
  /** The database the session is in (`USE` persists in a session). */
  database: string;
  /** Gives the session back; `broken` closes it instead (after a cancelled stream). */
  release(broken?: boolean): void;
}

interface Slot {
  session: EngineSession;
  database: string;
}

export class SessionPool {
  private readonly idle: Slot[] = [];
  private readonly waiting: Array<{ grant: (slot: Slot | undefined) => void }> = [];
  private open = 0;
  private closed = false;

  constructor(
    private readonly path: string,
    private readonly setup: readonly string[],
    private readonly size: number,
  ) {}

  /** Waits for a session (FIFO); the signal gives up waiting when the client has gone. */
  async acquire(signal: AbortSignal): Promise<Lease> {
    let slot = this.idle.pop();
    if (!slot && this.open < this.size) {
      this.open++;
      try {
        slot = { session: await openEngineSession(this.path, this.setup), database: ANALYTICS_DATABASE };
      } catch (error) {
        this.open--;
        this.handOnCapacity();
        throw error;
      }
    }
    if (!slot) {
      slot = await new Promise<Slot | undefined>((resolve, reject) => {
        const waiter = { grant: resolve };
        this.waiting.push(waiter);
        signal.addEventListener(
          'abort',
          () => {
            const index = this.waiting.indexOf(waiter);
            if (index >= 0) this.waiting.splice(index, 1);
            reject(signal.reason as Error);
          },
          { once: true },
        );
      });
      // A broken session was closed: its place is free, so open a new one for this waiter.
      if (!slot) return this.acquire(signal);
    }
    return this.lease(slot);
  }

  private lease(slot: Slot): Lease {
    let released = false;
    return {
      session: slot.session,
      get database() {
        return slot.database;
      },
      set database(value: string) {
        slot.database = value;
      },
      release: (broken = false) => {
        if (released) return;
        released = true;
        if (broken || this.closed) {
          slot.session.close();
          this.open--;
          this.handOnCapacity();
          return;
        }
        const next = this.waiting.shift();
        if (next) next.grant(slot);
        else this.idle.push(slot);
      },
    };
  }

  private handOnCapacity(): void {
    if (this.closed) return;
    const next = this.waiting.shift();
    if (next) next.grant(undefined);
  }

  close(): void {
    this.closed = true;
    for (const slot of this.idle.splice(0)) slot.session.close();
    this.open = 0;
  }
}
