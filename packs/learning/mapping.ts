// How the learning pack's raw mirrors become canonical facts (DESIGN §4), as declarative SQL:
// - exercises answered (Postgres user_activity_results) and lessons completed (user_lesson_progress)
//   are the authoritative learning actions;
// - MongoDB user_interactions add what Postgres does not see (sessions, lesson starts, paragraphs
//   read, audio played, words looked up), and carry the experiment exposures;
// - lesson reviews are the ratings.
import { mirrorTable } from '../../warehouse/index.ts';
import type { AbMetric, PackMapping } from '../pack.ts';

/** Interaction types Postgres already records as facts: taken from there, not twice. */
const POSTGRES_RECORDED = "('exercise_attempt', 'lesson_complete', 'lesson_fail')";

/** A number in canonical extended JSON (`{"$numberInt": "7"}`, `$numberDouble`, `$numberLong`). */
function ejsonNumber(...path: string[]): string {
  const at = path.map((part) => `'${part}'`).join(', ');
  return `coalesce(toFloat64OrNull(JSONExtractString(doc, ${at}, '$numberInt')), toFloat64OrNull(JSONExtractString(doc, ${at}, '$numberDouble')), toFloat64OrNull(JSONExtractString(doc, ${at}, '$numberLong')))`;
}

/** Over the 7 days after first exposure; the first is the experiments' primary metric. */
export const LEARNING_AB_METRICS = [
  { name: 'completed_lesson_7d', measure: 'converted' },
  { name: 'active_days_7d', measure: 'active_days' },
  { name: 'events_7d', measure: 'events' },
] as const satisfies readonly AbMetric[];

