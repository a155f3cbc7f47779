// The learning pack's sources as an oracle sees them: the MongoDB documents (interactions, exposures,
// experiment configs) read with the driver into Postgres tables next to the source tables, and the
// view `oracle_facts`, DESIGN §4's fact_activity written against the sources in plain Postgres SQL.
// The marts' and the features' oracle tests compute from these, independently of the warehouse.
import type { Document } from 'mongodb';
import type { LearningWarehouse } from './learning-warehouse.ts';

/** The interactions and experiment configs, read with the driver, as Postgres tables. */
export async function loadDocumentsIntoPostgres({
  postgres,
  mongoClient,
  mongoDatabase,
}: Pick<LearningWarehouse, 'postgres' | 'mongoClient' | 'mongoDatabase'>): Promise<void> {
  await postgres.query(`CREATE TABLE oracle_interactions (user_id text, session_id text, event_type text,
    ts timestamp, content_id text, content_type text, duration double precision)`);
  await postgres.query(
    `CREATE TABLE oracle_exposures (user_id text, experiment text, variant text, started_at timestamp)`,
  );
  await postgres.query(
    `CREATE TABLE oracle_experiments (experiment text, variant text, share double precision)`,
  );
  const db = mongoClient.db(mongoDatabase);
  const interactions = await db.collection<Document>('user_interactions').find({}).toArray();
  const exposures: unknown[][] = [];
  const rows = interactions.map((doc) => {
    for (const entry of (doc.experiments ?? []) as Document[])
      exposures.push([doc.user_id, entry.experiment_name, entry.variant, entry.started_at]);
    const content = (doc.content_info ?? {}) as Document;
    return [
      doc.user_id,
      doc.session_id,
      doc.event_type,
      doc.timestamp,
      content.content_id ?? null,
      content.content_type ?? null,
      Number((doc.interaction_data as Document | undefined)?.duration ?? 0),
    ];
  });
  await insertRows(postgres, 'oracle_interactions', 7, rows);
  await insertRows(postgres, 'oracle_exposures', 4, exposures);
  const configs = await db.collection<Document>('experiments').find({}).toArray();
  await insertRows(
    postgres,
    'oracle_experiments',
    3,
    configs.flatMap((config) =>
      (config.variants as Document[]).map((variant) => [
        config.experiment_name,
        variant.name,
        Number(variant.configured_share),
      ]),
    ),
  );
  // DESIGN §4's fact_activity, as the pack defines it, written against the sources.
  await postgres.query(`CREATE VIEW oracle_facts AS
    SELECT user_id::text, date_trunc('milliseconds', completed_at) AS ts, 'exercise_attempt' AS event_type,
      lesson_id::text AS content_id, 'lesson' AS content_type, '' AS session_id, coalesce(time_taken, 0)::bigint AS duration_s,
      score::bigint AS score, max_score::bigint AS max_score, 0 AS is_completion, coalesce(score, 0)::bigint AS value
    FROM user_activity_results WHERE completed_at IS NOT NULL
    UNION ALL
    SELECT user_id::text, date_trunc('milliseconds', completed_at), 'lesson_complete', lesson_id::text, 'lesson', '', 0,
      score, max_score, 1, 10
    FROM user_lesson_progress WHERE status = 'completed' AND completed_at IS NOT NULL
    UNION ALL
    SELECT user_id, ts, event_type, coalesce(content_id, ''), coalesce(content_type, ''), coalesce(session_id, ''),
      round(duration)::bigint, NULL, NULL, 0, 0
    FROM oracle_interactions WHERE event_type NOT IN ('exercise_attempt', 'lesson_complete', 'lesson_fail')`);
}

export async function insertRows(
  postgres: LearningWarehouse['postgres'],
  table: string,
  width: number,
  rows: unknown[][],
) {
  for (let start = 0; start < rows.length; start += 1000) {
    const chunk = rows.slice(start, start + 1000);
    const placeholders = chunk.map(
      (_, row) =>
        `(${Array.from({ length: width }, (_, column) => `$${row * width + column + 1}`).join(', ')})`,
    );
    await postgres.query(`INSERT INTO ${table} VALUES ${placeholders.join(', ')}`, chunk.flat());
  }
}

/**
 * dim_users' segment columns as the learning pack defines them, from the source tables: the
 * country of the profile, the platform (device_info.platform) of the user's first session, the
 * signup day. Columns user_id, country, platform, signup_day.
 */
export const LEARNING_USERS_ORACLE = `SELECT u.id::text AS user_id, coalesce(p.country_code, '') AS country,
    coalesce((SELECT s.device_info->>'platform' FROM user_sessions s WHERE s.user_id = u.id
              ORDER BY s.created_at, s.id::text LIMIT 1), '') AS platform,
    u.created_at::date AS signup_day
  FROM users u LEFT JOIN user_profiles p ON p.user_id = u.id`;
