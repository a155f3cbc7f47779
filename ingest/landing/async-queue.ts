// A bounded queue between a source that pushes (a replication stream, a Kafka fetch loop) and the
// runner that pulls: `push` resolves once the queue is below its byte budget again, so a pushing
// source slows down instead of filling memory, and `close` ends the reader's iteration at once.

interface Waiter<T> {
  resolve(result: IteratorResult<T>): void;
  reject(error: Error): void;
}

export class AsyncQueue<T> implements AsyncIterableIterator<T> {
  private readonly items: { item: T; bytes: number }[] = [];
  private queuedBytes = 0;
  private waiter: Waiter<T> | undefined;
  private spaceWaiters: (() => void)[] = [];
  private closed = false;
  private returned = false;
  private failure: Error | undefined;

  /**
   * @param capacityBytes above this many queued bytes `push` waits (one item is always accepted)
   * @param onClose called once, when the reader stops reading (`return`): the source stops
   */
  constructor(
    private readonly capacityBytes: number,
    private readonly onClose?: () => void | Promise<void>,
  ) {}

  get bytes(): number {
    return this.queuedBytes;
  }

  get full(): boolean {
    return this.queuedBytes >= this.capacityBytes;
  }

  /** Adds an item; resolves once the queue has room again (at once when it already has). */
  push(item: T, bytes: number): Promise<void> {
    if (this.closed) return Promise.resolve();
    const waiter = this.waiter;
    if (waiter && this.items.length === 0) {
      this.waiter = undefined;
      waiter.resolve({ value: item, done: false });
      return Promise.resolve();
    }
    this.items.push({ item, bytes });
    this.queuedBytes += bytes;
    if (!this.full) return Promise.resolve();
    return new Promise((resolve) => this.spaceWaiters.push(resolve));
  }

  /** Ends the iteration with an error (the source failed). */
  fail(error: Error): void {
    if (this.closed) return;
    this.failure = error;
    const waiter = this.waiter;
    this.waiter = undefined;
    waiter?.reject(error);
  }

  /** Ends the iteration once the queued items are read. */
  end(): void {
    this.closed = true;
    this.releaseSpace();
    if (this.items.length === 0) this.finishWaiter();
  }

  next(): Promise<IteratorResult<T>> {
    const entry = this.items.shift();
    if (entry) {
      this.queuedBytes -= entry.bytes;
      if (!this.full) this.releaseSpace();
      return Promise.resolve({ value: entry.item, done: false });
    }
    if (this.failure) return Promise.reject(this.failure);
    if (this.closed) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve, reject) => (this.waiter = { resolve, reject }));
  }

  /** The reader stops: drops what is queued and tells the source (once). */
  async return(): Promise<IteratorResult<T>> {
    this.closed = true;
    this.items.length = 0;
    this.queuedBytes = 0;
    this.releaseSpace();
    this.finishWaiter();
    if (!this.returned) {
      this.returned = true;
      await this.onClose?.();
    }
    return { value: undefined, done: true };
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  private finishWaiter(): void {
    const waiter = this.waiter;
    this.waiter = undefined;
    waiter?.resolve({ value: undefined, done: true });
  }

  private releaseSpace(): void {
    const waiting = this.spaceWaiters;
    this.spaceWaiters = [];
    for (const resolve of waiting) resolve();
  }
}
