// The SQL endpoint against real HTTP requests, in the process that holds the warehouse (as the
// service runs it): every output format decoded by a real reader, bound parameters of the marts'
// types, gzip, ClickHouse's errors and statuses, cancellation, concurrency while the pipeline
// writes, a large result with bounded memory, and users' access and limits.
import { request as httpRequest } from 'node:http';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { tableFromIPC } from 'apache-arrow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scratchDir } from '../test/scratch.ts';
import { migrate, openEngineSession, openWarehouse, type Warehouse } from '../warehouse/index.ts';
import { hashPassword, startSqlEndpoint, type SqlEndpoint } from './index.ts';

let dir: string;
let warehouse: Warehouse;
let endpoint: SqlEndpoint;

const USERS = [
  { name: 'analyst', password_sha256_hex: hashPassword('analyst-pw') },
  { name: 'writer', password_sha256_hex: hashPassword('writer-pw'), readonly: false },
  { name: 'dashboards', password_sha256_hex: hashPassword('dashboards-pw'), bookkeeping: true },
  {
    name: 'limited',
    password_sha256_hex: hashPassword('limited-pw'),
    limits: { max_result_rows: 10, max_execution_time: 1, max_memory_usage: 64_000_000 },
  },
];
const PASSWORDS: Record<string, string> = {
  analyst: 'analyst-pw',
  writer: 'writer-pw',
  dashboards: 'dashboards-pw',
  limited: 'limited-pw',
};

// The column types the marts and facts use.
const PROBE_DDL = `CREATE TABLE probe (
  id UInt64, pack LowCardinality(String), name String, day Date, ts DateTime64(3, 'UTC'),
  delta Int64, rate Float64, maybe Nullable(Float64), flag UInt8, tags Array(String)
) ENGINE = MergeTree ORDER BY id`;
const PROBE_ROWS = [
  {
    id: '1',
    pack: 'learning',
    name: "it's \\ a\ttab",
    day: '2026-01-02',
    ts: '2026-01-02 03:04:05.678',
    delta: '-5',
    rate: 0.25,
    maybe: null,
    flag: 1,
    tags: ['a', 'b'],
  },
  {
    id: '2',
    pack: 'learning',
    name: 'Tiếng Việt',
    day: '2026-01-03',
    ts: '2026-01-03 00:00:00.000',
    delta: '9007199254740993',
    rate: 1,
    maybe: 0.5,
    flag: 0,
    tags: [],
  },
  {
    id: '3',
    pack: 'other',
    name: '',
    day: '2026-02-01',
    ts: '2026-02-01 23:59:59.999',
    delta: '0',
    rate: 0,
    maybe: 2.5,
    flag: 1,
    tags: ['x'],
  },
];

beforeAll(async () => {
  dir = await scratchDir('sql-endpoint');
  warehouse = await openWarehouse({ kind: 'chdb', path: join(dir, 'warehouse') });
  await migrate(warehouse);
  await warehouse.command(PROBE_DDL);
  await warehouse.insert('probe', PROBE_ROWS);
  endpoint = await startSqlEndpoint({ warehouse, port: 0, users: USERS, sessionsPerUser: 2 });
}, 120_000);
afterAll(async () => {
  await endpoint?.close();
  await warehouse?.close();
});

interface Reply {
  status: number;
  headers: Headers;
  body: Buffer;
  text: string;
}

async function ask(
  sql: string,
  options: {
    user?: string;
    params?: Record<string, string>;
    method?: 'GET' | 'POST';
    headers?: Record<string, string>;
    body?: string;
  } = {},
): Promise<Reply> {
  const user = options.user ?? 'analyst';
  const url = new URL(endpoint.url);
  for (const [name, value] of Object.entries(options.params ?? {})) url.searchParams.set(name, value);
  const method = options.method ?? 'POST';
  if (method === 'GET' || options.body !== undefined) url.searchParams.set('query', sql);
  const response = await fetch(url, {
    method,
    headers: {
      Authorization: `Basic ${Buffer.from(`${user}:${PASSWORDS[user] ?? ''}`).toString('base64')}`,
      ...options.headers,
    },
    body: method === 'GET' ? undefined : (options.body ?? sql),
  });
  const body = Buffer.from(await response.arrayBuffer());
  return { status: response.status, headers: response.headers, body, text: body.toString('utf8') };
}

