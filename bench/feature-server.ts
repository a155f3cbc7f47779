// The feature server under load against its floor, in one run: BENCH_USERS (default 100k) users'
// vectors of the learning pack's 67 features in a private redis-server, `tributary features serve`
// in its own process, and BENCH_CONCURRENCY (default 16) requests in flight from this process for
// BENCH_SECONDS (default 8) per run. Each workload runs as floor, server, server, floor: the floor
// is the same reads straight from Redis over one connection (HGETALL for every feature, HMGET for a
// few, pipelined as the server does),
// so the ratio is what HTTP, validation and JSON cost on top of Redis. Figures: requests/s,
// vectors/s, latency p50/p99, and the server's CPU per 1,000 vectors. `BENCH_PROFILE_DIR=DIR` writes a
// V8 CPU profile of the server.
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { Agent, request } from 'node:http';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { featureType } from '../features/registry.ts';
import { learningFeatures } from '../packs/learning/features.ts';
import { findFreePort, startRedis } from '../stack/index.ts';
import { processTreeCpuSeconds } from './cpu.ts';
import { percentile } from './percentile.ts';
import { redisCpu } from './redis-cpu.ts';

const USERS = Number(process.env.BENCH_USERS ?? 100_000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 16);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const CLI = new URL('../bin/tributary.js', import.meta.url).pathname;
const FEATURES = learningFeatures.features;
const FEW = [
  'activity_count_7d',
  'active_days_28d',
  'avg_score_ratio_28d',
  'country',
  'days_since_last_activity',
];

/** A plausible value of each feature for user `n` (ints, floats with many digits, short texts). */
function vectorOf(n: number): Record<string, string> {
  const fields: Record<string, string> = { _as_of: '2026-12-05 12:00:00.000' };
  FEATURES.forEach((feature, index) => {
    const type = featureType(feature);
    const seed = (n * 31 + index * 17) % 1000;
    if ((n + index) % 11 === 0 && type !== 'int64') return; // some nulls: absent fields
    fields[feature.name] =
      type === 'int64'
        ? String(seed)
        : type === 'float64'
          ? String(seed / 977)
          : ['VN', 'US', 'JP', 'web', 'ios'][seed % 5]!;
  });
  return fields;
}

async function fill(redis: Redis): Promise<void> {
  for (let first = 0; first < USERS; first += 1000) {
    const pipeline = redis.pipeline();
    for (let n = first; n < Math.min(USERS, first + 1000); n++)
      pipeline.hset(`learning:user:u${n}`, vectorOf(n));
    await pipeline.exec();
  }
}

const randomUser = () => `u${Math.floor(Math.random() * USERS)}`;

interface Workload {
  name: string;
  /** Vectors a call reads. */
  vectors: number;
  /** One call through the server. */
  http(agent: Agent, port: number): Promise<void>;
  /** The same reads straight from Redis. */
  floor(redis: Redis): Promise<void>;
}

function httpCall(agent: Agent, port: number, method: string, path: string, body?: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const call = request(
      {
        agent,
        host: '127.0.0.1',
        port,
        method,
        path,
        headers: body ? { 'content-type': 'application/json' } : {},
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => {
          if (response.statusCode !== 200)
            reject(
              new Error(`${method} ${path}: ${response.statusCode} ${Buffer.concat(chunks).toString()}`),
            );
          else {
            JSON.parse(Buffer.concat(chunks).toString());
            resolve();
          }
        });
      },
    );
    call.on('error', reject);
    call.end(body);
  });
}

/** What the server asks Redis for `ids`: every field (HGETALL), or the chosen ones (HMGET). */
const read = (redis: Redis, ids: string[], fields?: string[]) => {
  const pipeline = redis.pipeline();
  for (const id of ids)
    if (fields) pipeline.hmget(`learning:user:${id}`, '_as_of', ...fields);
    else pipeline.call('HGETALL', `learning:user:${id}`);
  return pipeline.exec();
};

const batch = (size: number) => Array.from({ length: size }, randomUser);
const workloads: Workload[] = [
  {
    name: 'one user, 67 features (GET)',
    vectors: 1,
    http: (agent, port) => httpCall(agent, port, 'GET', `/v1/packs/learning/user/${randomUser()}`),
    floor: (redis) => read(redis, [randomUser()]).then(() => undefined),
  },
  {
    name: 'one user, 5 features (GET)',
    vectors: 1,
    http: (agent, port) =>
      httpCall(agent, port, 'GET', `/v1/packs/learning/user/${randomUser()}?features=${FEW.join(',')}`),
    floor: (redis) => read(redis, [randomUser()], FEW).then(() => undefined),
  },
  {
    name: '100 users, 67 features (POST)',
    vectors: 100,
    http: (agent, port) =>
      httpCall(
        agent,
        port,
        'POST',
        '/v1/packs/learning/online-features',
        JSON.stringify({ ids: batch(100) }),
      ),
    floor: (redis) => read(redis, batch(100)).then(() => undefined),
  },
];

