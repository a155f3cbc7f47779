// How PostBook's raw mirrors become canonical facts (DESIGN §4):
// - activity: posts written (the completion: what exp_composer_v2 moves), comments, reactions
//   (likes on posts and comments), shares and chat messages from MongoDB; successful logins from
//   Auth's user_login_history. Soft-deleted posts, comments and messages leave the facts, as an
//   unlike (a hard delete) does;
// - exposures: the `ExperimentExposure` entries of the user_activities timeline;
// - content: the posts (a share is a reference to its original, not content of its own);
// - users: Auth's accounts, with country and timezone from the profile.
import { mirrorTable } from '../../warehouse/index.ts';
import type { PackMapping } from '../pack.ts';

/** The A/B metrics the pack reports, each a generic per-user measure over the analysis window. */
export const POSTBOOK_AB_METRICS = [
  { name: 'posted_7d', measure: 'converted' },
  { name: 'active_days_7d', measure: 'active_days' },
  { name: 'actions_7d', measure: 'events' },
] as const;

/** A fact's columns after user_id, ts, event_type, content_id and content_type, for a Mongo action. */
const ACTION = `'' AS session_id, toInt64(0) AS duration_s, CAST(NULL AS Nullable(Int64)) AS score,
  CAST(NULL AS Nullable(Int64)) AS max_score`;
const LIVE_DOCUMENT = '_is_deleted = 0 AND NOT coalesce(isDeleted, false)';

/** An ObjectId-valued field of the document, as its hex text. */
const oid = (field: string) => `JSONExtractString(doc, '${field}', '$oid')`;

