// Runs the learning pack against a real Postgres: the schema applies, a short simulation leaves
// history in every table through inserts, updates and deletes, and the seed alone decides the data.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../../test/postgres.ts';
import { INSTRUCTORS } from './content.ts';
import { LEARNING_SCHEMA_SQL, learningPack, simulateLearning } from './index.ts';
import type { LearningSimulationSummary } from './simulator.ts';

const TABLES = [
  'lesson_activities',
  'lesson_paragraphs',
  'lesson_reviews',
  'lesson_series',
  'lessons',
  'paragraphs',
  'series_lessons',
  'user_achievements',
  'user_activity_results',
  'user_auth',
  'user_lesson_bookmarks',
  'user_lesson_progress',
  'user_profiles',
  'user_series_progress',
  'user_sessions',
  'user_settings',
  'user_social_logins',
  'user_streaks',
  'user_word_bookmarks',
  'users',
  'words',
];
const TABLES_CASCADING_FROM_USERS = [
  'user_profiles',
  'user_settings',
  'user_auth',
  'user_streaks',
  'user_sessions',
];

const clients: pg.Client[] = [];

afterAll(async () => {
  await Promise.all(clients.map((client) => client.end()));
});

/** A new database on the shared test Postgres, with the pack's schema applied. */
async function freshDatabase(): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: await createTestDatabase('learning') });
  await client.connect();
  clients.push(client);
  await client.query(LEARNING_SCHEMA_SQL);
  return client;
}

async function count(client: pg.Client, sql: string, params: unknown[] = []): Promise<number> {
  const result = await client.query<{ n: number }>(`SELECT (${sql})::int AS n`, params);
  return result.rows[0]?.n ?? Number.NaN;
}

/** Every table as JSON, rows ordered by primary key: equal dumps mean equal databases. */
async function dump(client: pg.Client): Promise<Record<string, string>> {
  const contents: Record<string, string> = {};
  for (const table of TABLES) {
    const key = await client.query<{ column: string }>(
      `SELECT a.attname AS column
         FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)
        WHERE i.indrelid = $1::regclass AND i.indisprimary
        ORDER BY array_position(i.indkey::int2[], a.attnum)`,
      [table],
    );
    const orderBy = key.rows.map((row) => pg.escapeIdentifier(row.column)).join(', ');
    const rows = await client.query<{ json: string }>(
      `SELECT coalesce(json_agg(t ORDER BY ${orderBy}), '[]')::text AS json FROM ${table} t`,
    );
    contents[table] = rows.rows[0]?.json ?? '';
  }
  return contents;
}

/** Records every deleted row that belongs to a user, so the test can see what cascaded. */
async function recordDeletions(client: pg.Client): Promise<void> {
  await client.query(`
    CREATE TABLE deleted_rows (table_name text NOT NULL, user_id uuid NOT NULL);
    CREATE FUNCTION record_deleted_row() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      INSERT INTO deleted_rows VALUES (TG_TABLE_NAME, coalesce(to_jsonb(OLD) ->> 'user_id', to_jsonb(OLD) ->> 'id')::uuid);
      RETURN OLD;
    END $$;`);
  for (const table of await tablesWithUserId(client)) {
    await client.query(
      `CREATE TRIGGER record_deletion AFTER DELETE ON ${table} FOR EACH ROW EXECUTE FUNCTION record_deleted_row()`,
    );
  }
  await client.query(
    `CREATE TRIGGER record_deletion AFTER DELETE ON users FOR EACH ROW EXECUTE FUNCTION record_deleted_row()`,
  );
}

async function tablesWithUserId(client: pg.Client): Promise<string[]> {
  const result = await client.query<{ table_name: string }>(
    `SELECT table_name FROM information_schema.columns
      WHERE table_schema = 'public' AND column_name = 'user_id' AND table_name <> 'deleted_rows'
      ORDER BY table_name`,
  );
  return result.rows.map((row) => row.table_name);
}

describe('learning pack schema', () => {
  it('creates the user and lesson services plus words and paragraphs, with a generated tsvector', async () => {
    const client = await freshDatabase();
    const tables = await client.query<{ table_name: string }>(
      `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name`,
    );
    expect(tables.rows.map((row) => row.table_name)).toEqual(TABLES);
    const vector = await client.query(
      `SELECT is_generated, generation_expression FROM information_schema.columns
        WHERE table_name = 'paragraphs' AND column_name = 'content_vector'`,
    );
    expect(vector.rows).toEqual([
      { is_generated: 'ALWAYS', generation_expression: "to_tsvector('simple'::regconfig, content)" },
    ]);
  });
});