interface Result {
  calls: number;
  seconds: number;
  latencies: number[];
  serverCpu?: number;
  redisCpu: number;
}

/** `call` kept CONCURRENCY deep for SECONDS. */
async function load(call: () => Promise<void>): Promise<Omit<Result, 'serverCpu' | 'redisCpu'>> {
  const latencies: number[] = [];
  const started = performance.now();
  const until = started + SECONDS * 1000;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (performance.now() < until) {
        const at = performance.now();
        await call();
        latencies.push(performance.now() - at);
      }
    }),
  );
  return { calls: latencies.length, seconds: (performance.now() - started) / 1000, latencies };
}

const root = await mkdtemp(join(tmpdir(), 'tributary-bench-feature-server-'));
const redisServer = await startRedis({ dataDir: root });
const redis = new Redis(redisServer.port, '127.0.0.1');
const port = await findFreePort();
// `BENCH_PROFILE_DIR=DIR`: a V8 CPU profile of the server, written when it stops.
const profile = process.env.BENCH_PROFILE_DIR
  ? ['--cpu-prof', '--cpu-prof-dir', process.env.BENCH_PROFILE_DIR]
  : [];
const server = spawn(
  process.execPath,
  [...profile, CLI, 'features', 'serve', '--from', redisServer.url, '--port', String(port)],
  {
    stdio: ['ignore', 'pipe', 'inherit'],
  },
);
// Listening (its first line) or gone: watched from the start, so an early exit is never missed.
const listening = new Promise<void>((resolve, reject) => {
  server.stdout.once('data', () => resolve());
  server.once('exit', (code) => reject(new Error(`features serve exited with ${code}`)));
});
// Handled here too: an exit during the fill is reported where `listening` is awaited, not as unhandled.
listening.catch(() => undefined);
const serverExited = new Promise((resolve) => server.once('exit', resolve));
const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
try {
  console.error(`writing ${USERS.toLocaleString('en-US')} vectors…`);
  await fill(redis);
  await listening;
  const serverPid = server.pid as number;
  console.log(
    `bench:feature-server: ${USERS.toLocaleString('en-US')} users × ${FEATURES.length} features, ${CONCURRENCY} requests in flight, ${SECONDS} s a run, load ${loadavg()[0]?.toFixed(1)}`,
  );
  for (const workload of workloads) {
    // Warm both paths (connections, JIT) before timing.
    await load(() => workload.floor(redis));
    await load(() => workload.http(agent, port));
    const runs: { label: string; result: Result }[] = [];
    for (const label of ['floor', 'server', 'server', 'floor']) {
      const redisBefore = await redisCpu(redisServer.url);
      const cpuBefore = processTreeCpuSeconds(serverPid);
      const result = await load(() =>
        label === 'floor' ? workload.floor(redis) : workload.http(agent, port),
      );
      const redisSeconds = (await redisCpu(redisServer.url)) - redisBefore;
      runs.push({
        label,
        result: {
          ...result,
          redisCpu: redisSeconds,
          ...(label === 'server' ? { serverCpu: processTreeCpuSeconds(serverPid) - cpuBefore } : {}),
        },
      });
    }
    console.log(`  ${workload.name}`);
    for (const { label, result } of runs) {
      const rate = result.calls / result.seconds;
      const perThousand = (seconds: number) =>
        ((seconds / (result.calls * workload.vectors)) * 1e6).toFixed(1);
      const cpu = `, Redis ${perThousand(result.redisCpu)}${result.serverCpu === undefined ? '' : `, server ${perThousand(result.serverCpu)}`} CPU-ms / 1,000 vectors`;
      console.log(
        `    ${label.padEnd(7)} ${Math.round(rate).toLocaleString('en-US').padStart(7)} calls/s, ${Math.round(
          rate * workload.vectors,
        )
          .toLocaleString('en-US')
          .padStart(
            8,
          )} vectors/s, p50 ${percentile(result.latencies, 0.5).toFixed(2)} ms, p99 ${percentile(result.latencies, 0.99).toFixed(2)} ms${cpu}`,
      );
    }
    const rateOf = (label: string) =>
      runs
        .filter((run) => run.label === label)
        .reduce((sum, run) => sum + run.result.calls / run.result.seconds, 0);
    const p99Of = (label: string) =>
      runs
        .filter((run) => run.label === label)
        .reduce((sum, run) => sum + percentile(run.result.latencies, 0.99), 0);
    console.log(
      `    server ÷ floor: throughput ${(rateOf('server') / rateOf('floor')).toFixed(2)}, p99 ${(p99Of('server') / p99Of('floor')).toFixed(2)}×`,
    );
  }
} finally {
  agent.destroy();
  server.kill('SIGTERM');
  await serverExited;
  redis.disconnect();
  await redisServer.stop();
  await rm(root, { recursive: true, force: true });
}