export function postbookMapping(source: string): PackMapping {
  const mirror = (name: string) => mirrorTable(source, name);
  return {
    activity: [
      {
        mirror: mirror('posts'),
        sourceKey: "concat('posts:', _id)",
        // Writing a post is the completion, worth 1 like every other engagement (`value`).
        select: `SELECT coalesce(userId, '') AS user_id, toDateTime64(createdAt, 3, 'UTC') AS ts, 'post' AS event_type,
            _id AS content_id, 'post' AS content_type, ${ACTION}, toUInt8(1) AS is_completion, toInt64(1) AS value
          FROM {mirror} FINAL
          WHERE ${LIVE_DOCUMENT} AND userId IS NOT NULL AND createdAt IS NOT NULL AND ${oid('originalPostId')} = ''`,
      },
      {
        mirror: mirror('comments'),
        sourceKey: "concat('comments:', _id)",
        select: `SELECT coalesce(userId, '') AS user_id, toDateTime64(createdAt, 3, 'UTC') AS ts, 'comment' AS event_type,
            ${oid('postId')} AS content_id, 'post' AS content_type, ${ACTION}, toUInt8(0) AS is_completion, toInt64(1) AS value
          FROM {mirror} FINAL WHERE ${LIVE_DOCUMENT} AND userId IS NOT NULL AND createdAt IS NOT NULL`,
      },
      {
        mirror: mirror('likes'),
        sourceKey: "concat('likes:', _id)",
        select: `SELECT coalesce(userId, '') AS user_id, toDateTime64(createdAt, 3, 'UTC') AS ts, 'reaction' AS event_type,
            ${oid('entityId')} AS content_id, lower(coalesce(entityType, '')) AS content_type, ${ACTION},
            toUInt8(0) AS is_completion, toInt64(1) AS value
          FROM {mirror} FINAL WHERE _is_deleted = 0 AND userId IS NOT NULL AND createdAt IS NOT NULL`,
      },
      {
        mirror: mirror('shares'),
        sourceKey: "concat('shares:', _id)",
        select: `SELECT coalesce(userId, '') AS user_id, toDateTime64(createdAt, 3, 'UTC') AS ts, 'share' AS event_type,
            ${oid('originalPostId')} AS content_id, 'post' AS content_type, ${ACTION}, toUInt8(0) AS is_completion,
            toInt64(1) AS value
          FROM {mirror} FINAL WHERE _is_deleted = 0 AND userId IS NOT NULL AND createdAt IS NOT NULL`,
      },
      {
        mirror: mirror('messages'),
        sourceKey: "concat('messages:', _id)",
        select: `SELECT coalesce(senderId, '') AS user_id, toDateTime64(createdAt, 3, 'UTC') AS ts, 'message' AS event_type,
            '' AS content_id, '' AS content_type, ${ACTION}, toUInt8(0) AS is_completion, toInt64(0) AS value
          FROM {mirror} FINAL WHERE ${LIVE_DOCUMENT} AND senderId IS NOT NULL AND createdAt IS NOT NULL`,
      },
      {
        mirror: mirror('user_login_history'),
        sourceKey: "concat('user_login_history:', toString(login_id))",
        select: `SELECT toString(user_id) AS user_id, toDateTime64(login_at, 3, 'UTC') AS ts, 'login' AS event_type,
            '' AS content_id, '' AS content_type, ${ACTION}, toUInt8(0) AS is_completion, toInt64(0) AS value
          FROM {mirror} FINAL
          WHERE _is_deleted = 0 AND login_status = 'Success' AND user_id IS NOT NULL AND login_at IS NOT NULL`,
      },
    ],
    exposures: [
      {
        mirror: mirror('user_activities'),
        sourceKey: "concat('user_activities:', _id)",
        select: `SELECT JSONExtractString(doc, 'metadata', 'experiment') AS experiment,
            JSONExtractString(doc, 'metadata', 'variant') AS variant, coalesce(userId, '') AS user_id,
            toDateTime64(createdAt, 3, 'UTC') AS exposed_at
          FROM {mirror} FINAL
          WHERE _is_deleted = 0 AND activityType = 'ExperimentExposure' AND userId IS NOT NULL AND createdAt IS NOT NULL`,
      },
    ],
    ratings: [],
    users: {
      mirrors: [mirror('users'), mirror('user_profiles'), mirror('user_login_history')],
      // Platform: the device_type (Mobile, Web, Desktop) of the user's first successful login still
      // in the history (Auth keeps 90 days of it).
      select: `SELECT toString(u.user_id) AS user_id, toDateTime64(u.created_at, 3, 'UTC') AS signup_at,
          JSONExtractString(ifNull(p.doc, ''), 'location', 'country') AS country,
          coalesce(l.platform, '') AS platform,
          JSONExtractString(ifNull(p.doc, ''), 'accountSettings', 'timezone') AS timezone,
          coalesce(u.account_status, '') AS status
        FROM (SELECT * FROM ${mirror('users')} FINAL WHERE _is_deleted = 0) AS u
        LEFT JOIN (SELECT userId, doc FROM ${mirror('user_profiles')} FINAL WHERE _is_deleted = 0) AS p
          ON p.userId = toString(u.user_id)
        LEFT JOIN (SELECT user_id, argMin(ifNull(device_type, ''), (login_at, login_id)) AS platform
                   FROM ${mirror('user_login_history')} FINAL
                   WHERE _is_deleted = 0 AND login_status = 'Success' GROUP BY user_id) AS l ON l.user_id = u.user_id`,
    },
    content: {
      mirrors: [mirror('posts')],
      select: `SELECT _id AS content_id, 'post' AS content_type, substring(JSONExtractString(doc, 'content'), 1, 80) AS title,
          toDateTime64(createdAt, 3, 'UTC') AS created_at
        FROM ${mirror('posts')} FINAL
        WHERE ${LIVE_DOCUMENT} AND createdAt IS NOT NULL AND ${oid('originalPostId')} = ''`,
    },
    experimentConfigs: {
      mirrors: [mirror('experiments')],
      select: `SELECT JSONExtractString(doc, 'experimentName') AS experiment, JSONExtractString(arm, 'name') AS variant,
          coalesce(toFloat64OrNull(JSONExtractString(arm, 'configuredShare', '$numberDouble')),
            toFloat64OrNull(JSONExtractString(arm, 'configuredShare', '$numberInt'))) AS share,
          CAST(NULL AS Nullable(UInt64)) AS planned_n
        FROM ${mirror('experiments')} FINAL ARRAY JOIN JSONExtractArrayRaw(ifNull(doc, ''), 'variants') AS arm
        WHERE _is_deleted = 0`,
    },
    abMetrics: POSTBOOK_AB_METRICS,
    analysisWindowDays: 7,
    // Engaging with a post means having seen it.
    viewEventTypes: ['comment', 'reaction', 'share'],
    startEventType: 'post',
  };
}