describe('a 40-learner, 10-day simulation', () => {
  let client: pg.Client;
  let summary: LearningSimulationSummary;
  const progress: [number, number][] = [];

  beforeAll(async () => {
    client = await freshDatabase();
    await recordDeletions(client);
    summary = await simulateLearning(client, {
      users: 40,
      days: 10,
      seed: 42,
      onProgress: (done, total) => progress.push([done, total]),
    });
  });

  it('writes rows into every table', async () => {
    const emptyTables: string[] = [];
    for (const table of TABLES) {
      if ((await count(client, `SELECT count(*) FROM ${table}`)) === 0) emptyTables.push(table);
    }
    expect(emptyTables).toEqual([]);
  });

  it('issues inserts, plenty of updates and some deletes', async () => {
    expect(summary.inserts).toBeGreaterThan(0);
    expect(summary.updates).toBeGreaterThan(summary.inserts / 2);
    expect(summary.deletes).toBeGreaterThan(0);
    expect(summary.statements).toBe(summary.inserts + summary.updates + summary.deletes);
    const progressedLessons = await count(
      client,
      `SELECT count(*) FROM user_lesson_progress WHERE updated_at > created_at AND cardinality(completed_paragraphs) > 0`,
    );
    expect(progressedLessons).toBeGreaterThan(0);
  });

  it('spreads its history over at least 8 distinct days', async () => {
    expect(
      await count(client, `SELECT count(DISTINCT created_at::date) FROM user_sessions`),
    ).toBeGreaterThanOrEqual(8);
    expect(
      await count(client, `SELECT count(DISTINCT started_at::date) FROM user_lesson_progress`),
    ).toBeGreaterThanOrEqual(8);
  });

  it('removes a deleted account from every service: cascaded user rows and lesson rows alike', async () => {
    const deleted = await client.query<{ user_id: string }>(
      `SELECT user_id FROM deleted_rows WHERE table_name = 'users'`,
    );
    const deletedIds = deleted.rows.map((row) => row.user_id);
    expect(summary.usersDeleted).toBeGreaterThan(0);
    expect(deletedIds).toHaveLength(summary.usersDeleted);
    for (const table of [...TABLES_CASCADING_FROM_USERS, 'user_lesson_progress']) {
      const removed = await count(
        client,
        `SELECT count(DISTINCT user_id) FROM deleted_rows WHERE table_name = $1 AND user_id = ANY ($2)`,
        [table, deletedIds],
      );
      expect({ table, removed }).toEqual({ table, removed: deletedIds.length });
    }
    for (const table of await tablesWithUserId(client)) {
      const left = await count(client, `SELECT count(*) FROM ${table} WHERE user_id = ANY ($1)`, [
        deletedIds,
      ]);
      expect({ table, left }).toEqual({ table, left: 0 });
    }
    const users = await count(client, `SELECT count(*) FROM users`);
    expect(users).toBe(summary.usersCreated - summary.usersDeleted + INSTRUCTORS.length);
  });

  it('keeps Vietnamese text intact, down to the full-text index', async () => {
    const matches = await count(
      client,
      `SELECT count(*) FROM paragraphs WHERE content_vector @@ to_tsquery('simple', 'phở')`,
    );
    expect(matches).toBeGreaterThan(0);
    expect(await count(client, `SELECT count(*) FROM words WHERE text = 'Tết'`)).toBe(1);
  });

  it('reports progress once per simulated day', () => {
    expect(progress).toEqual(Array.from({ length: 10 }, (_, day) => [day + 1, 10]));
  });
});

describe('determinism', () => {
  const options = { users: 25, days: 6 };

  it('writes identical databases for the same seed, and different ones for another seed', async () => {
    const [first, second, other] = await Promise.all([freshDatabase(), freshDatabase(), freshDatabase()]);
    await learningPack.simulate({ learning: first }, { ...options, seed: 7 });
    await learningPack.simulate({ learning: second }, { ...options, seed: 7 });
    await learningPack.simulate({ learning: other }, { ...options, seed: 8 });
    const firstDump = await dump(first);
    expect(await dump(second)).toEqual(firstDump);
    expect(await dump(other)).not.toEqual(firstDump);
  });
});