const FORMATS = [
  'JSON',
  'JSONEachRow',
  'JSONCompact',
  'TabSeparatedWithNamesAndTypes',
  'CSVWithNames',
  'RowBinaryWithNamesAndTypes',
  'Native',
  'Parquet',
  'Arrow',
];

async function spill(bytes: Buffer, format: string): Promise<string> {
  const file = join(dir, `decode-${Math.random().toString(36).slice(2)}.${format}`);
  await writeFile(file, bytes);
  return file;
}

/** Reads bytes in a binary format back with the engine's own reader. */
async function decodeWithEngine(bytes: Buffer, format: string): Promise<Record<string, unknown>[]> {
  const file = await spill(bytes, format);
  return warehouse.query(`SELECT * FROM file({file:String}, {format:String}) ORDER BY id`, { file, format });
}

const expected = async () => warehouse.query<Record<string, unknown>>('SELECT * FROM probe ORDER BY id');

describe('protocol', () => {
  it('answers /ping and /replicas_status with Ok.', async () => {
    for (const path of ['/ping', '/replicas_status']) {
      const response = await fetch(`${endpoint.url}${path}`);
      expect(response.status).toBe(200);
      expect(await response.text()).toBe('Ok.\n');
    }
  });

  it('returns every listed format, each decoded by a real reader', async () => {
    const want = await expected();
    const select = 'SELECT * FROM probe ORDER BY id';
    const json = await ask(`${select} FORMAT JSON`);
    expect(json.headers.get('x-clickhouse-format')).toBe('JSON');
    expect(JSON.parse(json.text).data).toEqual(
      want.map((row) => ({ ...row, id: Number(row.id), delta: Number(row.delta) })),
    );
    // default_format applies when the statement names none.
    const eachRow = await ask(select, {
      params: { default_format: 'JSONEachRow', output_format_json_quote_64bit_integers: '1' },
    });
    expect(eachRow.headers.get('x-clickhouse-format')).toBe('JSONEachRow');
    expect(
      eachRow.text
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as unknown),
    ).toEqual(want);
    const compact = JSON.parse((await ask(`${select} FORMAT JSONCompact`)).text) as {
      meta: { name: string }[];
      data: unknown[][];
    };
    expect(compact.meta.map((column) => column.name)).toEqual(Object.keys(want[0]!));
    expect(compact.data.map((row) => row[2])).toEqual(want.map((row) => row.name));

    const tsv = (
      await ask(`SELECT id, name, day FROM probe ORDER BY id FORMAT TabSeparatedWithNamesAndTypes`)
    ).text.split('\n');
    expect(tsv.slice(0, 2)).toEqual(['id\tname\tday', 'UInt64\tString\tDate']);
    expect(tsv[2]).toBe("1\tit\\'s \\\\ a\\ttab\t2026-01-02");
    const csv = await ask(`SELECT id, pack, day FROM probe ORDER BY id FORMAT CSVWithNames`);
    expect(csv.headers.get('content-type')).toContain('text/csv');
    expect(csv.text).toBe(
      '"id","pack","day"\n1,"learning","2026-01-02"\n2,"learning","2026-01-03"\n3,"other","2026-02-01"\n',
    );

    for (const format of ['RowBinaryWithNamesAndTypes', 'Native', 'Parquet']) {
      const reply = await ask(`${select} FORMAT ${format}`);
      expect(reply.status, reply.text).toBe(200);
      expect(reply.headers.get('content-type')).toBe('application/octet-stream');
      const rows = await decodeWithEngine(reply.body, format);
      expect(
        rows.map((row) => row.name),
        format,
      ).toEqual(want.map((row) => row.name));
      expect(
        rows.map((row) => row.delta),
        format,
      ).toEqual(want.map((row) => row.delta));
      expect(
        rows.map((row) => row.tags),
        format,
      ).toEqual(want.map((row) => row.tags));
    }
    // apache-arrow reads uncompressed batches; the engine compresses with LZ4 unless told otherwise.
    const arrowReply = await ask(`${select} FORMAT Arrow`, {
      params: { output_format_arrow_compression_method: 'none' },
    });
    expect(arrowReply.headers.get('x-clickhouse-format')).toBe('Arrow');
    const arrow = tableFromIPC(arrowReply.body);
    expect(arrow.numRows).toBe(3);
    expect(arrow.getChild('name')!.toArray().map(String)).toEqual(want.map((row) => row.name));
    expect(Array.from(arrow.getChild('delta')!.toArray() as BigInt64Array, String)).toEqual(
      want.map((row) => row.delta),
    );
  });

  it('sends results of many chunks whole in every format (headers once, footers once)', async () => {
    const sql = 'SELECT number, toString(number) AS s FROM numbers(200000)';
    const settings = {
      max_block_size: '10000',
      output_format_arrow_compression_method: 'none',
      output_format_json_quote_64bit_integers: '1',
    };
    const withoutStatistics = (bytes: Buffer) => bytes.toString('utf8').replace(/"statistics":[\s\S]*$/, '');
    for (const format of FORMATS) {
      const reply = await ask(`${sql} FORMAT ${format}`, { params: settings });
      expect(reply.status, format).toBe(200);
      if (format === 'Parquet') {
        const [summary] = await warehouse.query<{ n: string; total: string }>(
          'SELECT count() AS n, sum(number) AS total FROM file({file:String}, Parquet)',
          { file: await spill(reply.body, format) },
        );
        expect(summary).toEqual({ n: '200000', total: String((199999 * 200000) / 2) });
      } else if (format === 'Arrow') {
        expect(tableFromIPC(reply.body).numRows).toBe(200000);
      } else {
        const direct = await warehouse.queryBytes(
          `${sql} SETTINGS max_block_size = 10000, output_format_json_quote_64bit_integers = 1`,
          format,
        );
        expect(withoutStatistics(reply.body) === withoutStatistics(direct), format).toBe(true);
      }
    }
  });

  it('binds parameters of the marts types, never splicing them', async () => {
    const reply = await ask(
      `SELECT id FROM probe WHERE name = {name:String} AND pack = {pack:LowCardinality(String)}
         AND day = {day:Date} AND ts = {ts:DateTime64(3, 'UTC')} AND delta = {delta:Int64}
         AND rate = {rate:Float64} AND maybe IS NOT DISTINCT FROM {maybe:Nullable(Float64)}
         AND flag = {flag:UInt8} AND tags = {tags:Array(String)} AND id = {id:UInt64}`,
      {
        params: {
          // ClickHouse's escaped text format, as clients send it.
          param_name: "it\\'s \\\\ a\\ttab",
          param_pack: 'learning',
          param_day: '2026-01-02',
          param_ts: '2026-01-02 03:04:05.678',
          param_delta: '-5',
          param_rate: '0.25',
          param_maybe: '\\N',
          param_flag: '1',
          param_tags: "['a','b']",
          param_id: '1',
        },
      },
    );
    expect(reply.text).toBe('1\n');
    const injection = "x' OR 1 = 1 --";
    const literal = await ask('SELECT {s:String} AS s, count() FROM probe WHERE name = {s:String}', {
      params: { param_s: injection },
    });
    expect(literal.text).toBe(`x\\' OR 1 = 1 --\t0\n`);
    const missing = await ask('SELECT {s:String}');
    expect([missing.status, missing.headers.get('x-clickhouse-exception-code')]).toEqual([400, '456']);
  });

  it('compresses with gzip when asked', async () => {
    const sql = 'SELECT number, toString(number) FROM numbers(20000)';
    const plain = await ask(sql);
    const url = new URL(endpoint.url);
    url.searchParams.set('query', sql);
    url.searchParams.set('enable_http_compression', '1');
    const { headers, body } = await new Promise<{ headers: Record<string, unknown>; body: Buffer }>(
      (resolve, reject) => {
        const req = httpRequest(
          url,
          {
            headers: {
              'Accept-Encoding': 'gzip',
              Authorization: `Basic ${Buffer.from('analyst:analyst-pw').toString('base64')}`,
            },
          },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (chunk: Buffer) => chunks.push(chunk));
            res.on('end', () => resolve({ headers: res.headers, body: Buffer.concat(chunks) }));
          },
        );
        req.on('error', reject);
        req.end();
      },
    );
    expect(headers['content-encoding']).toBe('gzip');
    expect(body.length).toBeLessThan(plain.body.length / 2);
    expect(gunzipSync(body).equals(plain.body)).toBe(true);
  });

  it("reports errors with ClickHouse's code, text and status", async () => {
    const cases: Array<[string, number, number]> = [
      ['SELEC 1', 62, 400],
      ['SELECT * FROM no_such_table', 60, 404],
      ["SELECT 1 + 'a'", 43, 400],
      ["SELECT CAST('x' AS UInt8)", 6, 400],
      ['SELECT 1; SELECT 2', 62, 400],
    ];
    for (const [sql, code, status] of cases) {
      const reply = await ask(sql, { user: 'writer' });
      expect([reply.status, reply.headers.get('x-clickhouse-exception-code')], sql).toEqual([
        status,
        String(code),
      ]);
      expect(reply.text, sql).toMatch(new RegExp(`^Code: ${code}\\. DB::Exception: .+\\(\\w+\\)`));
    }
    const typed = await ask('SELECT {n:UInt8}', { params: { param_n: 'abc' } });
    expect(typed.status).toBe(400);
    expect(typed.text).toMatch(/^Code: \d+\. DB::Exception:/);
  });

  it('echoes query_id and reports a summary', async () => {
    const reply = await ask('SELECT number FROM numbers(5)', { params: { query_id: 'my-query-1' } });
    expect(reply.headers.get('x-clickhouse-query-id')).toBe('my-query-1');
    expect(JSON.parse(reply.headers.get('x-clickhouse-summary')!)).toMatchObject({ result_rows: '5' });
  });

  it('answers a small result in one call and streams a large one, which leaves nothing behind', async () => {
    const large = 'SELECT number FROM numbers(200000)';
    const expected = Array.from({ length: 200000 }, (_, i) => `${i}\n`).join('');
    for (let round = 0; round < 2; round++) {
      // Past the one-call limit (the first time found so, the second time remembered), then small.
      const reply = await ask(large);
      expect([reply.status, reply.text.length, reply.text === expected]).toEqual([
        200,
        expected.length,
        true,
      ]);
      expect((await ask('SELECT 41 + 1')).text).toBe('42\n');
    }
  });

  it('stops the query when the client goes away', async () => {
    const running = () =>
      warehouse.query<{ n: string }>(
        `SELECT count() AS n FROM system.processes WHERE query LIKE '%cancel_me%' AND query NOT LIKE '%system.processes%'`,
      );
    for (const sql of [
      // streaming rows: stops between chunks
      'SELECT number, sleepEachRow(0.001) AS cancel_me FROM numbers(10000000) SETTINGS max_block_size = 10',
      // an aggregate with no row before the end: killed in the engine
      'SELECT sum(sleepEachRow(0.001)) AS cancel_me FROM numbers(10000000) SETTINGS max_block_size = 10, max_threads = 1',
    ]) {
      const controller = new AbortController();
      const url = new URL(endpoint.url);
      const pending = fetch(url, {
        method: 'POST',
        body: sql,
        signal: controller.signal,
        headers: { Authorization: `Basic ${Buffer.from('writer:writer-pw').toString('base64')}` },
      }).then(async (response) => {
        // Read the first chunk (if any comes), then keep the connection open until the abort.
        await response.body!.getReader().read();
      });
      await expect.poll(async () => (await running())[0]!.n, { timeout: 5000, message: sql }).toBe('1');
      controller.abort();
      await pending.catch(() => undefined);
      await expect.poll(async () => (await running())[0]!.n, { timeout: 5000 }).toBe('0');
    }
    expect((await ask('SELECT 1', { user: 'writer' })).text).toBe('1\n');
  });

  it('serves several clients at once while the pipeline writes', async () => {
    await warehouse.command('CREATE TABLE IF NOT EXISTS busy (n UInt64) ENGINE = MergeTree ORDER BY n');
    let writing = true;
    let written = 0;
    const writer = (async () => {
      while (writing) {
        await warehouse.insert(
          'busy',
          Array.from({ length: 100 }, (_, i) => ({ n: written + i })),
        );
        written += 100;
      }
    })();
    try {
      const seen: number[][] = await Promise.all(
        ['analyst', 'analyst', 'analyst', 'writer', 'writer', 'limited'].map(async (user, index) => {
          const counts: number[] = [];
          for (let round = 0; round < 5; round++) {
            const reply = await ask(`SELECT count() FROM numbers(${1000 + index}) WHERE number % 2 = 0`, {
              user,
            });
            expect(reply.text).toBe(`${Math.ceil((1000 + index) / 2)}\n`);
            counts.push(Number((await ask('SELECT count() FROM busy', { user })).text));
          }
          return counts;
        }),
      );
      // Each insert is one block: a reader sees whole batches, and never fewer rows than before.
      for (const counts of seen) {
        expect(counts.every((count) => count % 100 === 0)).toBe(true);
        expect([...counts].sort((a, b) => a - b)).toEqual(counts);
      }
    } finally {
      writing = false;
      await writer;
    }
    expect(written).toBeGreaterThan(0);
  });

  it('streams a large result with bounded memory', async () => {
    const exportRows = async (rows: number) => {
      const url = new URL(endpoint.url);
      url.searchParams.set(
        'query',
        `SELECT number, repeat('x', 100) AS pad FROM numbers(${rows}) FORMAT Native`,
      );
      const response = await fetch(url, {
        headers: { Authorization: `Basic ${Buffer.from('writer:writer-pw').toString('base64')}` },
      });
      let bytes = 0;
      for await (const chunk of response.body!) bytes += (chunk as Uint8Array).length;
      return bytes;
    };
    // The first result grows the engine's and the allocator's pools once; what counts is after.
    await exportRows(500_000);
    const before = process.memoryUsage().rss;
    let peak = before;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
    const rows = 3_000_000;
    const bytes = await exportRows(rows).finally(() => clearInterval(sampler));
    expect(bytes).toBeGreaterThan(rows * 108);
    // Over 300 MB went through; the process (endpoint, engine and client) grew by a few chunks.
    expect(peak - before).toBeLessThan(100 * 1024 * 1024);
  });
});

