// Bulk writes to Redis as raw RESP over one socket: commands arrive already encoded (by the engine,
// see online-store.ts) and are pipelined, and only their one-line replies (integers, OK, errors) are
// counted. A general client builds an object per command and argument, which dominated
// materializing a million hashes.
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { TributaryError } from '../errors/index.ts';
import { describeRedisTarget, tlsOptions, type RedisTarget } from './redis-target.ts';

export class RedisWriteError extends TributaryError {}

/** One command as RESP text. */
export function encodeCommand(args: readonly string[]): string {
  let text = `*${args.length}\r\n`;
  for (const arg of args) text += `$${Buffer.byteLength(arg)}\r\n${arg}\r\n`;
  return text;
}

export class RespWriter {
  private pending = 0;
  private chunks: string[] = [];
  private buffered = 0;
  private failure: Error | undefined;
  private tail = '';
  private waiters: (() => void)[] = [];

  private constructor(private readonly socket: Socket) {
    socket.setEncoding('utf8');
    socket.on('data', (data: string) => this.onReplies(data));
    socket.on('drain', () => this.wake());
    socket.on('error', (error) => this.fail(error));
    socket.on('close', () => this.fail(new RedisWriteError('the connection closed', { retriable: true })));
  }

  static connect(target: RedisTarget): Promise<RespWriter> {
    return new Promise((resolve, reject) => {
      const onConnect = () => {
        const writer = new RespWriter(socket);
        // Replies are counted, not matched: a refused AUTH or SELECT fails the first flush.
        if (target.password !== undefined)
          writer.send(['AUTH', ...(target.username === undefined ? [] : [target.username]), target.password]);
        if (target.db !== 0) writer.send(['SELECT', String(target.db)]);
        resolve(writer);
      };
      const socket = target.tls
        ? tlsConnect({ ...tlsOptions(target), port: target.port }, onConnect)
        : netConnect({ host: target.host, port: target.port }, onConnect);
      socket.once('error', (error) =>
        reject(
          new RedisWriteError(`cannot reach Redis at ${describeRedisTarget(target)}: ${error.message}`, {
            retriable: true,
            cause: error,
          }),
        ),
      );
    });
  }

  send(args: readonly string[]): void {
    const text = encodeCommand(args);
    this.chunks.push(text);
    this.buffered += text.length;
    this.pending++;
    if (this.buffered > 1 << 20) this.push();
  }

  /**
   * Sends `commands` commands already encoded as RESP, chunk by chunk, each once the socket has
   * passed on the one before (so memory holds about one chunk).
   */
  async sendEncoded(chunks: AsyncIterable<Buffer>, commands: number): Promise<void> {
    this.push();
    this.pending += commands;
    for await (const chunk of chunks) {
      while (this.socket.writableNeedDrain && !this.failure)
        await new Promise<void>((resolve) => this.waiters.push(resolve));
      if (this.failure) break;
      this.socket.write(chunk);
    }
  }

  /** Waits until Redis answered every command sent; throws on the first error reply. */
  async flush(): Promise<void> {
    this.push();
    while (this.pending > 0 && !this.failure)
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    if (this.failure)
      throw new RedisWriteError(`Redis refused a write: ${this.failure.message}`, { retriable: true });
  }

  close(): void {
    this.socket.removeAllListeners('close');
    this.socket.destroy();
  }

  private push(): void {
    if (this.chunks.length === 0) return;
    this.socket.write(this.chunks.join(''));
    this.chunks = [];
    this.buffered = 0;
  }

  private onReplies(data: string): void {
    const text = this.tail + data;
    let start = 0;
    for (let end = text.indexOf('\r\n'); end !== -1; end = text.indexOf('\r\n', start)) {
      if (text[start] === '-' && !this.failure)
        this.failure = new RedisWriteError(text.slice(start + 1, end));
      this.pending--;
      start = end + 2;
    }
    this.tail = text.slice(start);
    this.wake();
  }

  private fail(error: Error): void {
    this.failure ??= error;
    this.wake();
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }
}
