// PostBook's own marts, from its facts (and, for hashtags and names, its mirrors):
// - mart_postbook_daily_activity: posts, comments, reactions, shares, messages, logins and active
//   members per day (rewritten per changed day);
// - mart_postbook_post_engagement: per post, the comments, reactions and shares it received;
// - mart_postbook_author_engagement: per author, posts and the engagement they received;
// - mart_postbook_creator_leaderboard: the 20 authors who received the most engagement;
// - mart_postbook_hashtag_daily: per day and hashtag, the posts using it and their authors.
// Engagement is what other members did to a post: comments, reactions on the post itself (not on its
// comments) and shares; an author's own comments and likes on their post do not count. The
// per-post and per-author marts span all days, so they are recomputed whole (they are small).
import { quoteIdentifier as q, quoteTable, type Warehouse } from '../../warehouse/index.ts';
import { replaceDays, replacePartitions, insertInto, stageOf } from '../../transforms/marts/partitions.ts';
import type { PackMart, PackMartContext } from '../pack.ts';

export const DAILY_ACTIVITY = 'mart_postbook_daily_activity';
export const POST_ENGAGEMENT = 'mart_postbook_post_engagement';
export const AUTHOR_ENGAGEMENT = 'mart_postbook_author_engagement';
export const CREATOR_LEADERBOARD = 'mart_postbook_creator_leaderboard';
export const HASHTAG_DAILY = 'mart_postbook_hashtag_daily';

/** How many authors the leaderboard ranks. */
export const LEADERBOARD_SIZE = 20;

/** The table and its staging twin (partitions.ts swaps partitions in from it). */
function tableDdl(table: string, columns: string, partitionBy: string, orderBy: string): string[] {
  return [
    `CREATE TABLE IF NOT EXISTS ${q(table)} (pack LowCardinality(String), ${columns})
     ENGINE = MergeTree PARTITION BY ${partitionBy} ORDER BY ${orderBy}`,
    `CREATE TABLE IF NOT EXISTS ${quoteTable(stageOf(table))} AS ${q(table)}`,
  ];
}

/** Replaces all of the pack's rows of a mart recomputed whole. */
async function replaceWhole(
  warehouse: Warehouse,
  table: string,
  pack: string,
  select: string,
): Promise<void> {
  await replacePartitions(warehouse, { table, pack, where: '1' }, (stage, params) =>
    insertInto(warehouse, stage, select, params),
  );
}

/** Engagement by others on each live post: (post_id, author_id, created_at, comments, reactions, shares, engaged_users). */
const POST_ENGAGEMENT_SELECT = `
  SELECT p.content_id AS post_id, p.user_id AS author_id, p.ts AS created_at,
    countIf(e.event_type = 'comment') AS comments, countIf(e.event_type = 'reaction') AS reactions,
    countIf(e.event_type = 'share') AS shares,
    uniqExactIf(e.user_id, e.user_id != '') AS engaged_users
  FROM (SELECT content_id, user_id, ts FROM fact_activity WHERE pack = {pack:String} AND event_type = 'post') AS p
  LEFT JOIN (
    SELECT content_id, user_id, event_type FROM fact_activity
    WHERE pack = {pack:String} AND content_type = 'post' AND event_type IN ('comment', 'reaction', 'share')
  ) AS e ON e.content_id = p.content_id AND e.user_id != p.user_id
  GROUP BY p.content_id, p.user_id, p.ts`;

const dailyActivity: PackMart = {
  name: DAILY_ACTIVITY,
  ddl: tableDdl(
    DAILY_ACTIVITY,
    `day Date, posts UInt64, comments UInt64, reactions UInt64, shares UInt64, messages UInt64, logins UInt64,
     active_users UInt64`,
    '(pack, day)',
    '(pack, day)',
  ),
  mirrors: () => [],
  async recompute(warehouse: Warehouse, { pack, days }: PackMartContext) {
    await replaceDays(warehouse, DAILY_ACTIVITY, pack, days, {
      select: `SELECT {pack:String}, day, countIf(event_type = 'post'), countIf(event_type = 'comment'),
          countIf(event_type = 'reaction'), countIf(event_type = 'share'), countIf(event_type = 'message'),
          countIf(event_type = 'login'), uniqExact(user_key)
        FROM fact_activity WHERE pack = {pack:String} AND day IN {days:Array(Date)} GROUP BY day`,
      allDays: 'SELECT day FROM fact_activity WHERE pack = {pack:String}',
    });
  },
};

