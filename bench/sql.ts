// SQL endpoint benchmark, in one run: small parameterised mart queries through the endpoint (HTTP,
// a read-only analyst, keep-alive) against the same queries on an engine session in this process
// (p50/p95, and the milliseconds the endpoint adds); then a large export of mart_daily_user_metrics
// in Native and Parquet through the endpoint (curl, another process, as the client) against the
// same export in process, with the serving process's RSS sampled during each export; and the
// transport's floor: a bare Node HTTP server in this process writing the same bytes to curl.
// BENCH_SQL_ROWS (or --rows N) sets the export's size; the full scale is 10M rows.
import { execFile } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startSqlEndpoint } from '../sql/index.ts';
import { migrate, openEngineSession, openWarehouse } from '../warehouse/index.ts';
import { rssByTenth } from './child.ts';

const flag = process.argv.indexOf('--rows');
const ROWS = Number(flag >= 0 ? process.argv[flag + 1] : (process.env.BENCH_SQL_ROWS ?? 10_000_000));
const ITERATIONS = Number(process.env.BENCH_SQL_ITERATIONS ?? 200);
const DAYS = 90;
const USERS = Math.max(1000, Math.round(ROWS / DAYS));
const run = promisify(execFile);

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

/** Seconds curl takes to download `url` to /dev/null, and the bytes it got. */
async function download(url: string): Promise<{ seconds: number; bytes: number }> {
  const started = performance.now();
  const { stdout } = await run('curl', ['-sS', '-o', '/dev/null', '-w', '%{size_download}', url]);
  return { seconds: (performance.now() - started) / 1000, bytes: Number(stdout) };
}

/**
 * The transport alone: a bare HTTP server in this process sending `bytes` in 1 MiB chunks (one
 * buffer, written again and again, honouring back-pressure) to curl. No engine, no formatting.
 */
async function bareServerSeconds(bytes: number): Promise<number> {
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
    return (await download(`http://127.0.0.1:${port}/`)).seconds;
  } finally {
    server.close();
  }
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? 0;
}

async function main(): Promise<void> {
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
        const started = performance.now();
        let localBytes = 0;
        if (format === 'Native')
          for await (const chunk of inProcess.stream(sql, {}, format)) localBytes += chunk.bytes.length;
        else localBytes = (await inProcess.run(sql, {}, format)).bytes.length;
        const localSeconds = (performance.now() - started) / 1000;

        const url = new URL(endpoint.url);
        url.searchParams.set('query', `${sql} FORMAT ${format}`);
        const samples: number[] = [];
        const sampler = setInterval(() => samples.push(process.memoryUsage().rss / 1e6), 50);
        const rssBefore = process.memoryUsage().rss / 1e6;
        const remote = await download(url.toString());
        const remoteSeconds = remote.seconds;
        clearInterval(sampler);
        const floorSeconds = await bareServerSeconds(remote.bytes);
        exports.push({
          format,
          rows: ROWS,
          inProcessRowsPerS: Math.round(ROWS / localSeconds),
          endpointRowsPerS: Math.round(ROWS / remoteSeconds),
          ratio: Number((localSeconds / remoteSeconds).toFixed(3)),
          inProcessBytes: localBytes,
          endpointBytes: remote.bytes,
          bareServerRowsPerS: Math.round(ROWS / floorSeconds),
          endpointOfBare: Number((floorSeconds / remoteSeconds).toFixed(3)),
          serverRssBeforeMb: Math.round(rssBefore),
          serverRssByTenthMb: rssByTenth(samples).map(Math.round),
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
    await warehouse.close();
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
