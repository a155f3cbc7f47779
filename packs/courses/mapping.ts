// How the course platform's mirrors become canonical facts (DESIGN §4). Content is courses (and
// their lessons, `course_content`). Activity:
// - logins (user_db.user_session) are the daily visits, each its own session;
// - enrolments (enrollment_db.enrollment) at their enrolment time, and once completed a
//   `course_complete` at the completion time;
// - lesson progress (progress_tracking): one fact per (enrolment, lesson) row, `lesson_complete`
//   once completed, else `lesson_attempt` at the last attempt (the row keeps no earlier attempt);
// - completed payments (payment), valued in cents.
// Ratings are course reviews; exposures and splits come from the pack's ab_exposure/ab_experiment.
import { mirrorTableName } from '../../ingest/source-table.ts';
import type { AbMetric, PackMapping, PackMysqlDatabase } from '../pack.ts';
import { readFileSync } from 'node:fs';

const schema = (file: string) => readFileSync(new URL(`./${file}`, import.meta.url), 'utf8');

/** The product's three services, each with its database as the seed names it. */
export const COURSES_DATABASES = [
  { service: 'course', database: 'course_db', schemaSql: schema('course-db.sql') },
  { service: 'user', database: 'user_db', schemaSql: schema('user-db.sql') },
  { service: 'enrollment', database: 'enrollment_db', schemaSql: schema('enrollment-db.sql') },
] as const satisfies readonly PackMysqlDatabase[];

export type CoursesService = (typeof COURSES_DATABASES)[number]['service'];

/**
 * The mirror of one table: each database is captured as `${source}_${service}` (databaseSource's
 * rule for a pack of several databases), and MySQL mirrors carry the database's name.
 */
export function coursesMirror(source: string, service: CoursesService, table: string): string {
  const database = COURSES_DATABASES.find((each) => each.service === service)?.database ?? service;
  return mirrorTableName(`${source}_${service}`, database, table);
}

/** Over the 7 days after first exposure; the first is the experiments' primary metric. */
export const COURSES_AB_METRICS = [
  { name: 'completed_lesson_7d', measure: 'converted' },
  { name: 'active_days_7d', measure: 'active_days' },
  { name: 'events_7d', measure: 'events' },
  { name: 'revenue_cents_7d', measure: 'value' },
] as const satisfies readonly AbMetric[];

const NO_SCORE = 'CAST(NULL AS Nullable(Int64))';

