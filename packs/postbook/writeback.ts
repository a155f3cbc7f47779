// PostBook's write-back (seed 001, DESIGN §6), from the mirrors:
// - `hashtags`: per tag, `count` (live posts using it), `lastUsed`, `createdAt` (first use) and the
//   seed's hourly `trendScore` = uses in the last 24 h × 0.5 + last 7 days × 0.3 + last 30 days × 0.2,
//   as of the run's scheduled time. Tributary alone writes this collection, so capture leaves it out;
// - `user_profiles.statistics`: posts, followers, following, friends, photos and videos of each
//   profile. The profile itself is captured (it is the source of names and friendships), but no
//   mapping or mart reads `statistics`, so writing it changes no mart (the integration test shows it).
// Both are hashed targets: a second run with the same inputs writes nothing.
import type { Db } from 'mongodb';
import type { TargetRow, WritebackTarget } from '../../jobs/writeback/engine.ts';
import { mongoTarget } from '../../jobs/writeback/mongo-target.ts';
import { mirrorTable, quoteTable } from '../../warehouse/index.ts';
import type { PackWriteback, PackWritebackContext } from '../pack.ts';
import { PROFILE_SYNC_COLLECTION } from './denormalize.ts';
import { InvariantError } from '../../errors/index.ts';

/** Collections only Tributary writes (the denormalization sync's records too): capture leaves them out. */
export const POSTBOOK_WRITEBACK_COLLECTIONS = ['hashtags', PROFILE_SYNC_COLLECTION] as const;

/** The trend windows and weights, as the seed gives them. */
export const TREND_WEIGHTS = [
  { hours: 24, weight: 0.5 },
  { hours: 7 * 24, weight: 0.3 },
  { hours: 30 * 24, weight: 0.2 },
] as const;

const LIVE_ORIGINAL_POST = `_is_deleted = 0 AND NOT coalesce(isDeleted, false) AND createdAt IS NOT NULL
  AND JSONExtractString(doc, 'originalPostId', '$oid') = ''`;

const num = (value: unknown) => Number(value);

/** A DateTime64 literal of an instant (from a Date, so nothing but digits reaches the SQL). */
function instant(at: Date): string {
  if (Number.isNaN(at.getTime())) throw new InvariantError('write-back asOf is not a valid date');
  return `fromUnixTimestamp64Milli(toInt64(${at.getTime()}), 'UTC')`;
}

export function hashtagSql(source: string, asOf: Date): string {
  const at = instant(asOf);
  const score = TREND_WEIGHTS.map(
    ({ hours, weight }) => `countIf(createdAt > ${at} - INTERVAL ${hours} HOUR) * ${weight}`,
  ).join(' + ');
  return `SELECT tag AS natural_key, tag, count() AS uses, ${score} AS trend_score,
      toUnixTimestamp64Milli(max(createdAt)) AS last_used_ms, toUnixTimestamp64Milli(min(createdAt)) AS first_used_ms
    FROM (
      SELECT lower(tag) AS tag, createdAt FROM ${quoteTable(mirrorTable(source, 'posts'))} FINAL
      ARRAY JOIN JSONExtract(ifNull(doc, ''), 'hashtags', 'Array(String)') AS tag
      WHERE ${LIVE_ORIGINAL_POST} AND createdAt <= ${at}
    ) GROUP BY tag`;
}

export function statisticsSql(source: string): string {
  const mirror = (name: string) => quoteTable(mirrorTable(source, name));
  const length = (field: string) => `toUInt64(JSONLength(ifNull(p.doc, ''), '${field}'))`;
  return `SELECT p.userId AS natural_key, p.userId AS user_id, ${length('friends')} AS friends,
      ${length('followers')} AS followers, ${length('following')} AS following,
      coalesce(po.posts, 0) AS posts, coalesce(m.photos, 0) AS photos, coalesce(m.videos, 0) AS videos
    FROM (SELECT userId, doc FROM ${mirror('user_profiles')} FINAL WHERE _is_deleted = 0 AND userId IS NOT NULL) AS p
    LEFT JOIN (SELECT userId, count() AS posts FROM ${mirror('posts')} FINAL WHERE ${LIVE_ORIGINAL_POST} GROUP BY userId) AS po
      ON po.userId = p.userId
    LEFT JOIN (
      SELECT userId, countIf(fileType = 'Image') AS photos, countIf(fileType = 'Video') AS videos
      FROM ${mirror('media_files')} FINAL WHERE _is_deleted = 0 AND NOT coalesce(isDeleted, false) GROUP BY userId
    ) AS m ON m.userId = p.userId`;
}

export function postbookTargets(context: PackWritebackContext): WritebackTarget[] {
  const { mongo } = context;
  if (!mongo) return [];
  return [hashtagsTarget(mongo, context), statisticsTarget(mongo, context)];
}

function hashtagsTarget(mongo: Db, { source, asOf }: PackWritebackContext): WritebackTarget {
  return mongoTarget({
    collection: mongo.collection('hashtags'),
    sql: hashtagSql(source, asOf),
    valueColumns: ['uses', 'trend_score', 'last_used_ms', 'first_used_ms'],
    filter: (row: TargetRow) => ({ tag: row.tag }),
    scope: () => ({}),
    fields: (row: TargetRow) => ({
      count: num(row.uses),
      trendScore: num(row.trend_score),
      lastUsed: new Date(num(row.last_used_ms)),
      createdAt: new Date(num(row.first_used_ms)),
    }),
    stampedField: 'updatedAt',
    indexes: [{ key: { tag: 1 }, options: { unique: true } }],
  });
}

function statisticsTarget(mongo: Db, { source }: PackWritebackContext): WritebackTarget {
  return mongoTarget({
    collection: mongo.collection('user_profiles'),
    sql: statisticsSql(source),
    valueColumns: ['friends', 'followers', 'following', 'posts', 'photos', 'videos'],
    filter: (row: TargetRow) => ({ userId: row.user_id }),
    scope: () => ({}),
    fields: (row: TargetRow) => ({
      'statistics.friendsCount': num(row.friends),
      'statistics.followersCount': num(row.followers),
      'statistics.followingCount': num(row.following),
      'statistics.postsCount': num(row.posts),
      'statistics.photosCount': num(row.photos),
      'statistics.videosCount': num(row.videos),
    }),
    indexes: [{ key: { userId: 1 }, options: { unique: true } }],
  });
}

export const postbookWriteback: PackWriteback = {
  collections: POSTBOOK_WRITEBACK_COLLECTIONS,
  targets: postbookTargets,
};
