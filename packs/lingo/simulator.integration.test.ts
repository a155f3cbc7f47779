// The lingo simulator is deterministic: the same seed writes the same rows (ids, timestamps and
// values), another seed other ones; and what it reports matches what the tables hold.
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { createTestDatabase, dropTestDatabase } from '../../test/postgres.ts';
import { LINGO_SCHEMA_SQL, simulateLingoWithTruths } from './index.ts';

const urls: string[] = [];
afterAll(async () => {
  for (const url of urls) await dropTestDatabase(url);
});

const TABLES = [
  'users',
  'user_courses',
  'user_lesson_progress',
  'user_exercise_interactions',
  'user_hearts_log',
  'user_activity_log',
  'experiment_exposures',
  'user_achievements',
] as const;

async function simulate(seed: number) {
  const url = await createTestDatabase('lingo_sim');
  urls.push(url);
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(LINGO_SCHEMA_SQL);
    const result = await simulateLingoWithTruths(client, { users: 40, days: 8, seed });
    const digests: Record<string, string> = {};
    for (const table of TABLES) {
      // Every column but those set from the wall clock (triggers, defaults) or referencing the
      // seed's own rows (their ids come from gen_random_uuid() in its DDL).
      const { rows } = await client.query<{ digest: string }>(
        `SELECT md5(string_agg((to_jsonb(t) - 'updated_at' - 'created_at' - 'earned_at' - 'enrolled_at' - 'achievement_id')::text, '|' ORDER BY t.id::text)) AS digest
         FROM ${table} t`,
      );
      digests[table] = rows[0]?.digest ?? '';
    }
    const counts = await client.query<{ users: string; answers: string; completions: string }>(
      `SELECT (SELECT count(*) FROM users) AS users, (SELECT count(*) FROM user_exercise_interactions) AS answers,
         (SELECT count(*) FROM user_activity_log WHERE activity_type = 'lesson_complete') AS completions`,
    );
    return { ...result, digests, counts: counts.rows[0] };
  } finally {
    await client.end();
  }
}

describe('lingo simulator', () => {
  it('writes the same rows for the same seed, other rows for another, and reports what it wrote', async () => {
    const first = await simulate(3);
    const again = await simulate(3);
    const other = await simulate(4);
    expect(again.digests).toEqual(first.digests);
    expect(again.truths).toEqual(first.truths);
    expect(other.digests.user_exercise_interactions).not.toBe(first.digests.user_exercise_interactions);
    const { summary, counts } = first;
    expect(Number(counts?.users)).toBe(summary.usersCreated - summary.usersDeleted);
    expect(Number(counts?.completions)).toBeLessThanOrEqual(summary.lessonsCompleted);
    expect(Number(counts?.answers)).toBeGreaterThan(0);
    expect(summary.heartsMismatchUsers).toBe(first.truths.heartsMismatchUsers.length);
  });
});
