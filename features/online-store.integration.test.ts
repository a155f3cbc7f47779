// The Redis online store against a private redis-server: a full materialization, then incremental
// runs that write exactly the users whose features changed, and `features get` (the CLI) equal to a
// fresh export row. Every run and export is as of one instant fixed at the start: as of "now", a
// trailing window's edge could pass a fact between two runs and rewrite a user nothing changed.
import { execFile } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { learningContentFeatures, learningFeatures } from '../packs/learning/features.ts';
import { learningPack } from '../packs/learning/index.ts';
import { startRedis, type RunningRedis } from '../stack/index.ts';
import { learningWarehouse, SOURCE, type LearningWarehouse } from '../test/learning-warehouse.ts';
import { exportedVectors, expectSameVector as expectSameVectorOf } from '../test/feature-vectors.ts';
import { scratchDir } from '../test/scratch.ts';
import { runTransforms } from '../transforms/index.ts';
import { quoteString } from '../warehouse/index.ts';
import { exportFeatures } from './export.ts';
import type { Entity, FeatureRegistry } from './registry.ts';
import { getOnlineFeatures, materializeFeatures, materializePack } from './online-store.ts';
import { vectorRespSql } from './vector-sender.ts';
import { RespWriter } from './resp-writer.ts';

const PACK = 'learning';
const CLI = new URL('../bin/tributary.js', import.meta.url).pathname;
let data: LearningWarehouse;
let redis: RunningRedis;
let dir: string;
let exports = 0;
const AS_OF = new Date().toISOString();

beforeAll(async () => {
  dir = await scratchDir('online');
  redis = await startRedis({ dataDir: dir });
  data = await learningWarehouse({ users: 30, days: 14, seed: 21 });
  await runTransforms({
    warehouse: data.warehouse,
    pack: PACK,
    mapping: learningPack.mapping(SOURCE),
    full: true,
  });
}, 600_000);
afterAll(async () => {
  await data?.close();
  await redis?.stop();
});

// Passes of 7 users: each run computes, writes out and sends several ranges, one while the next is computed.
const materialize = () =>
  materializeFeatures(data.warehouse, { pack: PACK, to: redis.url, asOf: AS_OF, entitiesPerPass: 7 });

/** A fresh export as of AS_OF, rows keyed by user (or content). */
const exportAsOf = (entity: Entity = 'user') =>
  exportedVectors(data.warehouse, { pack: PACK, entity, asOf: AS_OF, dir, name: `now-${exports++}` });

/** A stored vector equals the export's row (the users' registry unless given). */
const expectSameVector = (
  stored: Record<string, unknown> | undefined,
  exported: Record<string, unknown> | undefined,
  registry: FeatureRegistry = learningFeatures,
) => expectSameVectorOf(stored, exported, registry);

/** `tributary features get --pack PACK ARGS… --from` the test's Redis. */
const featuresGet = (...args: string[]) =>
  promisify(execFile)(process.execPath, [
    CLI,
    'features',
    'get',
    '--pack',
    PACK,
    ...args,
    '--from',
    redis.url,
  ]);

async function cliGet(user: string): Promise<Record<string, unknown>> {
  const { stdout } = await featuresGet('--user', user);
  return JSON.parse(stdout) as Record<string, unknown>;
}

