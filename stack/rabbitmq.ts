// Starts a private RabbitMQ node (Debian's rabbitmq-server package) on free loopback ports, with its
// own Erlang port mapper, data and cookie under `dataDir`, for the tests that publish to AMQP; it
// never touches a RabbitMQ (or epmd) this machine already runs.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { StackError } from './errors.ts';
import { findFreePort } from './free-port.ts';
import { stopProcess } from './processes.ts';

/** The server script itself: /usr/sbin/rabbitmq-server would switch to the rabbitmq user. */
const SERVER = '/usr/lib/rabbitmq/bin/rabbitmq-server';
const EPMD = 'epmd';

export interface RunningRabbitMq {
  /** `amqp://guest:guest@127.0.0.1:PORT` (guest may log in over loopback). */
  url: string;
  port: number;
  stop(): Promise<void>;
}

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port }, () => {
      resolve(true);
      socket.destroy();
    });
    socket.once('error', () => resolve(false));
  });
}

export async function startRabbitMq(options: { dataDir: string }): Promise<RunningRabbitMq> {
  const { dataDir } = options;
  const [port, distPort, epmdPort] = [await findFreePort(), await findFreePort(), await findFreePort()];
  const home = join(dataDir, 'home');
  await mkdir(home, { recursive: true });
  await writeFile(join(dataDir, 'enabled_plugins'), '[].\n');
  // The node's own port mapper, started here so that it stops with the node.
  const epmd = spawn(EPMD, ['-port', String(epmdPort)], { stdio: 'ignore' });
  // Listening before the node starts, or the node would start a daemon of its own.
  for (const until = Date.now() + 10_000; !(await listening(epmdPort)) && Date.now() < until;)
    await sleep(50);
  const env = {
    ...process.env,
    HOME: home,
    ERL_EPMD_PORT: String(epmdPort),
    RABBITMQ_NODE_PORT: String(port),
    RABBITMQ_NODE_IP_ADDRESS: '127.0.0.1',
    RABBITMQ_DIST_PORT: String(distPort),
    RABBITMQ_NODENAME: `tributary${port}@localhost`,
    RABBITMQ_MNESIA_BASE: join(dataDir, 'mnesia'),
    RABBITMQ_LOG_BASE: join(dataDir, 'log'),
    RABBITMQ_LOGS: '-',
    RABBITMQ_PID_FILE: join(dataDir, 'pid'),
    RABBITMQ_ENABLED_PLUGINS_FILE: join(dataDir, 'enabled_plugins'),
    RABBITMQ_CONFIG_FILE: join(dataDir, 'rabbitmq'),
  };
  // Its own process group: the script, the Erlang VM and its helpers stop together.
  const server: ChildProcess = spawn(SERVER, [], { env, stdio: 'ignore', detached: true });
  let failure: Error | undefined;
  server.once('error', (error) => (failure = error));
  epmd.once('error', (error) => (failure = error));
  const stop = async () => {
    if (server.pid !== undefined && server.exitCode === null) {
      try {
        process.kill(-server.pid, 'SIGTERM');
      } catch {
        // Already gone.
      }
      await stopProcess(server.pid, 15_000);
    }
    if (epmd.pid !== undefined) await stopProcess(epmd.pid, 5_000);
  };
  const deadline = Date.now() + 60_000;
  while (!(await listening(port))) {
    if (failure || server.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new StackError(
        `rabbitmq-server did not start on 127.0.0.1:${port}${failure ? `: ${failure.message}` : ''}; install Debian's rabbitmq-server package (apt-get install -y rabbitmq-server)`,
      );
    }
    await sleep(200);
  }
  return { url: `amqp://guest:guest@127.0.0.1:${port}`, port, stop };
}
