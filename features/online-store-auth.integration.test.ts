// The online store behind the protections a production Redis has: a password (requirepass), an ACL
// user, and TLS (rediss://) with a certificate from a private CA. Private redis-servers (Debian's)
// on free ports; the certificate is made by openssl for the run. Secrets never show in errors and
// never reach the warehouse.
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { learningFeatures } from '../packs/learning/features.ts';
import { learningPack } from '../packs/learning/index.ts';
import {
  selfSignedCertificate,
  startRedis,
  type RedisCertificate,
  type RunningRedis,
} from '../stack/index.ts';
import { exportedVectors, expectSameVector } from '../test/feature-vectors.ts';
import { learningWarehouse, SOURCE, type LearningWarehouse } from '../test/learning-warehouse.ts';
import { scratchDir } from '../test/scratch.ts';
import { runTransforms } from '../transforms/index.ts';
import { quoteTable } from '../warehouse/index.ts';
import { getOnlineFeatures, materializeFeatures } from './online-store.ts';

const PACK = 'learning';
const CLI = new URL('../bin/tributary.js', import.meta.url).pathname;
const AS_OF = new Date().toISOString();
const PASSWORD = 'pw-Kq7/x@y:z';
const TLS_PASSWORD = 'tls-pw-3f9e1c';
/** As a URL carries it: the password's `/`, `@` and `:` escaped. */
const inUrl = (password: string) => encodeURIComponent(password);

let dir: string;
let data: LearningWarehouse | undefined;
let guarded: RunningRedis;
let encrypted: RunningRedis;
let certificate: RedisCertificate;
let exported: Map<string, Record<string, unknown>>;

beforeAll(async () => {
  dir = await scratchDir('online-auth');
  certificate = await selfSignedCertificate(dir);
  guarded = await startRedis({ dataDir: dir, password: PASSWORD });
  encrypted = await startRedis({ dataDir: dir, password: TLS_PASSWORD, tls: certificate });
  data = await learningWarehouse({ users: 12, days: 10, seed: 33 });
  await runTransforms({
    warehouse: data.warehouse,
    pack: PACK,
    mapping: learningPack.mapping(SOURCE),
    full: true,
  });
  exported = await exportedVectors(data.warehouse, { pack: PACK, asOf: AS_OF, dir, name: 'as-of' });
}, 600_000);
afterAll(async () => {
  await data?.close();
  await guarded?.stop();
  await encrypted?.stop();
});

const guardedUrl = (credentials: string) => `redis://${credentials}@127.0.0.1:${guarded.port}/3`;
const run = (args: string[], env: NodeJS.ProcessEnv = {}) =>
  promisify(execFile)(process.execPath, [CLI, ...args], { env: { ...process.env, ...env } });

/** Rows of every table of the warehouse that hold `text` anywhere, as `table: count`. */
async function tablesHolding(text: string): Promise<string[]> {
  const warehouse = data?.warehouse;
  if (!warehouse) throw new Error('the warehouse is closed');
  const tables = await warehouse.query<{ table: string }>(
    `SELECT concat(database, '.', name) AS table FROM system.tables
     WHERE database NOT IN ('system', 'INFORMATION_SCHEMA', 'information_schema') AND engine NOT IN ('View', 'MaterializedView')`,
  );
  const holding: string[] = [];
  for (const { table } of tables) {
    const [row] = await warehouse.query<{ n: string }>(
      `SELECT toString(count()) AS n FROM ${quoteTable(table)} WHERE position(formatRow('TSVRaw', *), {text:String}) > 0`,
      { text },
    );
    if (row?.n !== '0') holding.push(`${table}: ${row?.n}`);
  }
  return holding;
}

