// The feature server over a private redis-server the online store filled: what it serves equals a
// fresh export as of the same instant; bad requests get a 400 naming what is wrong and reach no
// key; a token guards it; a Redis that goes away gives 503s, and the server carries on when it is back.
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { learningContentFeatures, learningFeatures } from '../packs/learning/features.ts';
import { learningPack } from '../packs/learning/index.ts';
import { startRedis, type RunningRedis } from '../stack/index.ts';
import { exportedVectors, expectSameVector } from '../test/feature-vectors.ts';
import { exited } from '../test/child-process.ts';
import { learningWarehouse, SOURCE, type LearningWarehouse } from '../test/learning-warehouse.ts';
import { scratchDir } from '../test/scratch.ts';
import { runTransforms } from '../transforms/index.ts';
import { materializePack } from './online-store.ts';
import {
  FeatureServerError,
  MAX_IDS_PER_REQUEST,
  startFeatureServer,
  type RunningFeatureServer,
} from './server.ts';

const PACK = 'learning';
const CLI = new URL('../bin/tributary.js', import.meta.url).pathname;
const AS_OF = new Date().toISOString();
const TOKEN = 'feature-server-test-token';
let data: LearningWarehouse;
let redis: RunningRedis;
let dir: string;
let open: RunningFeatureServer;
let guarded: RunningFeatureServer;
let users: Map<string, Record<string, unknown>>;
let content: Map<string, Record<string, unknown>>;

beforeAll(async () => {
  dir = await scratchDir('feature-server');
  redis = await startRedis({ dataDir: dir });
  data = await learningWarehouse({ users: 20, days: 14, seed: 33 });
  await runTransforms({
    warehouse: data.warehouse,
    pack: PACK,
    mapping: learningPack.mapping(SOURCE),
    full: true,
  });
  await materializePack(data.warehouse, { pack: PACK, to: redis.url, asOf: AS_OF, sourceName: SOURCE });
  users = await exportedVectors(data.warehouse, { pack: PACK, asOf: AS_OF, dir, name: 'users' });
  content = await exportedVectors(data.warehouse, {
    pack: PACK,
    entity: 'content',
    asOf: AS_OF,
    dir,
    name: 'content',
  });
  open = await startFeatureServer({ from: redis.url, port: 0 });
  guarded = await startFeatureServer({ from: redis.url, port: 0, token: TOKEN });
}, 600_000);
afterAll(async () => {
  await open?.close();
  await guarded?.close();
  await data?.close();
  await redis?.stop();
});