export function coursesMapping(source: string): PackMapping {
  const mirror = (service: CoursesService, table: string) => coursesMirror(source, service, table);
  const live = (service: CoursesService, table: string) =>
    `(SELECT * FROM ${mirror(service, table)} FINAL WHERE _is_deleted = 0)`;
  return {
    activity: [
      {
        mirror: mirror('user', 'user_session'),
        sourceKey: "concat('user_session:', toString(id))",
        select: `SELECT toString(user_id) AS user_id, toDateTime64(created_at, 3, 'UTC') AS ts, 'login' AS event_type,
            '' AS content_id, '' AS content_type, toString(id) AS session_id, toInt64(0) AS duration_s,
            ${NO_SCORE} AS score, ${NO_SCORE} AS max_score, toUInt8(0) AS is_completion, toInt64(0) AS value
          FROM {mirror} FINAL WHERE _is_deleted = 0 AND created_at IS NOT NULL`,
      },
      {
        mirror: mirror('enrollment', 'enrollment'),
        sourceKey: "concat('enrollment:', toString(id))",
        select: `SELECT toString(user_id) AS user_id, toDateTime64(enrollment_date, 3, 'UTC') AS ts, 'enroll' AS event_type,
            toString(course_id) AS content_id, 'course' AS content_type, '' AS session_id, toInt64(0) AS duration_s,
            ${NO_SCORE} AS score, ${NO_SCORE} AS max_score, toUInt8(0) AS is_completion, toInt64(0) AS value
          FROM {mirror} FINAL WHERE _is_deleted = 0 AND enrollment_date IS NOT NULL`,
      },
      {
        mirror: mirror('enrollment', 'enrollment'),
        sourceKey: "concat('enrollment_completed:', toString(id))",
        select: `SELECT toString(user_id) AS user_id, toDateTime64(completion_date, 3, 'UTC') AS ts,
            'course_complete' AS event_type, toString(course_id) AS content_id, 'course' AS content_type, '' AS session_id,
            toInt64(0) AS duration_s, ${NO_SCORE} AS score, ${NO_SCORE} AS max_score, toUInt8(1) AS is_completion,
            toInt64(0) AS value
          FROM {mirror} FINAL WHERE _is_deleted = 0 AND status = 'COMPLETED' AND completion_date IS NOT NULL`,
      },
      {
        mirror: mirror('enrollment', 'progress_tracking'),
        sourceKey: "concat('progress_tracking:', toString(id))",
        // The learner is the enrolment's: an enrolment row lands before its progress rows (one
        // database, one log), and its user never changes.
        select: `SELECT toString(enrolled_user) AS user_id,
            toDateTime64(if(completed = 1, completed_at, last_attempt_at), 3, 'UTC') AS ts,
            if(completed = 1, 'lesson_complete', 'lesson_attempt') AS event_type, toString(content_id) AS content_id,
            'lesson' AS content_type, '' AS session_id, toInt64(coalesce(time_spent_minutes, 0) * 60) AS duration_s,
            toInt64OrNull(toString(round(score))) AS score, if(score IS NULL, ${NO_SCORE}, toInt64(100)) AS max_score,
            toUInt8(completed = 1) AS is_completion, toInt64(0) AS value
          FROM (SELECT p.*, e.user_id AS enrolled_user FROM {mirror} AS p FINAL
            INNER JOIN ${live('enrollment', 'enrollment')} AS e ON e.id = p.enrollment_id WHERE p._is_deleted = 0)
          WHERE if(completed = 1, completed_at, last_attempt_at) IS NOT NULL`,
      },
      {
        mirror: mirror('enrollment', 'payment'),
        sourceKey: "concat('payment:', toString(id))",
        select: `SELECT toString(enrolled_user) AS user_id, toDateTime64(payment_date, 3, 'UTC') AS ts, 'payment' AS event_type,
            toString(enrolled_course) AS content_id, 'course' AS content_type, '' AS session_id, toInt64(0) AS duration_s,
            ${NO_SCORE} AS score, ${NO_SCORE} AS max_score, toUInt8(0) AS is_completion,
            toInt64(round(amount * 100)) AS value
          FROM (SELECT p.*, e.user_id AS enrolled_user, e.course_id AS enrolled_course FROM {mirror} AS p FINAL
            INNER JOIN ${live('enrollment', 'enrollment')} AS e ON e.id = p.enrollment_id WHERE p._is_deleted = 0)
          WHERE status = 'COMPLETED' AND payment_date IS NOT NULL`,
      },
    ],
    exposures: [
      {
        mirror: mirror('user', 'ab_exposure'),
        sourceKey: "concat('ab_exposure:', toString(id))",
        select: `SELECT experiment, variant, toString(user_id) AS user_id, toDateTime64(exposed_at, 3, 'UTC') AS exposed_at
          FROM {mirror} FINAL WHERE _is_deleted = 0`,
      },
    ],
    ratings: [
      {
        mirror: mirror('course', 'course_review'),
        sourceKey: "concat('course_review:', toString(id))",
        select: `SELECT toString(user_id) AS user_id, toString(course_id) AS content_id, 'course' AS content_type,
            toDate(created_at) AS day, toInt64(rating) AS rating
          FROM {mirror} FINAL WHERE _is_deleted = 0 AND created_at IS NOT NULL`,
      },
    ],
    users: {
      mirrors: [mirror('user', 'user'), mirror('user', 'user_profile'), mirror('user', 'user_session')],
      // Platform: the device_info (web, ios, android) of the user's first session.
      select: `SELECT toString(u.id) AS user_id, toDateTime64(u.created_at, 3, 'UTC') AS signup_at,
          coalesce(p.location, '') AS country, coalesce(s.platform, '') AS platform,
          coalesce(p.timezone, '') AS timezone, coalesce(u.status, '') AS status
        FROM ${live('user', 'user')} AS u
        LEFT JOIN ${live('user', 'user_profile')} AS p ON p.user_id = u.id
        LEFT JOIN (SELECT user_id, argMin(ifNull(device_info, ''), (created_at, id)) AS platform
                   FROM ${live('user', 'user_session')} GROUP BY user_id) AS s ON s.user_id = u.id
        WHERE u.role = 'STUDENT'`,
    },
    content: {
      mirrors: [mirror('course', 'course'), mirror('course', 'course_content')],
      select: `SELECT toString(id) AS content_id, 'course' AS content_type, title, toDateTime64(created_at, 3, 'UTC') AS created_at
          FROM ${live('course', 'course')}
        UNION ALL SELECT toString(id), 'lesson', title, toDateTime64(created_at, 3, 'UTC')
          FROM ${live('course', 'course_content')}`,
    },
    experimentConfigs: {
      mirrors: [mirror('user', 'ab_experiment')],
      select: `SELECT experiment, variant, toFloat64(share) AS share, toUInt64OrNull(toString(planned_n)) AS planned_n
        FROM ${live('user', 'ab_experiment')}`,
    },
    abMetrics: COURSES_AB_METRICS,
    analysisWindowDays: 7,
    viewEventTypes: ['lesson_attempt', 'lesson_complete'],
    startEventType: 'lesson_attempt',
  };
}
