// PostBook's sources as an oracle sees them: the MongoDB documents read with the driver into
// Postgres tables next to the Auth tables, and the view `oracle_facts`, DESIGN §4's fact_activity
// as the pack defines it, written against the sources in plain Postgres SQL. The pack's oracle
// tests compute every mart and write-back from these, independently of the warehouse.
import type { Document } from 'mongodb';
import { insertRows } from './learning-oracle.ts';
import type { PostbookWarehouse } from './postbook-warehouse.ts';

const TABLES: Record<string, string> = {
  o_posts: `id text, user_id text, created_at timestamp, is_deleted boolean, original_post_id text, hashtags text[]`,
  o_comments: 'id text, post_id text, user_id text, created_at timestamp, is_deleted boolean',
  o_likes: 'id text, entity_id text, entity_type text, user_id text, created_at timestamp',
  o_shares: 'id text, original_post_id text, user_id text, created_at timestamp',
  o_messages: 'id text, sender_id text, created_at timestamp, is_deleted boolean',
  o_exposures: 'user_id text, experiment text, variant text, started_at timestamp',
  o_experiments: 'experiment text, variant text, share double precision',
  o_profiles: 'user_id text, friends int, followers int, following int',
  o_media: 'user_id text, file_type text, is_deleted boolean',
};

/** A timestamp column's text: UTC wall-clock time (a `timestamp` column ignores the `Z`). */
const at = (value: unknown) => (value instanceof Date ? value.toISOString() : null);
const hex = (value: unknown) => (value === undefined || value === null ? null : String(value));

export async function loadPostbookOracle({ postgres, db }: PostbookWarehouse): Promise<void> {
  for (const [table, columns] of Object.entries(TABLES))
    await postgres.query(`CREATE TABLE ${table} (${columns})`);
  const all = (collection: string) => db.collection<Document>(collection).find({}).toArray();
  const load = async (table: string, rows: unknown[][]) =>
    insertRows(postgres, table, TABLES[table]?.split(',').length ?? 0, rows);
  await load(
    'o_posts',
    (await all('posts')).map((d) => [
      hex(d._id),
      d.userId,
      at(d.createdAt),
      d.isDeleted === true,
      hex(d.originalPostId),
      d.hashtags ?? [],
    ]),
  );
  await load(
    'o_comments',
    (await all('comments')).map((d) => [
      hex(d._id),
      hex(d.postId),
      d.userId,
      at(d.createdAt),
      d.isDeleted === true,
    ]),
  );
  await load(
    'o_likes',
    (await all('likes')).map((d) => [hex(d._id), hex(d.entityId), d.entityType, d.userId, at(d.createdAt)]),
  );
  await load(
    'o_shares',
    (await all('shares')).map((d) => [hex(d._id), hex(d.originalPostId), d.userId, at(d.createdAt)]),
  );
  await load(
    'o_messages',
    (await all('messages')).map((d) => [hex(d._id), d.senderId, at(d.createdAt), d.isDeleted === true]),
  );
  await load(
    'o_exposures',
    (await all('user_activities'))
      .filter((d) => d.activityType === 'ExperimentExposure')
      .map((d) => {
        const metadata = d.metadata as Document;
        return [d.userId, metadata.experiment, metadata.variant, at(d.createdAt)];
      }),
  );
  await load(
    'o_experiments',
    (await all('experiments')).flatMap((d) =>
      (d.variants as Document[]).map((variant) => [
        d.experimentName,
        variant.name,
        Number(variant.configuredShare),
      ]),
    ),
  );
  await load(
    'o_profiles',
    (await all('user_profiles')).map((d) => [
      d.userId,
      (d.friends as unknown[]).length,
      (d.followers as unknown[]).length,
      (d.following as unknown[]).length,
    ]),
  );
  await load(
    'o_media',
    (await all('media_files')).map((d) => [d.userId, d.fileType, d.isDeleted === true]),
  );
  // The pack's fact_activity, written against the sources.
  await postgres.query(`CREATE VIEW oracle_facts AS
    SELECT user_id, created_at AS ts, 'post' AS event_type, id AS content_id, 'post' AS content_type, 1 AS is_completion,
      1 AS value
    FROM o_posts WHERE NOT is_deleted AND original_post_id IS NULL
    UNION ALL SELECT user_id, created_at, 'comment', post_id, 'post', 0, 1 FROM o_comments WHERE NOT is_deleted
    UNION ALL SELECT user_id, created_at, 'reaction', entity_id, lower(entity_type), 0, 1 FROM o_likes
    UNION ALL SELECT user_id, created_at, 'share', original_post_id, 'post', 0, 1 FROM o_shares
    UNION ALL SELECT sender_id, created_at, 'message', '', '', 0, 0 FROM o_messages WHERE NOT is_deleted
    UNION ALL SELECT user_id::text, date_trunc('milliseconds', login_at), 'login', '', '', 0, 0
    FROM user_login_history WHERE login_status = 'Success' AND user_id IS NOT NULL`);
}
