// The service's online store refresh follows the facts however they were transformed: a scheduled
// `transform` job (run here through its job kind, as the scheduler runs it) changes a user's facts,
// and the loop's next pass writes that user's vector at once, not `refreshSeconds` (an hour) later.
// A private redis-server; the learning pack's Postgres and MongoDB stand-in as the other tests'.
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parsePipelineConfig, type PipelineConfig } from '../config/pipeline.ts';
import { builtinJobKinds } from '../jobs/index.ts';
import { startRedis, type RunningRedis } from '../stack/index.ts';
import { learningWarehouse, type LearningWarehouse } from '../test/learning-warehouse.ts';
import { scratchDir } from '../test/scratch.ts';
import { ServiceMetrics } from './metrics.ts';
import { OnlineStoreRefresh } from './online-store-refresh.ts';

const PACK = 'learning';
let data: LearningWarehouse;
let redis: RunningRedis;
let config: PipelineConfig;

beforeAll(async () => {
  redis = await startRedis({ dataDir: await scratchDir('refresh') });
  data = await learningWarehouse({ users: 10, days: 7, seed: 47 });
  config = parsePipelineConfig(
    {
      sources: [{ kind: 'postgres', name: PACK, url: data.postgresUrl, pack: PACK }],
      warehouse: { dir: 'unused' },
      packs: [{ name: PACK }],
      features: { onlineStore: redis.url, refreshSeconds: 3600 },
    },
    {},
  );
}, 600_000);
afterAll(async () => {
  await data?.close();
  await redis?.stop();
});

/** A scheduled `transform` job's run, as the scheduler makes it. */
async function scheduledTransform(): Promise<void> {
  const kind = builtinJobKinds().get('transform');
  if (!kind) throw new Error('no transform job kind');
  const now = new Date();
  await kind.run(kind.options.parse({ pack: PACK }), {
    job: 'transform-learning',
    scheduledFor: now,
    asOfDay: now.toISOString().slice(0, 10),
    dryRun: false,
    signal: new AbortController().signal,
    warehouse: data.warehouse,
    config,
    log: () => undefined,
  });
}

describe('online store refresh', () => {
  it('writes a user changed by a scheduled transform job at the next pass, and nothing when nothing changed', async () => {
    const logs: string[] = [];
    const refresh = new OnlineStoreRefresh(config, data.warehouse, new ServiceMetrics(), (line) =>
      logs.push(line),
    );
    await scheduledTransform();
    await refresh.after(PACK);
    expect(logs.join('\n')).toMatch(
      /online store learning: [1-9]\d* user vectors written, 0 removed \(full\)/,
    );

    // Nothing transformed since: within refreshSeconds, nothing is written.
    logs.length = 0;
    await refresh.after(PACK);
    expect(logs).toEqual([]);

    const { rows } = await data.postgres.query<{ id: string }>(
      'SELECT id::text AS id FROM users ORDER BY id LIMIT 1 OFFSET 2',
    );
    const user = rows[0]?.id as string;
    const client = new Redis(redis.url);
    try {
      const before = await client.hgetall(`${PACK}:user:${user}`);
      await data.postgres.query(
        `INSERT INTO user_activity_results (user_id, lesson_id, score, max_score, time_taken, completed_at)
         SELECT $1::uuid, id, 9, 10, 40, $2::timestamp FROM lessons ORDER BY id LIMIT 1`,
        [user, new Date(Date.now() - 3_600_000).toISOString().replace('Z', '')],
      );
      await data.capture();
      await scheduledTransform();
      // The loop's own pass finds nothing left to transform; the refresh sees the facts moved.
      await refresh.after(PACK);
      expect(logs.join('\n')).toMatch(
        /online store learning: [1-9]\d* user vectors written, 0 removed \(incremental\)/,
      );
      const after = await client.hgetall(`${PACK}:user:${user}`);
      expect(Number(after.activity_count_1d)).toBe(Number(before.activity_count_1d ?? 0) + 1);
      expect(after._as_of).not.toBe(before._as_of);
    } finally {
      client.disconnect();
    }
  });
});