describe('online store', () => {
  it('materializes every user, and `features get` equals a fresh export row as of the same instant', async () => {
    const first = await materialize();
    expect(first.mode).toBe('full');
    expect(first.written).toBe(first.entities);
    expect(first.entities).toBeGreaterThan(10);
    const exported = await exportAsOf();
    expect(exported.size).toBe(first.entities);
    const [user] = [...exported.keys()];
    expectSameVector(await cliGet(user as string), exported.get(user as string));
    const ids = [...exported.keys()].slice(0, 10);
    const vectors = await getOnlineFeatures({ pack: PACK, from: redis.url, ids });
    ids.forEach((id, index) => expectSameVector(vectors[index], exported.get(id)));
    // Nothing changed: nothing is written.
    const again = await materialize();
    expect(again).toMatchObject({ mode: 'incremental', written: 0, removed: 0 });
  });

  it('reads many users in one call, in their order, the chosen features only, and names those with nothing stored', async () => {
    await materialize();
    const exported = await exportAsOf();
    const [a, b] = [...exported.keys()] as [string, string];
    const chosen = ['activity_count_28d', 'country', 'avg_score_ratio_90d'];
    const vectors = await getOnlineFeatures({
      pack: PACK,
      from: redis.url,
      ids: [b, 'no-such-user', a],
      features: chosen,
    });
    expect(vectors[1]).toBeUndefined();
    for (const [index, id] of [
      [0, b],
      [2, a],
    ] as const) {
      expect(Object.keys(vectors[index] ?? {})).toEqual(['user_id', 'timestamp', ...chosen]);
      expect(vectors[index]?.user_id).toBe(id);
      const row = exported.get(id);
      for (const name of chosen) {
        const raw = row?.[name];
        const want = typeof raw === 'bigint' ? Number(raw) : raw;
        if (typeof want === 'number') expect(vectors[index]?.[name]).toBeCloseTo(want, 12);
        else expect(vectors[index]?.[name]).toBe(want);
      }
    }
    await expect(
      getOnlineFeatures({ pack: PACK, from: redis.url, ids: [a], features: ['no_such_feature'] }),
    ).rejects.toThrow(/unknown feature no_such_feature/);
    // The CLI: a JSON line per stored user, the others named on stderr, exit status 1.
    const failure = await featuresGet(
      '--user',
      `${a},no-such-user,${b}`,
      '--features',
      chosen.join(','),
    ).then(
      () => undefined,
      (error: { code: number; stdout: string; stderr: string }) => error,
    );
    expect(failure?.code).toBe(1);
    expect(failure?.stderr).toMatch(/no features stored for user no-such-user/);
    const lines = (failure?.stdout ?? '')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines.map((line) => line.user_id)).toEqual([a, b]);
    expect(lines[0]).toEqual(vectors[2]);
  });

  it('writes each hash by RESTORE exactly as HSET of the vector would (fields, texts, DUMP bytes)', async () => {
    await materialize();
    // The same vectors by HSET (the fallback's encoding) into new keys of another database.
    const out = join(dir, 'hset.parquet');
    await exportFeatures(data.warehouse, { pack: PACK, asOf: AS_OF, format: 'parquet', out });
    const vector = vectorRespSql(`${PACK}:user:`, 'user_id', learningFeatures.features);
    const resp = join(dir, 'hset.resp');
    const rows = `file(${quoteString(out)}, 'Parquet')`;
    await data.warehouse.exportToFile(`SELECT ${vector.resp} FROM ${rows}`, 'RawBLOB', resp);
    const [counted] = await data.warehouse.query<{ users: string; commands: string }>(
      `SELECT toString(count()) AS users, toString(sum(${vector.commands})) AS commands FROM ${rows}`,
    );
    const writer = await RespWriter.connect({ host: '127.0.0.1', port: redis.port, db: 7, tls: false });
    await writer.sendEncoded(createReadStream(resp), Number(counted?.commands));
    await writer.flush();
    writer.close();
    const restored = new Redis(redis.url);
    const hset = new Redis({ port: redis.port, db: 7 });
    try {
      await hset.config('SET', 'rdbcompression', 'no');
      const keys = (await hset.keys(`${PACK}:user:*`)).sort();
      expect(keys.length).toBe(Number(counted?.users));
      // The full run wrote them by RESTORE, not by the fallback.
      const restores = /cmdstat_restore:calls=(\d+)/.exec(await restored.info('commandstats'))?.[1];
      expect(Number(restores)).toBeGreaterThanOrEqual(keys.length);
      for (const key of keys) {
        expect(await restored.hgetall(key)).toEqual(await hset.hgetall(key));
        expect((await restored.dumpBuffer(key)).equals(await hset.dumpBuffer(key))).toBe(true);
      }
    } finally {
      restored.disconnect();
      hset.disconnect();
    }
  });

  it('after a source change, the next incremental run rewrites exactly that user', async () => {
    const { rows } = await data.postgres.query<{ id: string }>(
      `SELECT u.id::text AS id FROM users u ORDER BY u.id LIMIT 1 OFFSET 3`,
    );
    const user = rows[0]?.id as string;
    const [before] = await getOnlineFeatures({ pack: PACK, from: redis.url, ids: [user] });
    // Another user's hash loses a field: a rewrite would put it back.
    const client = new Redis(redis.url);
    const [other] = (
      await data.postgres.query<{ id: string }>('SELECT id::text AS id FROM users ORDER BY id LIMIT 1')
    ).rows;
    const untouched = `${PACK}:user:${other?.id}`;
    expect(await client.hdel(untouched, 'activity_count_1d')).toBe(1);
    await data.postgres.query(
      `INSERT INTO user_activity_results (user_id, lesson_id, score, max_score, time_taken, completed_at)
       SELECT $1::uuid, id, 9, 10, 40, $2::timestamp FROM lessons ORDER BY id LIMIT 1`,
      [user, new Date(Date.now() - 3_600_000).toISOString().replace('Z', '')],
    );
    await data.capture();
    await runTransforms({ warehouse: data.warehouse, pack: PACK, mapping: learningPack.mapping(SOURCE) });
    const result = await materialize();
    expect(result.mode).toBe('incremental');
    expect(result.writtenIds).toEqual([user]);
    const after = await cliGet(user);
    expect(after.activity_count_1d).toBe(Number(before?.activity_count_1d) + 1);
    expect(after.exercise_attempts_7d).toBe(Number(before?.exercise_attempts_7d) + 1);
    expectSameVector(after, (await exportAsOf()).get(user));
    // The other user's hash was not rewritten: the field is still missing.
    expect(await client.hexists(untouched, 'activity_count_1d')).toBe(0);
    expect(await client.hexists(untouched, '_as_of')).toBe(1);
    client.disconnect();
  });

  it('rewrites everything when the Redis it wrote to lost its data', async () => {
    const client = new Redis(redis.url);
    await client.flushdb();
    client.disconnect();
    const result = await materialize();
    expect(result.mode).toBe('full');
    expect(result.written).toBe(result.entities);
  });

  it('says clearly when Redis cannot be reached', async () => {
    await expect(
      materializeFeatures(data.warehouse, { pack: PACK, to: 'redis://127.0.0.1:1' }),
    ).rejects.toThrow(/cannot reach Redis at redis:\/\/127.0.0.1:1\/0: .*is redis-server running there\?/);
    await expect(materializeFeatures(data.warehouse, { pack: PACK, to: 'http://x' })).rejects.toThrow(
      /the Redis URL has the scheme "http"; expected redis\[s\]:\/\/\[\[USER\]:PASSWORD@\]HOST\[:PORT\]\[\/DB\]/,
    );
  });

  it('keeps content vectors apart from users’: every item, `features get --content` equal to an export row, and a new answer rewrites exactly its lesson', async () => {
    const materializeContent = () =>
      materializeFeatures(data.warehouse, { pack: PACK, entity: 'content', to: redis.url, asOf: AS_OF });
    await materialize();
    const first = await materializeContent();
    expect(first.mode).toBe('full');
    expect(first.written).toBe(first.entities);
    // The users' record is their own: the content's run leaves them nothing to rewrite.
    expect(await materialize()).toMatchObject({ mode: 'incremental', written: 0, removed: 0 });
    const exported = await exportAsOf('content');
    expect(exported.size).toBe(first.entities);
    const { rows } = await data.postgres.query<{ id: string }>(
      `SELECT lesson_id::text AS id FROM user_activity_results GROUP BY lesson_id ORDER BY count(*) DESC, lesson_id LIMIT 1`,
    );
    const lesson = rows[0]?.id as string;
    const { stdout } = await featuresGet('--content', lesson);
    const before = JSON.parse(stdout) as Record<string, unknown>;
    expect(before.content_id).toBe(lesson);
    expectSameVector(before, exported.get(lesson), learningContentFeatures);
    expect(Number(before.interactions_all)).toBeGreaterThan(0);
    await data.postgres.query(
      `INSERT INTO user_activity_results (user_id, lesson_id, score, max_score, time_taken, completed_at)
       SELECT id, $1::uuid, 3, 10, 25, $2::timestamp FROM users ORDER BY id LIMIT 1`,
      [lesson, new Date(Date.parse(AS_OF) - 7_200_000).toISOString().replace('Z', '')],
    );
    await data.capture();
    await runTransforms({ warehouse: data.warehouse, pack: PACK, mapping: learningPack.mapping(SOURCE) });
    const next = await materializeContent();
    expect(next).toMatchObject({ mode: 'incremental', writtenIds: [lesson] });
    const [after] = await getOnlineFeatures({
      pack: PACK,
      entity: 'content',
      from: redis.url,
      ids: [lesson],
    });
    expect(after?.interactions_7d).toBe(Number(before.interactions_7d) + 1);
    expectSameVector(after, (await exportAsOf('content')).get(lesson), learningContentFeatures);
  });

  it('materializes every entity of the pack, and leaves out content whose dimension is not captured, saying why', async () => {
    const both = await materializePack(data.warehouse, { pack: PACK, to: redis.url, asOf: AS_OF });
    expect(both.map((run) => ('result' in run ? `${run.entity}:${run.result.mode}` : run.entity))).toEqual([
      'user:incremental',
      'content:incremental',
    ]);
    // As where the content tables are not captured: the transforms leave dim_content empty.
    await data.warehouse.command('DELETE FROM dim_content WHERE pack = {pack:String}', { pack: PACK });
    const [users, content] = await materializePack(data.warehouse, {
      pack: PACK,
      to: redis.url,
      asOf: AS_OF,
    });
    expect(users).toMatchObject({ entity: 'user', result: { mode: 'incremental' } });
    expect(content).toMatchObject({
      entity: 'content',
      skipped: expect.stringMatching(/no learning content had been created/),
    });
  });
});