describe('online store behind a password, an ACL user and TLS', () => {
  it('writes and reads with the password in the URL or the environment; refusals name the address, never the password', async () => {
    const warehouse = data?.warehouse;
    if (!warehouse) throw new Error('the warehouse is closed');
    const written = await materializeFeatures(warehouse, {
      pack: PACK,
      to: guardedUrl(`:${inUrl(PASSWORD)}`),
      asOf: AS_OF,
    });
    expect(written.written).toBe(exported.size);
    expect(exported.size).toBeGreaterThan(5);
    const ids = [...exported.keys()];
    const read = await getOnlineFeatures({ pack: PACK, from: guardedUrl(`:${inUrl(PASSWORD)}`), ids });
    ids.forEach((id, index) => expectSameVector(read[index], exported.get(id), learningFeatures));

    // The CLI takes the password from TRIBUTARY_REDIS_PASSWORD when the URL has none.
    const { stdout } = await run(
      [
        'features',
        'get',
        '--pack',
        PACK,
        '--user',
        ids[0] as string,
        '--from',
        `redis://127.0.0.1:${guarded.port}/3`,
      ],
      { TRIBUTARY_REDIS_PASSWORD: PASSWORD },
    );
    expectSameVector(JSON.parse(stdout), exported.get(ids[0] as string), learningFeatures);

    const wrong = `wrong-${PASSWORD}`;
    const refused = await materializeFeatures(warehouse, {
      pack: PACK,
      to: guardedUrl(`:${inUrl(wrong)}`),
      asOf: AS_OF,
    }).catch((error: Error) => error);
    expect(String(refused)).toMatch(
      new RegExp(
        `Redis at redis://127\\.0\\.0\\.1:${guarded.port}/3 refused the connection's credentials \\(WRONGPASS`,
      ),
    );
    const anonymous = await getOnlineFeatures({
      pack: PACK,
      from: `redis://127.0.0.1:${guarded.port}/3`,
      ids,
    }).catch((error: Error) => error);
    expect(String(anonymous)).toMatch(/refused the connection's credentials \(NOAUTH/);
    for (const error of [refused, anonymous]) {
      expect(String(error)).not.toContain(PASSWORD);
      expect(String((error as Error).stack)).not.toContain(inUrl(PASSWORD));
    }
    // A bad URL is a usage error that does not repeat it.
    const bad = await run([
      'features',
      'get',
      '--pack',
      PACK,
      '--user',
      'u',
      '--from',
      `redis://:${PASSWORD}@`,
    ]).catch((error: { code: number; stderr: string }) => error);
    expect(bad).toMatchObject({ code: 2 });
    expect((bad as { stderr: string }).stderr).toMatch(
      /--from: the Redis URL [\s\S]*Usage: tributary features/,
    );
    expect((bad as { stderr: string }).stderr).not.toContain(PASSWORD);

    // Neither password reached the warehouse (the store is named by its address alone).
    expect(await tablesHolding(PASSWORD)).toEqual([]);
    expect(await tablesHolding(inUrl(PASSWORD))).toEqual([]);
    expect(await tablesHolding(`127.0.0.1:${guarded.port}/3`)).not.toEqual([]);
  });

  it('reads as a read-only ACL user, which cannot write', async () => {
    const admin = new Redis({ port: guarded.port, password: PASSWORD });
    try {
      await admin.call(
        'ACL',
        'SETUSER',
        'model',
        'on',
        '>model-pw',
        `~${PACK}:*`,
        '+@read',
        '+ping',
        '+select',
      );
    } finally {
      admin.disconnect();
    }
    const ids = [...exported.keys()].slice(0, 3);
    const read = await getOnlineFeatures({ pack: PACK, from: guardedUrl('model:model-pw'), ids });
    ids.forEach((id, index) => expectSameVector(read[index], exported.get(id), learningFeatures));
    const reader = new Redis({ port: guarded.port, username: 'model', password: 'model-pw', db: 3 });
    try {
      await expect(reader.hset(`${PACK}:user:${ids[0]}`, 'country', 'XX')).rejects.toThrow(/NOPERM/);
    } finally {
      reader.disconnect();
    }
  });

  it('over TLS (rediss://) trusts the certificate named in NODE_EXTRA_CA_CERTS, and names an untrusted one', async () => {
    const url = `rediss://127.0.0.1:${encrypted.port}/1`;
    const trusted = { NODE_EXTRA_CA_CERTS: certificate.certFile, TRIBUTARY_REDIS_PASSWORD: TLS_PASSWORD };
    const ids = [...exported.keys()].slice(0, 4);
    // The CLI opens the warehouse itself: this process lets go of it first.
    const warehousePath = data?.warehousePath as string;
    await data?.close();
    data = undefined;
    const materialize = [
      'features',
      'materialize',
      '--pack',
      PACK,
      '--warehouse',
      warehousePath,
      '--to',
      url,
      '--as-of',
      AS_OF,
    ];
    const untrusted = await run(materialize, {
      TRIBUTARY_REDIS_PASSWORD: TLS_PASSWORD,
    }).catch((error: { code: number; stderr: string }) => error);
    expect(untrusted).toMatchObject({ code: 1 });
    expect((untrusted as { stderr: string }).stderr).toMatch(
      new RegExp(
        `Redis at rediss://127\\.0\\.0\\.1:${encrypted.port}/1 presented a certificate this process does not trust.*NODE_EXTRA_CA_CERTS`,
      ),
    );
    const materialized = await run(materialize, trusted);
    expect(materialized.stderr).toMatch(`${exported.size} of ${exported.size} user vectors written`);
    const { stdout } = await run(
      ['features', 'get', '--pack', PACK, '--user', ids.join(','), '--from', url],
      trusted,
    );
    const lines = stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    ids.forEach((id, index) => expectSameVector(lines[index], exported.get(id), learningFeatures));

    // The feature server's long-lived client over TLS.
    const server = spawn(process.execPath, [CLI, 'features', 'serve', '--from', url, '--port', '0'], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...trusted },
    });
    const exited = once(server, 'exit');
    let stderr = '';
    server.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    try {
      const [line] = (await Promise.race([
        once(server.stdout, 'data'),
        exited.then(() => Promise.reject(new Error(`features serve exited: ${stderr}`))),
      ])) as [Buffer];
      const base = /(http:\/\/\S+?)\/v1\//.exec(line.toString())?.[1] as string;
      expect((await fetch(`${base}/readyz`)).status).toBe(200);
      const served = await fetch(`${base}/v1/packs/${PACK}/user/${encodeURIComponent(ids[1] as string)}`);
      expect(served.status).toBe(200);
      expectSameVector(
        (await served.json()) as Record<string, unknown>,
        exported.get(ids[1] as string),
        learningFeatures,
      );
    } finally {
      server.kill('SIGTERM');
      await exited;
    }
  });
});