const postEngagement: PackMart = {
  name: POST_ENGAGEMENT,
  ddl: tableDdl(
    POST_ENGAGEMENT,
    `post_id String, author_id String, created_day Date, comments UInt64, reactions UInt64, shares UInt64,
     engagement UInt64, engaged_users UInt64`,
    'pack',
    '(pack, post_id)',
  ),
  mirrors: () => [],
  async recompute(warehouse: Warehouse, { pack }: PackMartContext) {
    await replaceWhole(
      warehouse,
      POST_ENGAGEMENT,
      pack,
      `SELECT {pack:String}, post_id, author_id, toDate(created_at), comments, reactions, shares,
          comments + reactions + shares, engaged_users
        FROM (${POST_ENGAGEMENT_SELECT})`,
    );
  },
};

const authorEngagement: PackMart = {
  name: AUTHOR_ENGAGEMENT,
  ddl: tableDdl(
    AUTHOR_ENGAGEMENT,
    `author_id String, posts UInt64, comments_received UInt64, reactions_received UInt64, shares_received UInt64,
     engagement_received UInt64, engagement_per_post Float64`,
    'pack',
    '(pack, author_id)',
  ),
  mirrors: () => [],
  async recompute(warehouse: Warehouse, { pack }: PackMartContext) {
    await replaceWhole(
      warehouse,
      AUTHOR_ENGAGEMENT,
      pack,
      `SELECT {pack:String}, author_id, count(), sum(comments), sum(reactions), sum(shares),
          sum(comments + reactions + shares), sum(comments + reactions + shares) / count()
        FROM (${POST_ENGAGEMENT_SELECT}) GROUP BY author_id`,
    );
  },
};

const creatorLeaderboard: PackMart = {
  name: CREATOR_LEADERBOARD,
  ddl: tableDdl(
    CREATOR_LEADERBOARD,
    `rank UInt32, author_id String, username String, posts UInt64, engagement_received UInt64,
     engagement_per_post Float64`,
    'pack',
    '(pack, rank)',
  ),
  // The username shown is the account's current one, from Auth.
  mirrors: (source) => [`raw_${source}_users`],
  async recompute(warehouse: Warehouse, { pack, source }: PackMartContext) {
    await replaceWhole(
      warehouse,
      CREATOR_LEADERBOARD,
      pack,
      `SELECT {pack:String}, toUInt32(row_number() OVER (ORDER BY a.engagement_received DESC, a.author_id)) AS rank,
          a.author_id, coalesce(u.username, ''), a.posts, a.engagement_received, a.engagement_per_post
        FROM (SELECT * FROM ${q(AUTHOR_ENGAGEMENT)} WHERE pack = {pack:String}) AS a
        LEFT JOIN (SELECT toString(user_id) AS author_id, username FROM ${q(`raw_${source}_users`)} FINAL
                   WHERE _is_deleted = 0) AS u USING (author_id)
        ORDER BY rank LIMIT ${LEADERBOARD_SIZE}`,
    );
  },
};

const hashtagDaily: PackMart = {
  name: HASHTAG_DAILY,
  ddl: tableDdl(
    HASHTAG_DAILY,
    'day Date, tag String, posts UInt64, authors UInt64',
    '(pack, day)',
    '(pack, day, tag)',
  ),
  mirrors: (source) => [`raw_${source}_posts`],
  // Every post is a fact on its day, so a post's change (a soft delete too) marks that day changed.
  async recompute(warehouse: Warehouse, { pack, source, days }: PackMartContext) {
    const posts = q(`raw_${source}_posts`);
    await replaceDays(warehouse, HASHTAG_DAILY, pack, days, {
      select: `SELECT {pack:String}, toDate(createdAt) AS day, lower(tag), count(), uniqExact(userId)
        FROM ${posts} FINAL ARRAY JOIN JSONExtract(ifNull(doc, ''), 'hashtags', 'Array(String)') AS tag
        WHERE _is_deleted = 0 AND NOT coalesce(isDeleted, false) AND createdAt IS NOT NULL
          AND toDate(createdAt) IN {days:Array(Date)}
        GROUP BY day, lower(tag)`,
      allDays: `SELECT toDate(createdAt) AS day FROM ${posts} WHERE createdAt IS NOT NULL`,
    });
  },
};

export const postbookMarts: readonly PackMart[] = [
  dailyActivity,
  postEngagement,
  authorEngagement,
  creatorLeaderboard,
  hashtagDaily,
];

export const postbookHeadline = {
  title: 'Creator leaderboard (engagement received from other members)',
  sql: `SELECT rank, username, posts, engagement_received, round(engagement_per_post, 2) AS per_post
    FROM ${CREATOR_LEADERBOARD} WHERE pack = {pack:String} ORDER BY rank LIMIT 10`,
};
