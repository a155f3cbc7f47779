// The benchmarks' workload: the learning pack's user_activity_results, 70% inserts, 25% updates and
// 5% deletes in transactions of 1,000 changes, deterministic so every path sees the same changes.
import { createHash } from 'node:crypto';
import pg from 'pg';
import { LEARNING_SCHEMA_SQL } from '../packs/learning/index.ts';

export const PER_TRANSACTION = 1000;
const uuidOf = (n: number) => {
  const hex = createHash('md5').update(String(n)).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
};

/** A new database `name` of `postgres` holding the workload's catalogue, and a client on it (the caller ends it). */
export async function openWorkloadDatabase(
  postgres: { createDatabase(name: string): Promise<string> },
  name: string,
): Promise<{ url: string; client: pg.Client }> {
  const url = await postgres.createDatabase(name);
  const client = new pg.Client({ connectionString: url });
  // Postgres stops in the bench's `finally` even after a failure: a dropped connection must not hide it.
  client.on('error', () => undefined);
  await client.connect();
  await prepareCatalog(client);
  return { url, client };
}

async function prepareCatalog(client: pg.Client): Promise<void> {
  await client.query(LEARNING_SCHEMA_SQL);
  await client.query(
    `INSERT INTO lessons (id, title) SELECT md5('lesson' || g)::uuid, 'Lesson ' || g FROM generate_series(1, 20) g`,
  );
  await client.query(
    `INSERT INTO lesson_activities (id, lesson_id, activity_type, content)
     SELECT md5('activity' || g)::uuid, md5('lesson' || (g % 20 + 1))::uuid, 'quiz', '{"q": 1}' FROM generate_series(1, 100) g`,
  );
}

export const INSERT_ROWS = `
  INSERT INTO user_activity_results (id, user_id, lesson_id, activity_id, attempt_number, user_answers, correct_answers, score, max_score, time_taken, is_passed, feedback, completed_at, created_at)
  SELECT md5(g::text)::uuid, md5('user' || (g % 5000))::uuid, md5('lesson' || (g % 20 + 1))::uuid, md5('activity' || (g % 100 + 1))::uuid,
         1 + g % 3, jsonb_build_object('answer', g % 4), '{"answer": 2}'::jsonb, g % 11, 10, 20 + g % 300, g % 3 > 0,
         'Bài làm tốt lắm ' || g, timestamp '2026-10-01' + g * interval '1 second', timestamp '2026-10-01' + g * interval '1 second'
  FROM generate_series($1::int, $2::int) g`;

/** 70% inserts, 25% updates, 5% deletes, in transactions of 1000 changes. */
export async function writeWorkload(client: pg.Client, changes: number): Promise<void> {
  let inserted = 0;
  let deleted = 0;
  let seed = 1;
  const random = () => (seed = (seed * 48271) % 2147483647) / 2147483647;
  for (let done = 0; done < changes; done += PER_TRANSACTION) {
    await client.query('BEGIN');
    await client.query(INSERT_ROWS, [inserted + 1, inserted + 700]);
    inserted += 700;
    const live = () => deleted + 1 + Math.floor(random() * (inserted - deleted));
    const updates = new Set<number>();
    while (updates.size < 250) updates.add(live());
    await client.query(
      'UPDATE user_activity_results SET score = score + 1, feedback = feedback || $2, is_passed = NOT is_passed WHERE id = ANY($1::uuid[])',
      [[...updates].map(uuidOf), ' ✓'],
    );
    const deletes = Array.from({ length: 50 }, (_, index) => deleted + 1 + index).filter(
      (n) => !updates.has(n),
    );
    await client.query('DELETE FROM user_activity_results WHERE id = ANY($1::uuid[])', [deletes.map(uuidOf)]);
    // Keep the change count exact when an id was both updated and due for deletion.
    if (deletes.length < 50)
      await client.query('DELETE FROM user_activity_results WHERE id = ANY($1::uuid[])', [
        [...updates].slice(0, 50 - deletes.length).map(uuidOf),
      ]);
    deleted += 50;
    await client.query('COMMIT');
  }
}
