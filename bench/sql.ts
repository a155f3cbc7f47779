// SQL endpoint benchmark, in one run: small parameterised mart queries through the endpoint (HTTP,
// a read-only analyst, keep-alive) against the same queries on an engine session in this process
// (p50/p95, and the milliseconds the endpoint adds); then a large export of mart_daily_user_metrics
// in Native and Parquet through the endpoint (curl, another process, as the client) against the
// same export in process (after an untimed one, in alternating rounds: the median of the rounds'
// ratios), with the serving process's RSS sampled during the first; and the transport's floor: a
// bare Node HTTP server in this process writing the same bytes to curl. BENCH_SQL_ROWS (or
// --rows N) sets the export's size (the full scale is 10M rows), BENCH_SQL_EXPORT_ROUNDS the rounds.
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { startSqlEndpoint } from '../sql/index.ts';
import { migrate, openEngineSession, openWarehouse } from '../warehouse/index.ts';
import { rssByTenth } from './child.ts';

const flag = process.argv.indexOf('--rows');
const ROWS = Number(flag >= 0 ? process.argv[flag + 1] : (process.env.BENCH_SQL_ROWS ?? 10_000_000));
const ITERATIONS = Number(process.env.BENCH_SQL_ITERATIONS ?? 200);
/** Timed exports per format and side, alternating which side goes first. */
const EXPORT_ROUNDS = Number(process.env.BENCH_SQL_EXPORT_ROUNDS ?? 5);
const DAYS = 90;
const USERS = Math.max(1000, Math.round(ROWS / DAYS));

const SMALL_QUERIES: Array<{ name: string; sql: string; params: Record<string, string> }> = [
  {
    name: 'dau over a month',
    sql: 'SELECT day, dau, wau, mau, stickiness FROM mart_dau WHERE pack = {pack:String} AND day BETWEEN {from:Date} AND {to:Date} ORDER BY day',
    params: { pack: 'bench', from: '2026-08-01', to: '2026-08-31' },
  },
  {
    name: 'one day totals',
    sql: 'SELECT count() AS users, sum(events) AS events, sum(value) AS value FROM mart_daily_user_metrics WHERE pack = {pack:String} AND day = {day:Date}',
    params: { pack: 'bench', day: '2026-08-15' },
  },
  {
    name: 'one user, one week',
    sql: 'SELECT day, events, completions FROM mart_daily_user_metrics WHERE pack = {pack:String} AND day BETWEEN {from:Date} AND {to:Date} AND user_id = {user:String} ORDER BY day',
    params: { pack: 'bench', from: '2026-08-10', to: '2026-08-16', user: 'u42' },
  },
];

/**
 * curl, run by a shell started before the warehouse opens. Spawned from this process (the engine
 * mapped, hundreds of MB resident) each download cost ~25 ms of fork and copy-on-write faults,
 * paid by the serving process and counted against the endpoint; a real client is no child of it.
 */