async function call(
  path: string,
  init: {
    method?: string;
    body?: unknown;
    rawBody?: string;
    type?: string;
    token?: string;
    server?: RunningFeatureServer;
  } = {},
): Promise<{ status: number; body: Record<string, unknown> }> {
  const headers: Record<string, string> = {};
  if (init.body !== undefined || init.rawBody !== undefined)
    headers['content-type'] = init.type ?? 'application/json';
  if (init.token) headers.authorization = `Bearer ${init.token}`;
  const response = await fetch(`${(init.server ?? open).url}${path}`, {
    method: init.method ?? (init.body === undefined && init.rawBody === undefined ? 'GET' : 'POST'),
    headers,
    ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
    ...(init.rawBody !== undefined ? { body: init.rawBody } : {}),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

async function waitForReady(server: RunningFeatureServer): Promise<void> {
  for (let attempt = 0; attempt < 60; attempt++) {
    if ((await call('/readyz', { server })).status === 200) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${server.url} never became ready`);
}

const online = (body: unknown, init: Parameters<typeof call>[1] = {}) =>
  call(`/v1/packs/${PACK}/online-features`, { ...init, body });

describe('feature server', () => {
  it('serves every stored user and content vector equal to a fresh export row, in the order asked, null where nothing is stored', async () => {
    const ids = [...users.keys()];
    expect(ids.length).toBeGreaterThan(10);
    const asked = [ids[3] as string, 'no-such-user', ...ids];
    const { status, body } = await online({ ids: asked });
    expect(status).toBe(200);
    expect(body.entity).toBe('user');
    expect(body.features).toEqual(learningFeatures.features.map((feature) => feature.name));
    expect(body.missing).toEqual(['no-such-user']);
    const vectors = body.vectors as (Record<string, unknown> | null)[];
    expect(vectors).toHaveLength(asked.length);
    expect(vectors[1]).toBeNull();
    asked.forEach((id, index) => {
      if (index === 1) return;
      expect(vectors[index]?.user_id).toBe(id);
      expectSameVector(vectors[index], users.get(id), learningFeatures);
    });

    const lessons = [...content.keys()].slice(0, 5);
    const served = await online({ entity: 'content', ids: lessons });
    expect(served.status).toBe(200);
    (served.body.vectors as Record<string, unknown>[]).forEach((vector, index) =>
      expectSameVector(vector, content.get(lessons[index] as string), learningContentFeatures),
    );

    const one = await call(`/v1/packs/${PACK}/user/${encodeURIComponent(ids[0] as string)}`);
    expect(one.status).toBe(200);
    expectSameVector(one.body, users.get(ids[0] as string), learningFeatures);
  });

  it('serves only the catalogue fields of a hash that holds others (a retired feature, a field named like the id)', async () => {
    const id = [...users.keys()][4] as string;
    const store = new Redis(redis.port, '127.0.0.1');
    try {
      await store.hset(`${PACK}:user:${id}`, {
        retired_feature: '7',
        user_id: 'someone-else',
        constructor: 'x',
      });
      const { body } = await call(`/v1/packs/${PACK}/user/${encodeURIComponent(id)}`);
      expect(Object.keys(body)).toEqual([
        'user_id',
        'timestamp',
        ...learningFeatures.features.map((f) => f.name),
      ]);
      expect(body.user_id).toBe(id);
      expectSameVector(body, users.get(id), learningFeatures);
    } finally {
      await store.hdel(`${PACK}:user:${id}`, 'retired_feature', 'user_id', 'constructor');
      store.disconnect();
    }
  });

  it('returns the chosen features only, in the order given, by POST and by GET', async () => {
    const [id] = [...users.keys()] as [string];
    const chosen = ['avg_score_ratio_90d', 'country', 'activity_count_28d'];
    const posted = await online({ ids: [id], features: chosen });
    expect(posted.body.features).toEqual(chosen);
    const vector = (posted.body.vectors as Record<string, unknown>[])[0];
    expect(Object.keys(vector ?? {})).toEqual(['user_id', 'timestamp', ...chosen]);
    const got = await call(`/v1/packs/${PACK}/user/${encodeURIComponent(id)}?features=${chosen.join(',')}`);
    expect(got.body).toEqual(vector);
    for (const name of chosen) {
      const exported = users.get(id)?.[name];
      expect(vector?.[name]).toEqual(typeof exported === 'bigint' ? Number(exported) : (exported ?? null));
    }
  });

  it('answers a bad request with a 400 naming what is wrong, and never reads a key for it', async () => {
    const [id] = [...users.keys()] as [string];
    const cases: [string, Awaited<ReturnType<typeof call>>, RegExp][] = [
      [
        'unknown feature',
        await online({ ids: [id], features: ['activity_count_28d', 'no_such_feature'] }),
        /unknown feature no_such_feature/,
      ],
      [
        'feature name not a name',
        await online({ ids: [id], features: ['x; DROP'] }),
        /features\.0: is not a feature name/,
      ],
      ['no ids', await online({ ids: [] }), /ids/],
      [
        'too many ids',
        await online({ ids: Array.from({ length: MAX_IDS_PER_REQUEST + 1 }, (_, index) => `u${index}`) }),
        /ids/,
      ],
      [
        'an id with a line break (a RESP command smuggled in)',
        await online({ ids: [`${id}\r\nFLUSHALL`] }),
        /ids\.0: must hold no control characters/,
      ],
      ['an unknown field', await online({ ids: [id], entity_type: 'user' }), /entity_type/],
      ['an unknown entity', await online({ ids: [id], entity: 'course' }), /entity/],
      ['not JSON', await call(`/v1/packs/${PACK}/online-features`, { rawBody: '{"ids": [' }), /JSON/i],
      [
        'a GET with an unknown query parameter',
        await call(`/v1/packs/${PACK}/user/${id}?feature=country`),
        /feature/,
      ],
      ['a GET of an unknown entity', await call(`/v1/packs/${PACK}/course/${id}`), /entity/],
    ];
    for (const [name, response, message] of cases) {
      expect({ name, status: response.status }).toEqual({ name, status: 400 });
      expect(response.body.error).toBe('bad_request');
      expect(String(response.body.message)).toMatch(message);
    }
    const wrongType = await call(`/v1/packs/${PACK}/online-features`, {
      rawBody: 'ids=1',
      type: 'application/xml',
    });
    expect(wrongType.status).toBe(415);
    // The smuggled FLUSHALL reached nothing: every vector is still there.
    const still = await online({ ids: [...users.keys()] });
    expect(still.body.missing).toEqual([]);
  });

  it('answers 404 for an unknown pack, route, or an entity with nothing stored', async () => {
    const pack = await call('/v1/packs/nosuchpack/online-features', { body: { ids: ['u1'] } });
    expect(pack.status).toBe(404);
    expect(String(pack.body.message)).toMatch(/unknown source pack "nosuchpack"/);
    const none = await call(`/v1/packs/${PACK}/user/no-such-user`);
    expect(none).toEqual({
      status: 404,
      body: {
        error: 'not_found',
        message: `nothing stored for user no-such-user in pack ${PACK} (materialize first?)`,
      },
    });
    expect((await call('/v1/nothing')).status).toBe(404);
  });

  it('needs the token on every route but /healthz when one is set, and refuses to listen beyond loopback without one', async () => {
    const [id] = [...users.keys()] as [string];
    expect((await online({ ids: [id] }, { server: guarded })).status).toBe(401);
    expect((await online({ ids: [id] }, { server: guarded, token: 'wrong-token-value' })).status).toBe(401);
    expect((await call(`/v1/packs/${PACK}/features`, { server: guarded })).status).toBe(401);
    const allowed = await online({ ids: [id] }, { server: guarded, token: TOKEN });
    expect(allowed.status).toBe(200);
    expectSameVector((allowed.body.vectors as Record<string, unknown>[])[0], users.get(id), learningFeatures);
    expect((await call('/healthz', { server: guarded })).status).toBe(200);
    await expect(startFeatureServer({ from: redis.url, host: '0.0.0.0', port: 0 })).rejects.toThrow(
      FeatureServerError,
    );
    await expect(startFeatureServer({ from: 'http://localhost:6379', port: 0 })).rejects.toThrow(
      /from: has the scheme "http"; expected redis\[s\]:\/\//,
    );
  });

  it('counts requests by route pattern and status, and vectors found and missing, on /metrics', async () => {
    type Family = {
      name: string;
      metrics: { labels?: Record<string, string>; value?: string; count?: string }[];
    };
    const scrape = async () => {
      const text = await (await fetch(`${open.url}/metrics`)).text();
      const families = parsePrometheusTextFormat(text) as Family[];
      const vectors = (result: string) =>
        Number(
          families
            .find((family) => family.name === 'tributary_feature_vectors_served_total')
            ?.metrics.find((metric) => metric.labels?.entity === 'user' && metric.labels.result === result)
            ?.value ?? 0,
        );
      // The parser drops a histogram's labels: its `_count` lines are read as text.
      const requests = (route: string, status: string) =>
        Number(
          text
            .split('\n')
            .find(
              (line) =>
                line.startsWith('tributary_feature_request_duration_seconds_count{') &&
                line.includes(`route="${route}"`) &&
                line.includes(`status="${status}"`),
            )
            ?.split(' ')
            .at(-1) ?? 0,
        );
      return {
        found: vectors('found'),
        missing: vectors('missing'),
        posted: requests('/v1/packs/:pack/online-features', '200'),
        refused: requests('/v1/packs/:pack/online-features', '400'),
      };
    };
    const [a, b] = [...users.keys()] as [string, string];
    const before = await scrape();
    await online({ ids: [a, 'no-such-user', b] });
    await online({ ids: [] });
    const after = await scrape();
    expect({
      found: after.found - before.found,
      missing: after.missing - before.missing,
      posted: after.posted - before.posted,
      refused: after.refused - before.refused,
    }).toEqual({ found: 2, missing: 1, posted: 1, refused: 1 });
  });

  it('serves the catalogue as `features list --format json` prints it', async () => {
    const { status, body } = await call(`/v1/packs/${PACK}/features`);
    expect(status).toBe(200);
    const entries = body as unknown as { name: string; entity: string }[];
    expect(entries.filter((entry) => entry.entity === 'user').map((entry) => entry.name)).toEqual([
      ...learningFeatures.features.map((feature) => feature.name),
      ...learningFeatures.labels.map((label) => `label_${label.name}`),
    ]);
    expect(entries.some((entry) => entry.entity === 'content')).toBe(true);
  });

  it('runs as `tributary features serve` until SIGTERM, and prints usage for a bad flag', async () => {
    const [id] = [...users.keys()] as [string];
    const child = spawn(process.execPath, [CLI, 'features', 'serve', '--from', redis.url, '--port', '0'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exit = exited(child);
    const [line] = (await once(child.stdout, 'data')) as [Buffer];
    const url = /(http:\/\/\S+?)\/v1\//.exec(line.toString())?.[1];
    expect(url).toBeDefined();
    const served = await call(`/v1/packs/${PACK}/user/${encodeURIComponent(id)}`, {
      server: { url: url as string, close: async () => {} },
    });
    expectSameVector(served.body, users.get(id), learningFeatures);
    child.kill('SIGTERM');
    expect((await exit).code).toBe(0);
    const bad = await promisify(execFile)(process.execPath, [
      CLI,
      'features',
      'serve',
      '--port',
      'many',
    ]).catch((error: { code: number; stderr: string }) => error);
    expect(bad).toMatchObject({ code: 2 });
    expect((bad as { stderr: string }).stderr).toMatch(/--port[\s\S]*Usage: tributary features/);
  });

  it('answers 503 within its command timeout while Redis hangs, and serves again when it resumes', async () => {
    const [id] = [...users.keys()] as [string];
    process.kill(redis.pid, 'SIGSTOP');
    try {
      const started = Date.now();
      const hung = await online({ ids: [id] });
      expect(hung.status).toBe(503);
      expect(String(hung.body.message)).toMatch(/Command timed out/);
      expect(Date.now() - started).toBeLessThan(5000);
    } finally {
      process.kill(redis.pid, 'SIGCONT');
    }
    await waitForReady(open);
    expect((await online({ ids: [id] })).body.missing).toEqual([]);
  });

  it('answers 503 while Redis is away and serves again once it is back on its port', async () => {
    const [id] = [...users.keys()] as [string];
    expect((await call('/readyz')).status).toBe(200);
    await redis.stop();
    const away = await online({ ids: [id] });
    expect(away.status).toBe(503);
    expect(String(away.body.message)).toMatch(/cannot reach Redis/);
    expect((await call('/readyz')).status).toBe(503);
    // A server started while Redis is away starts, not ready, and becomes ready when Redis is back.
    const early = await startFeatureServer({ from: redis.url, port: 0 });
    try {
      expect((await call('/readyz', { server: early })).status).toBe(503);
      expect((await online({ ids: [id] }, { server: early })).status).toBe(503);
      redis = await startRedis({ dataDir: dir, port: redis.port });
      await waitForReady(early);
    } finally {
      await early.close();
    }
    // The client reconnects within its backoff (at most 2 s); the new server holds nothing.
    await waitForReady(open);
    const back = await online({ ids: [id] });
    expect(back.status).toBe(200);
    expect(back.body.missing).toEqual([id]);
    expect((await call('/readyz')).status).toBe(200);
  });
});
