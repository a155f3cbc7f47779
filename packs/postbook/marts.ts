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
import { mirrorTable, quoteIdentifier as q, quoteTable, type Warehouse } from '../../warehouse/index.ts';
import { replaceDays } from '../../transforms/marts/partitions.ts';
import { martTableDdl, wholeMart } from '../common/pack-mart.ts';
import type { PackMart, PackMartContext } from '../pack.ts';

export const DAILY_ACTIVITY = 'mart_postbook_daily_activity';
export const POST_ENGAGEMENT = 'mart_postbook_post_engagement';
export const AUTHOR_ENGAGEMENT = 'mart_postbook_author_engagement';
export const CREATOR_LEADERBOARD = 'mart_postbook_creator_leaderboard';
export const HASHTAG_DAILY = 'mart_postbook_hashtag_daily';

/** How many authors the leaderboard ranks. */
export const LEADERBOARD_SIZE = 20;

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
  ddl: martTableDdl({
    name: DAILY_ACTIVITY,
    comment:
      'PostBook activity per UTC day, from fact_activity: what members did that day, and how many did anything.',
    columns: [
      ['day', 'Date', 'The UTC calendar day.'],
      ['posts', 'UInt64', 'Live original posts created that day (shares are counted apart).'],
      ['comments', 'UInt64', 'Live comments written that day.'],
      ['reactions', 'UInt64', 'Reactions (likes) given that day, on posts and on comments.'],
      ['shares', 'UInt64', 'Posts shared that day.'],
      ['messages', 'UInt64', 'Chat messages sent that day.'],
      ['logins', 'UInt64', 'Successful logins that day (Auth user_login_history).'],
      ['active_users', 'UInt64', 'Distinct members with any of these actions that day.'],
    ],
    partitionBy: '(pack, day)',
    orderBy: 'day',
  }),
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

const postEngagement = wholeMart({
  name: POST_ENGAGEMENT,
  comment: 'Each live post with the engagement other members gave it over the whole history (UTC days).',
  columns: [
    ['post_id', 'String', 'The post (posts._id).'],
    ['author_id', 'String', 'Its author (the Auth user id).'],
    ['created_day', 'Date', 'The UTC day the post was created.'],
    ['comments', 'UInt64', 'Comments by other members on the post.'],
    ['reactions', 'UInt64', 'Reactions by other members on the post itself (not on its comments).'],
    ['shares', 'UInt64', 'Shares of the post by other members.'],
    ['engagement', 'UInt64', 'comments + reactions + shares.'],
    ['engaged_users', 'UInt64', 'Distinct other members who commented, reacted or shared.'],
  ],
  orderBy: 'post_id',
  reads: () => [],
  select: () => `SELECT {pack:String}, post_id, author_id, toDate(created_at), comments, reactions, shares,
      comments + reactions + shares, engaged_users
    FROM (${POST_ENGAGEMENT_SELECT})`,
});

const authorEngagement = wholeMart({
  name: AUTHOR_ENGAGEMENT,
  comment:
    'Each author of a live post with the engagement other members gave their posts, over the whole history.',
  columns: [
    ['author_id', 'String', 'The author (the Auth user id).'],
    ['posts', 'UInt64', 'Their live original posts.'],
    ['comments_received', 'UInt64', 'Comments by other members on those posts.'],
    ['reactions_received', 'UInt64', 'Reactions by other members on those posts themselves.'],
    ['shares_received', 'UInt64', 'Shares of those posts by other members.'],
    ['engagement_received', 'UInt64', 'comments_received + reactions_received + shares_received.'],
    ['engagement_per_post', 'Float64', 'engagement_received / posts.'],
  ],
  orderBy: 'author_id',
  reads: () => [],
  select: () => `SELECT {pack:String}, author_id, count(), sum(comments), sum(reactions), sum(shares),
      sum(comments + reactions + shares), sum(comments + reactions + shares) / count()
    FROM (${POST_ENGAGEMENT_SELECT}) GROUP BY author_id`,
});

// The username shown is the account's current one, from Auth.
const creatorLeaderboard = wholeMart({
  name: CREATOR_LEADERBOARD,
  comment: `The ${LEADERBOARD_SIZE} authors who received the most engagement from other members over the whole history (ties by author id).`,
  columns: [
    ['rank', 'UInt32', 'Place on the board, 1 first.'],
    ['author_id', 'String', 'The author (the Auth user id).'],
    ['username', 'String', 'The author’s current username in Auth (empty when the account is gone).'],
    ['posts', 'UInt64', 'Their live original posts.'],
    ['engagement_received', 'UInt64', 'Comments, reactions and shares by other members on those posts.'],
    ['engagement_per_post', 'Float64', 'engagement_received / posts.'],
  ],
  orderBy: 'rank',
  reads: (source) => [mirrorTable(source, 'users')],
  select: (
    source,
  ) => `SELECT {pack:String}, toUInt32(row_number() OVER (ORDER BY a.engagement_received DESC, a.author_id)) AS rank,
      a.author_id, coalesce(u.username, ''), a.posts, a.engagement_received, a.engagement_per_post
    FROM (SELECT * FROM ${q(AUTHOR_ENGAGEMENT)} WHERE pack = {pack:String}) AS a
    LEFT JOIN (SELECT toString(user_id) AS author_id, username FROM ${quoteTable(mirrorTable(source, 'users'))} FINAL
               WHERE _is_deleted = 0) AS u USING (author_id)
    ORDER BY rank LIMIT ${LEADERBOARD_SIZE}`,
});

const hashtagDaily: PackMart = {
  name: HASHTAG_DAILY,
  ddl: martTableDdl({
    name: HASHTAG_DAILY,
    comment: 'Hashtag usage per UTC day: the live posts created that day with each tag.',
    columns: [
      ['day', 'Date', 'The UTC day the posts were created.'],
      ['tag', 'String', 'The hashtag, lower-cased, without #.'],
      ['posts', 'UInt64', 'Live (not deleted) posts of that day using the tag.'],
      ['authors', 'UInt64', 'Distinct authors of those posts.'],
    ],
    partitionBy: '(pack, day)',
    orderBy: 'day, tag',
  }),
  mirrors: (source) => [mirrorTable(source, 'posts')],
  // Every post is a fact on its day, so a post's change (a soft delete too) marks that day changed.
  async recompute(warehouse: Warehouse, { pack, source, days }: PackMartContext) {
    const posts = quoteTable(mirrorTable(source, 'posts'));
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
