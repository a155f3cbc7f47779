// How the lingo pack's raw mirrors become canonical facts (DESIGN §4), as declarative SQL:
// - every exercise answered (user_exercise_interactions): score 1 when right, out of 1, and the XP
//   it earned as the fact's value;
// - the app's activity log (user_activity_log): app opens ('login', with the session and the
//   device's time zone), lessons started, completed (score in percent, the lesson's XP bonus as
//   value) and quit. The log is the only record of each completion: user_lesson_progress keeps
//   counters and the last one;
// - exposures from the pack's experiment_exposures table, splits from experiment_variants.
// The seed has no ratings. XP per day is value summed; exercise answers carry no session id.
import { mirrorTable } from '../../warehouse/index.ts';
import type { AbMetric, PackMapping } from '../pack.ts';

/** The A/B metrics over the 7 days after first exposure; the first is the primary one. */
export const LINGO_AB_METRICS = [
  { name: 'completed_lesson_7d', measure: 'converted' },
  { name: 'xp_7d', measure: 'value' },
  { name: 'active_days_7d', measure: 'active_days' },
] as const satisfies readonly AbMetric[];

/** Activity types the app logs that are learner actions (the log also audits other things). */
const LOGGED_ACTIONS = "('login', 'lesson_start', 'lesson_complete', 'lesson_quit')";

export function lingoMapping(source: string): PackMapping {
  const mirror = (table: string) => mirrorTable(source, table);
  return {
    activity: [
      {
        mirror: mirror('user_exercise_interactions'),
        sourceKey: "concat('user_exercise_interactions:', toString(id))",
        select: `SELECT toString(user_id) AS user_id, toDateTime64(interaction_at, 3, 'UTC') AS ts,
            'exercise_answer' AS event_type, toString(lesson_id) AS content_id, 'lesson' AS content_type,
            '' AS session_id, toInt64(coalesce(time_spent_seconds, 0)) AS duration_s,
            toInt64(is_correct) AS score, toInt64(1) AS max_score, toUInt8(0) AS is_completion,
            toInt64(coalesce(xp_earned, 0)) AS value
          FROM {mirror} FINAL WHERE _is_deleted = 0 AND interaction_at IS NOT NULL`,
      },
      {
        mirror: mirror('user_activity_log'),
        sourceKey: "concat('user_activity_log:', toString(id))",
        select: `SELECT toString(user_id) AS user_id, toDateTime64(created_at, 3, 'UTC') AS ts,
            activity_type AS event_type, JSONExtractString(ifNull(activity_data, ''), 'lesson_id') AS content_id,
            if(content_id = '', '', 'lesson') AS content_type,
            JSONExtractString(ifNull(activity_data, ''), 'session_id') AS session_id, toInt64(0) AS duration_s,
            if(activity_type = 'lesson_complete', toInt64(JSONExtractInt(ifNull(activity_data, ''), 'score')), NULL) AS score,
            if(activity_type = 'lesson_complete', toInt64(100), NULL) AS max_score,
            toUInt8(activity_type = 'lesson_complete') AS is_completion,
            if(activity_type = 'lesson_complete', JSONExtractInt(ifNull(activity_data, ''), 'xp_earned'), 0) AS value
          FROM {mirror} FINAL
          WHERE _is_deleted = 0 AND created_at IS NOT NULL AND activity_type IN ${LOGGED_ACTIONS}`,
      },
    ],
    exposures: [
      {
        mirror: mirror('experiment_exposures'),
        sourceKey: "concat('experiment_exposures:', toString(id))",
        select: `SELECT experiment, variant, toString(user_id) AS user_id,
            toDateTime64(exposed_at, 3, 'UTC') AS exposed_at
          FROM {mirror} FINAL WHERE _is_deleted = 0`,
      },
    ],
    ratings: [],
    users: {
      mirrors: [mirror('users'), mirror('user_activity_log')],
      // Platform: the one the user's first app open ('login' in the activity log) names.
      select: `SELECT toString(u.id) AS user_id, toDateTime64(u.created_at, 3, 'UTC') AS signup_at, '' AS country,
          coalesce(l.platform, '') AS platform, coalesce(u.timezone, '') AS timezone,
          if(u.is_email_verified, 'verified', 'unverified') AS status
        FROM (SELECT * FROM ${mirror('users')} FINAL WHERE _is_deleted = 0) AS u
        LEFT JOIN (SELECT user_id, argMin(JSONExtractString(ifNull(activity_data, ''), 'platform'), (created_at, toString(id))) AS platform
                   FROM ${mirror('user_activity_log')} FINAL
                   WHERE _is_deleted = 0 AND activity_type = 'login' GROUP BY user_id) AS l ON l.user_id = u.id`,
    },
    content: {
      // A lesson's title places it in its course: section / unit / lesson.
      mirrors: [mirror('lessons'), mirror('units'), mirror('sections')],
      select: `SELECT toString(l.id) AS content_id, 'lesson' AS content_type,
          concat(s.name, ' / ', u.name, ' / ', l.name) AS title, toDateTime64(l.created_at, 3, 'UTC') AS created_at
        FROM (SELECT * FROM ${mirror('lessons')} FINAL WHERE _is_deleted = 0) AS l
        LEFT JOIN (SELECT * FROM ${mirror('units')} FINAL WHERE _is_deleted = 0) AS u ON u.id = l.unit_id
        LEFT JOIN (SELECT * FROM ${mirror('sections')} FINAL WHERE _is_deleted = 0) AS s ON s.id = u.section_id`,
    },
    experimentConfigs: {
      mirrors: [mirror('experiment_variants')],
      select: `SELECT experiment, variant, configured_share AS share, CAST(NULL AS Nullable(UInt64)) AS planned_n
        FROM ${mirror('experiment_variants')} FINAL WHERE _is_deleted = 0`,
    },
    abMetrics: LINGO_AB_METRICS,
    analysisWindowDays: 7,
    viewEventTypes: ['lesson_start'],
    startEventType: 'lesson_start',
  };
}
