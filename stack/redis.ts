// Starts a private redis-server (Debian's package) on a free loopback port, without persistence,
// for the online store's tests and benchmark; it never touches a Redis this machine already runs.
import { spawn } from 'node:child_process';
import { createConnection } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { StackError } from './errors.ts';
import { findFreePort } from './free-port.ts';
import { stopProcess } from './processes.ts';

export interface RunningRedis {
  url: string;
  port: number;
  pid: number;
  stop(): Promise<void>;
}

/** Whether a Redis server answers PING on the port. */
export function redisAnswers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port }, () => socket.write('PING\r\n'));
    socket.setTimeout(1000, () => socket.destroy());
    socket.once('data', (data) => {
      resolve(data.toString().startsWith('+PONG'));
      socket.destroy();
    });
    socket.once('error', () => resolve(false));
    socket.once('close', () => resolve(false));
  });
}

/** `port`: a given one (a restart where clients expect it), else a free one. */
export async function startRedis(options: {
  dataDir: string;
  binary?: string;
  port?: number;
}): Promise<RunningRedis> {
  const port = options.port ?? (await findFreePort());
  const child = spawn(
    options.binary ?? 'redis-server',
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      '--dir',
      options.dataDir,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let failure: Error | undefined;
  child.once('error', (error) => (failure = error));
  const deadline = Date.now() + 15_000;
  while (!(await redisAnswers(port))) {
    if (failure || child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new StackError(
        `redis-server did not start on 127.0.0.1:${port}${failure ? `: ${failure.message}` : ''}; install Debian's redis-server package (apt-get install -y redis-server)`,
      );
    }
    await sleep(50);
  }
  const pid = child.pid as number;
  return { url: `redis://127.0.0.1:${port}`, port, pid, stop: () => stopProcess(pid, 10_000) };
}