export function learningMapping(source: string): PackMapping {
  const mirror = (table: string) => mirrorTable(source, table);
  return {
    activity: [
      {
        mirror: mirror('user_activity_results'),
        sourceKey: "concat('user_activity_results:', toString(id))",
        select: `SELECT toString(user_id) AS user_id, toDateTime64(completed_at, 3, 'UTC') AS ts,
            'exercise_attempt' AS event_type, toString(lesson_id) AS content_id, 'lesson' AS content_type,
            '' AS session_id, toInt64(coalesce(time_taken, 0)) AS duration_s, toInt64(score) AS score,
            toInt64(max_score) AS max_score, toUInt8(0) AS is_completion, toInt64(coalesce(score, 0)) AS value
          FROM {mirror} FINAL WHERE _is_deleted = 0 AND completed_at IS NOT NULL`,
      },
      {
        mirror: mirror('user_lesson_progress'),
        sourceKey: "concat('user_lesson_progress:', toString(id))",
        // A completed lesson is worth 10 XP: the pack's `value`.
        select: `SELECT toString(user_id) AS user_id, toDateTime64(completed_at, 3, 'UTC') AS ts,
            'lesson_complete' AS event_type, toString(lesson_id) AS content_id, 'lesson' AS content_type,
            '' AS session_id, toInt64(0) AS duration_s, toInt64(score) AS score, toInt64(max_score) AS max_score,
            toUInt8(1) AS is_completion, toInt64(10) AS value
          FROM {mirror} FINAL WHERE _is_deleted = 0 AND status = 'completed' AND completed_at IS NOT NULL`,
      },
      {
        mirror: mirror('user_interactions'),
        sourceKey: "concat('user_interactions:', _id)",
        select: `SELECT coalesce(user_id, '') AS user_id, toDateTime64(timestamp, 3, 'UTC') AS ts,
            coalesce(event_type, '') AS event_type, JSONExtractString(doc, 'content_info', 'content_id') AS content_id,
            JSONExtractString(doc, 'content_info', 'content_type') AS content_type, coalesce(session_id, '') AS session_id,
            toInt64(round(coalesce(${ejsonNumber('interaction_data', 'duration')}, 0))) AS duration_s,
            CAST(NULL AS Nullable(Int64)) AS score, CAST(NULL AS Nullable(Int64)) AS max_score,
            toUInt8(0) AS is_completion, toInt64(0) AS value
          FROM {mirror} FINAL WHERE _is_deleted = 0 AND timestamp IS NOT NULL AND user_id IS NOT NULL
            AND event_type NOT IN ${POSTGRES_RECORDED}`,
      },
    ],
    exposures: [
      {
        mirror: mirror('user_interactions'),
        sourceKey: "concat('user_interactions:', _id)",
        select: `SELECT JSONExtractString(exposure, 'experiment_name') AS experiment,
            JSONExtractString(exposure, 'variant') AS variant, coalesce(user_id, '') AS user_id,
            fromUnixTimestamp64Milli(toInt64(JSONExtractString(exposure, 'started_at', '$date', '$numberLong')), 'UTC') AS exposed_at
          FROM {mirror} FINAL ARRAY JOIN JSONExtractArrayRaw(ifNull(doc, ''), 'experiments') AS exposure
          WHERE _is_deleted = 0 AND user_id IS NOT NULL`,
      },
    ],
    ratings: [
      {
        mirror: mirror('lesson_reviews'),
        sourceKey: "concat('lesson_reviews:', toString(id))",
        select: `SELECT toString(user_id) AS user_id, toString(lesson_id) AS content_id, 'lesson' AS content_type,
            toDate(created_at) AS day, toInt64(rating) AS rating
          FROM {mirror} FINAL WHERE _is_deleted = 0 AND rating IS NOT NULL AND lesson_id IS NOT NULL`,
      },
    ],
    users: {
      mirrors: [mirror('users'), mirror('user_profiles'), mirror('user_sessions')],
      // Platform: device_info.platform of the user's first session (earliest created_at, then id),
      // where they came from; users table and profile do not say.
      select: `SELECT toString(u.id) AS user_id, toDateTime64(u.created_at, 3, 'UTC') AS signup_at,
          coalesce(p.country_code, '') AS country, coalesce(s.platform, '') AS platform,
          coalesce(p.timezone, '') AS timezone, coalesce(u.status, '') AS status
        FROM (SELECT * FROM ${mirror('users')} FINAL WHERE _is_deleted = 0) AS u
        LEFT JOIN (SELECT * FROM ${mirror('user_profiles')} FINAL WHERE _is_deleted = 0) AS p ON p.user_id = u.id
        LEFT JOIN (SELECT user_id, argMin(JSONExtractString(ifNull(device_info, ''), 'platform'), (created_at, toString(id))) AS platform
                   FROM ${mirror('user_sessions')} FINAL WHERE _is_deleted = 0 GROUP BY user_id) AS s ON s.user_id = u.id`,
    },
    content: {
      mirrors: [mirror('lessons'), mirror('paragraphs'), mirror('words')],
      select: `SELECT toString(id) AS content_id, 'lesson' AS content_type, title, toDateTime64(created_at, 3, 'UTC') AS created_at
          FROM ${mirror('lessons')} FINAL WHERE _is_deleted = 0
        UNION ALL SELECT toString(id), 'paragraph', substring(content, 1, 80), toDateTime64(created_at, 3, 'UTC')
          FROM ${mirror('paragraphs')} FINAL WHERE _is_deleted = 0
        UNION ALL SELECT toString(id), 'word', text, toDateTime64(created_at, 3, 'UTC')
          FROM ${mirror('words')} FINAL WHERE _is_deleted = 0`,
    },
    experimentConfigs: {
      mirrors: [mirror('experiments')],
      select: `SELECT JSONExtractString(doc, 'experiment_name') AS experiment, JSONExtractString(arm, 'name') AS variant,
          coalesce(toFloat64OrNull(JSONExtractString(arm, 'configured_share', '$numberDouble')),
            toFloat64OrNull(JSONExtractString(arm, 'configured_share', '$numberInt'))) AS share,
          -- Optional: users per arm the experiment planned for; once reached, the decision reads the
          -- fixed-horizon test instead of the sequential one.
          coalesce(toUInt64OrNull(JSONExtractString(doc, 'planned_sample_size', '$numberInt')),
            toUInt64OrNull(JSONExtractString(doc, 'planned_sample_size', '$numberLong')),
            toUInt64OrNull(JSONExtractString(doc, 'planned_sample_size', '$numberDouble'))) AS planned_n
        FROM ${mirror('experiments')} FINAL ARRAY JOIN JSONExtractArrayRaw(ifNull(doc, ''), 'variants') AS arm
        WHERE _is_deleted = 0`,
    },
    abMetrics: LEARNING_AB_METRICS,
    analysisWindowDays: 7,
    viewEventTypes: ['lesson_start', 'paragraph_read', 'word_click', 'audio_play'],
    startEventType: 'lesson_start',
  };
}