function startClient(): { download(url: string): Promise<Download>; close(): void } {
  const shell = spawn(
    'bash',
    [
      '-c',
      'while read -r url; do out=$(curl -sS -o /dev/null -w "%{time_total} %{size_download}" "$url") && echo "$out" || echo failed; done',
    ],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
  const waiting: Array<(line: string) => void> = [];
  createInterface({ input: shell.stdout }).on('line', (line) => waiting.shift()?.(line));
  return {
    /** Seconds curl took for the request (its own `time_total`), and the bytes it got. */
    async download(url) {
      const line = await new Promise<string>((resolve) => {
        waiting.push(resolve);
        shell.stdin.write(`${url}\n`);
      });
      const [seconds, bytes] = line.split(' ').map(Number);
      if (seconds === undefined || bytes === undefined || Number.isNaN(seconds))
        throw new Error(`curl failed on ${url}`);
      return { seconds, bytes };
    },
    close: () => shell.stdin.end(),
  };
}

interface Download {
  seconds: number;
  bytes: number;
}

/**
 * The transport alone: a bare HTTP server in this process sending `bytes` in 1 MiB chunks (one
 * buffer, written again and again, honouring back-pressure) to curl. No engine, no formatting.
 */
async function bareServerSeconds(client: ReturnType<typeof startClient>, bytes: number): Promise<number> {
  const chunk = Buffer.alloc(1024 * 1024, 7);
  const server = createServer((_, response) => {
    let left = bytes;
    const pump = () => {
      while (left > 0) {
        const part = left >= chunk.length ? chunk : chunk.subarray(0, left);
        left -= part.length;
        if (!response.write(part)) return void response.once('drain', pump);
      }
      response.end();
    };
    pump();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const { port } = server.address() as AddressInfo;
    return (await client.download(`http://127.0.0.1:${port}/`)).seconds;
  } finally {
    server.close();
  }
}

/** CPU seconds of this process: the endpoint and the engine's threads, or the engine alone. */
function cpuSeconds(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1e6;
}

function median(values: number[]): number {
  return percentile(values, 50);
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? 0;
}

async function main(): Promise<void> {
  const client = startClient();
  const dir = await mkdtemp(join(tmpdir(), 'tributary-bench-sql-'));
  const warehouse = await openWarehouse({ kind: 'chdb', path: join(dir, 'warehouse') });
  try {
    await migrate(warehouse);
    console.error(`generating ${ROWS} daily user metrics rows (${USERS} users, ${DAYS} days)…`);
    await warehouse.command(`INSERT INTO mart_daily_user_metrics
      SELECT 'bench', toDate('2026-06-01') + intDiv(number, ${USERS}), concat('u', toString(number % ${USERS})),
        number % 40, number % 5, toInt64(number % 3600), number % 20, number % 3, toInt64(number % 100), number % 10, toInt64(number % 50)
      FROM numbers(${ROWS}) SETTINGS max_partitions_per_insert_block = 1000`);
    await warehouse.command(`INSERT INTO mart_dau SELECT 'bench', toDate('2026-06-01') + number,
      1000 + number, 5000 + number, 20000 + number, (1000 + number) / (20000 + number) FROM numbers(${DAYS})
      SETTINGS max_partitions_per_insert_block = 1000`);
    const endpoint = await startSqlEndpoint({ warehouse, port: 0 });
    const inProcess = await openEngineSession(join(dir, 'warehouse'));
    try {
      const small = [];
      for (const query of SMALL_QUERIES) {
        const url = new URL(endpoint.url);
        url.searchParams.set('query', query.sql);
        url.searchParams.set('default_format', 'JSONEachRow');
        for (const [name, value] of Object.entries(query.params))
          url.searchParams.set(`param_${name}`, value);
        const local: number[] = [];
        const remote: number[] = [];
        for (let i = 0; i < ITERATIONS + 10; i++) {
          // Interleaved, so both see the same machine; the first ten warm up.
          let started = performance.now();
          const direct = await inProcess.run(query.sql, query.params, 'JSONEachRow');
          const localMs = performance.now() - started;
          started = performance.now();
          const response = await fetch(url);
          const body = Buffer.from(await response.arrayBuffer());
          const remoteMs = performance.now() - started;
          if (!body.equals(direct.bytes)) throw new Error(`${query.name}: the endpoint's answer differs`);
          if (i >= 10) {
            local.push(localMs);
            remote.push(remoteMs);
          }
        }
        small.push({
          query: query.name,
          inProcessP50: percentile(local, 50),
          inProcessP95: percentile(local, 95),
          endpointP50: percentile(remote, 50),
          endpointP95: percentile(remote, 95),
          addedP50Ms: percentile(remote, 50) - percentile(local, 50),
        });
      }

      const exports = [];
      const sql = 'SELECT * FROM mart_daily_user_metrics';
      for (const format of ['Native', 'Parquet']) {
        const inProcessExport = async (): Promise<number> => {
          let bytes = 0;
          if (format === 'Native')
            for await (const chunk of inProcess.stream(sql, {}, format)) bytes += chunk.bytes.length;
          else bytes = (await inProcess.run(sql, {}, format)).bytes.length;
          return bytes;
        };
        // Untimed, so the first timed export on either side does not read a cold engine.
        await inProcessExport();
        const url = new URL(endpoint.url);
        url.searchParams.set('query', `${sql} FORMAT ${format}`);
        const rounds: Array<{
          inProcessSeconds: number;
          endpointSeconds: number;
          inProcessCpu: number;
          endpointCpu: number;
        }> = [];
        let localBytes = 0;
        let remoteBytes = 0;
        let rssBefore = 0;
        let rssSamples: number[] = [];
        for (let round = 0; round < EXPORT_ROUNDS; round++) {
          const timeInProcess = async () => {
            const cpu = cpuSeconds();
            const started = performance.now();
            localBytes = await inProcessExport();
            return {
              inProcessSeconds: (performance.now() - started) / 1000,
              inProcessCpu: cpuSeconds() - cpu,
            };
          };
          const timeEndpoint = async () => {
            const samples: number[] = [];
            const cpu = cpuSeconds();
            const before = process.memoryUsage().rss / 1e6;
            const sampler = setInterval(() => samples.push(process.memoryUsage().rss / 1e6), 50);
            const remote = await client.download(url.toString()).finally(() => clearInterval(sampler));
            remoteBytes = remote.bytes;
            // The first round's export (the statement new to the endpoint) is the one shown.
            if (round === 0) [rssBefore, rssSamples] = [before, samples];
            return { endpointSeconds: remote.seconds, endpointCpu: cpuSeconds() - cpu };
          };
          // Alternating which side goes first, so neither always follows the other's work.
          if (round % 2 === 0) {
            const inProcess = await timeInProcess();
            rounds.push({ ...inProcess, ...(await timeEndpoint()) });
          } else {
            const endpoint = await timeEndpoint();
            rounds.push({ ...(await timeInProcess()), ...endpoint });
          }
        }
        const ratios = rounds.map((r) => r.inProcessSeconds / r.endpointSeconds);
        const cpuRatios = rounds.map((r) => r.inProcessCpu / r.endpointCpu);
        const floorSeconds = await bareServerSeconds(client, remoteBytes);
        const endpointSeconds = median(rounds.map((r) => r.endpointSeconds));
        exports.push({
          format,
          rows: ROWS,
          inProcessRowsPerS: Math.round(ROWS / median(rounds.map((r) => r.inProcessSeconds))),
          endpointRowsPerS: Math.round(ROWS / endpointSeconds),
          ratio: Number(median(ratios).toFixed(3)),
          roundRatios: ratios.map((ratio) => ratio.toFixed(2)).join(' '),
          inProcessCpuMs: Math.round(median(rounds.map((r) => r.inProcessCpu)) * 1000),
          endpointCpuMs: Math.round(median(rounds.map((r) => r.endpointCpu)) * 1000),
          cpuRatio: Number(median(cpuRatios).toFixed(3)),
          inProcessBytes: localBytes,
          endpointBytes: remoteBytes,
          bareServerRowsPerS: Math.round(ROWS / floorSeconds),
          endpointOfBare: Number((floorSeconds / endpointSeconds).toFixed(3)),
          serverRssBeforeMb: Math.round(rssBefore),
          serverRssByTenthMb: rssByTenth(rssSamples).map(Math.round),
        });
      }
      console.table(
        small.map((row) =>
          Object.fromEntries(
            Object.entries(row).map(([k, v]) => [k, typeof v === 'number' ? v.toFixed(2) : v]),
          ),
        ),
      );
      console.table(
        exports.map(({ serverRssByTenthMb, ...row }) => ({
          ...row,
          serverRssByTenthMb: serverRssByTenthMb.join(' '),
        })),
      );
      console.log(JSON.stringify({ rows: ROWS, iterations: ITERATIONS, small, exports }));
    } finally {
      inProcess.close();
      await endpoint.close();
    }
  } finally {
    client.close();
    await warehouse.close();
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
