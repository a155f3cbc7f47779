// Starts a private redis-server (Debian's package) on a free loopback port, without persistence,
// for the online store's tests and benchmark; it never touches a Redis this machine already runs.
import { execFile, spawn } from 'node:child_process';
import { join } from 'node:path';
import { createConnection, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { StackError } from './errors.ts';
import { findFreePort } from './free-port.ts';
import { stopProcess } from './processes.ts';

export interface RunningRedis {
  url: string;
  port: number;
  pid: number;
  stop(): Promise<void>;
}

/**
 * Whether a Redis server answers PING on the port: PONG, or NOAUTH from one that wants a password.
 * `tls`: over TLS, trusting any certificate (a probe of a server this process started).
 */
export function redisAnswers(port: number, options: { tls?: boolean } = {}): Promise<boolean> {
  return new Promise((resolve) => {
    const ping = () => socket.write('PING\r\n');
    const socket: Socket = options.tls
      ? tlsConnect({ host: '127.0.0.1', port, rejectUnauthorized: false }, ping)
      : createConnection({ host: '127.0.0.1', port }, ping);
    socket.setTimeout(1000, () => socket.destroy());
    socket.once('data', (data) => {
      resolve(/^(\+PONG|-NOAUTH)/.test(data.toString()));
      socket.destroy();
    });
    socket.once('error', () => resolve(false));
    socket.once('close', () => resolve(false));
  });
}

/** A server's certificate and key (PEM files); the certificate is its own CA. */
export interface RedisCertificate {
  certFile: string;
  keyFile: string;
}

/** A self-signed certificate for 127.0.0.1, valid a day (Debian's openssl). */
export async function selfSignedCertificate(dir: string): Promise<RedisCertificate> {
  const certificate = { certFile: join(dir, 'redis-cert.pem'), keyFile: join(dir, 'redis-key.pem') };
  // openssl's progress dots go to stderr; a failure is its exit status.
  await promisify(execFile)('openssl', [
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '1',
    '-subj',
    '/CN=127.0.0.1',
    '-addext',
    'subjectAltName=IP:127.0.0.1',
    '-keyout',
    certificate.keyFile,
    '-out',
    certificate.certFile,
  ]).catch((error: Error) => {
    throw new StackError(
      `openssl could not make a certificate (${error.message}); install Debian's openssl package`,
    );
  });
  return certificate;
}

/**
 * `port`: a given one (a restart where clients expect it), else a free one. `password`: the
 * default user's (requirepass). `tls`: the server speaks TLS alone on that port (no client
 * certificates asked), and its URL is rediss://.
 */
export async function startRedis(options: {
  dataDir: string;
  binary?: string;
  port?: number;
  password?: string;
  tls?: RedisCertificate;
}): Promise<RunningRedis> {
  const port = options.port ?? (await findFreePort());
  const { tls, password } = options;
  const listen = tls
    ? [
        '--port',
        '0',
        '--tls-port',
        String(port),
        '--tls-cert-file',
        tls.certFile,
        '--tls-key-file',
        tls.keyFile,
        '--tls-ca-cert-file',
        tls.certFile,
        '--tls-auth-clients',
        'no',
      ]
    : ['--port', String(port)];
  const child = spawn(
    options.binary ?? 'redis-server',
    [
      ...listen,
      ...(password === undefined ? [] : ['--requirepass', password]),
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
  while (!(await redisAnswers(port, { tls: tls !== undefined }))) {
    if (failure || child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new StackError(
        `redis-server did not start on 127.0.0.1:${port}${failure ? `: ${failure.message}` : ''}; install Debian's redis-server package (apt-get install -y redis-server)`,
      );
    }
    await sleep(50);
  }
  const pid = child.pid as number;
  return {
    url: `${tls ? 'rediss' : 'redis'}://127.0.0.1:${port}`,
    port,
    pid,
    stop: () => stopProcess(pid, 10_000),
  };
}