describe('access', () => {
  it('refuses a wrong password with 401 and takes the X-ClickHouse-User/Key headers', async () => {
    const wrong = await fetch(`${endpoint.url}/?query=SELECT%201`, {
      headers: { Authorization: `Basic ${Buffer.from('analyst:nope').toString('base64')}` },
    });
    expect([wrong.status, wrong.headers.get('x-clickhouse-exception-code')]).toEqual([401, '516']);
    const unknown = await fetch(`${endpoint.url}/?query=SELECT%201`, {
      headers: { 'X-ClickHouse-User': 'nobody', 'X-ClickHouse-Key': 'x' },
    });
    expect(unknown.status).toBe(401);
    const anonymous = await fetch(`${endpoint.url}/?query=SELECT%201`);
    expect(anonymous.status).toBe(401);
    const byHeader = await fetch(`${endpoint.url}/?query=SELECT%20currentDatabase()`, {
      headers: { 'X-ClickHouse-User': 'analyst', 'X-ClickHouse-Key': 'analyst-pw' },
    });
    expect(await byHeader.text()).toBe('analytics\n');
  });

  it('keeps read-only users from writing, lifting limits or reading the bookkeeping', async () => {
    const refused: Array<[string, number, Record<string, string>?]> = [
      ['INSERT INTO probe (id) VALUES (9)', 164],
      ['DROP TABLE probe', 164],
      ['ALTER TABLE probe DELETE WHERE 1', 164],
      ['CREATE TABLE t (x UInt8) ENGINE = Memory', 164],
      ['TRUNCATE TABLE probe', 164],
      ['SET readonly = 0', 164],
      ['SELECT 1', 164, { readonly: '0' }],
      ['KILL QUERY WHERE 1', 164],
      ['SYSTEM DROP MARK CACHE', 164],
      ['SELECT count() FROM probe SETTINGS max_result_rows = 0', 164],
      ['SELECT * FROM tributary.checkpoints', 497],
      ['SELECT * FROM `tributary`.`migrations` AS m', 497],
      ['SELECT count() FROM probe WHERE id IN (SELECT pipeline FROM tributary.checkpoints)', 497],
      ['SELECT * FROM view(SELECT * FROM tributary.dead_letters)', 497],
      ['SHOW TABLES FROM tributary', 497],
      ['SHOW CREATE TABLE tributary.checkpoints', 497],
      ['SHOW COLUMNS FROM checkpoints FROM tributary', 497],
      ['DESCRIBE TABLE tributary.checkpoints', 497],
      ['EXISTS TABLE tributary.checkpoints', 497],
      ['SELECT count() FROM checkpoints', 497, { database: 'tributary' }],
      ["SELECT * FROM merge('tributary', '.*')", 497],
      ["SELECT * FROM file('/etc/hostname', 'LineAsString')", 497],
      ["SELECT * FROM url('http://127.0.0.1:1/', 'CSV', 'x String')", 497],
      ["SELECT * FROM merge('default', '^_tributary')", 497],
      ["SELECT 1 INTO OUTFILE '/tmp/x.csv'", 497],
      ['SELECT 1', 164, { allow_ddl: '1' }],
    ];
    for (const [sql, code, params] of refused) {
      const reply = await ask(sql, { params });
      expect([reply.status, reply.headers.get('x-clickhouse-exception-code')], sql).toEqual([
        403,
        String(code),
      ]);
    }
    expect((await ask('SELECT count() FROM probe')).text).toBe('3\n');
    // The bookkeeping is granted per user: a dashboards user reads its health from it.
    const granted = await ask('SELECT count() > 0 FROM tributary.migrations', { user: 'dashboards' });
    expect([granted.status, granted.text]).toEqual([200, '1\n']);
    // A read-write user may write, but not with GET (it implies readonly, as on a server).
    expect(
      (
        await ask('CREATE TABLE IF NOT EXISTS scratch_t (x UInt8) ENGINE = Memory', {
          user: 'writer',
          method: 'GET',
        })
      ).status,
    ).toBe(403);
    expect(
      (await ask('CREATE TABLE IF NOT EXISTS scratch_t (x UInt8) ENGINE = Memory', { user: 'writer' }))
        .status,
    ).toBe(200);
  });

  it("enforces each user's limits, which settings may lower but not lift", async () => {
    const tooMany = await ask('SELECT number FROM numbers(11)', { user: 'limited' });
    expect(tooMany.headers.get('x-clickhouse-exception-code')).toBe('396');
    expect((await ask('SELECT number FROM numbers(10)', { user: 'limited' })).status).toBe(200);
    const lowered = await ask('SELECT number FROM numbers(6)', {
      user: 'limited',
      params: { max_result_rows: '5' },
    });
    expect(lowered.headers.get('x-clickhouse-exception-code')).toBe('396');
    for (const [name, value] of [
      ['max_result_rows', '0'],
      ['max_result_rows', '11'],
      ['max_execution_time', '100'],
      ['max_memory_usage', '0'],
    ]) {
      const lifted = await ask('SELECT 1', { user: 'limited', params: { [name!]: value! } });
      expect([lifted.status, lifted.headers.get('x-clickhouse-exception-code')], name).toEqual([403, '452']);
    }
    const slow = await ask('SELECT count() FROM numbers(100000000000)', { user: 'limited' });
    expect(slow.headers.get('x-clickhouse-exception-code')).toBe('159');
    // One allocation past the limit at once: on a busy machine a gradual one meets the time limit first.
    const greedy = await ask('SELECT length(range(20000000))', { user: 'limited' });
    expect(greedy.headers.get('x-clickhouse-exception-code')).toBe('241');
  });

  it('accepts INSERT data in the body after a query in the URL, with its settings', async () => {
    await ask(
      'CREATE TABLE IF NOT EXISTS landed (k UInt32, v String) ENGINE = MergeTree ORDER BY k SETTINGS non_replicated_deduplication_window = 100',
      {
        user: 'writer',
      },
    );
    for (let attempt = 0; attempt < 2; attempt++) {
      const reply = await ask('INSERT INTO landed (k, v) FORMAT JSONEachRow', {
        user: 'writer',
        params: { insert_deduplication_token: 'batch-1' },
        body: '{"k":1,"v":"a"}\n{"k":2,"v":"b"}\n',
      });
      expect(reply.status, reply.text).toBe(200);
    }
    expect((await ask('SELECT count() FROM landed', { user: 'writer' })).text).toBe('2\n');
  });

  it('is enforced by the engine: a readonly session refuses writes itself', async () => {
    const session = await openEngineSession(join(dir, 'warehouse'), ['SET readonly = 2']);
    try {
      for (const sql of [
        'INSERT INTO probe (id) VALUES (9)',
        'DROP TABLE probe',
        'ALTER TABLE probe DELETE WHERE 1',
        'CREATE TABLE t2 (x UInt8) ENGINE = Memory',
        'SET readonly = 0',
      ]) {
        await expect(session.run(sql, {}, 'TSV'), sql).rejects.toMatchObject({ code: 164 });
      }
    } finally {
      session.close();
    }
  });

  it('listens beyond 127.0.0.1 only when every user has a password', async () => {
    await expect(startSqlEndpoint({ warehouse, host: '0.0.0.0', port: 0 })).rejects.toThrow(
      /refusing to listen on 0\.0\.0\.0/,
    );
    await expect(
      startSqlEndpoint({ warehouse, host: '0.0.0.0', port: 0, users: [{ name: 'open' }] }),
    ).rejects.toThrow(/every user needs a password/);
  });
});
