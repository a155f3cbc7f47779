// The course platform's own marts, each small (a row per course, or per course and week) and so
// recomputed whole on every run, swapped in as the pack's partition:
// - mart_courses_funnel: per course and enrolment week (Monday), the enrolments of that week and
//   how many of them started (any lesson worked on), reached 50% and completed the course;
// - mart_courses_revenue: per course (with its instructor), completed and refunded payments;
// - mart_courses_reviews: per reviewed course, the reviews' count, mean and distribution.
// They read what the students and the services did, never the course columns the write-back owns
// (rating, total_reviews, current_students), so a write-back changes no mart.
import { quoteTable } from '../../warehouse/index.ts';
import { wholeMart, type MartColumn } from '../common/pack-mart.ts';
import type { PackMart } from '../pack.ts';
import { coursesMirror, type CoursesService } from './mapping.ts';

/** The pack's live rows of one mirror. */
const live = (source: string, service: CoursesService, table: string) =>
  `(SELECT * FROM ${quoteTable(coursesMirror(source, service, table))} FINAL WHERE _is_deleted = 0)`;

/** A courses mart recomputed whole, reading the given (service, table) mirrors. */
function coursesMart(
  name: string,
  comment: string,
  columns: readonly MartColumn[],
  orderBy: string,
  reads: [CoursesService, string][],
  select: (source: string) => string,
): PackMart {
  return wholeMart({
    name,
    comment,
    columns,
    orderBy,
    reads: (source) => reads.map(([service, table]) => coursesMirror(source, service, table)),
    select,
  });
}

export const funnelMart = coursesMart(
  'mart_courses_funnel',
  'Courses pack: per course and enrolment week, the enrolments and how far they got',
  [
    ['course_id', 'String', 'course.id'],
    ['week', 'Date', 'Monday of the enrolment week (UTC)'],
    ['enrolled', 'UInt64', 'enrolments made that week (any status now)'],
    ['started', 'UInt64', 'of them, with any lesson worked on (a progress_tracking row)'],
    ['half_way', 'UInt64', 'of them, with progress_percentage >= 50'],
    ['completed', 'UInt64', 'of them, with status COMPLETED'],
    ['start_rate', 'Float64', 'started / enrolled'],
    ['half_way_rate', 'Float64', 'half_way / enrolled'],
    ['completion_rate', 'Float64', 'completed / enrolled'],
  ],
  'course_id, week',
  [
    ['enrollment', 'enrollment'],
    ['enrollment', 'progress_tracking'],
  ],
  (source) => `SELECT {pack:String} AS pack, course_id, week, enrolled, started, half_way, completed,
      started / enrolled AS start_rate, half_way / enrolled AS half_way_rate, completed / enrolled AS completion_rate
    FROM (
      SELECT toString(e.course_id) AS course_id, toMonday(e.enrollment_date) AS week, count() AS enrolled,
        countIf(p.enrollment_id != 0) AS started, countIf(e.progress_percentage >= 50) AS half_way,
        countIf(e.status = 'COMPLETED') AS completed
      FROM ${live(source, 'enrollment', 'enrollment')} AS e
      LEFT JOIN (SELECT DISTINCT enrollment_id FROM ${live(source, 'enrollment', 'progress_tracking')}) AS p
        ON p.enrollment_id = e.id
      WHERE e.enrollment_date IS NOT NULL
      GROUP BY course_id, week)`,
);

export const revenueMart = coursesMart(
  'mart_courses_revenue',
  'Courses pack: per course, completed and refunded payments',
  [
    ['course_id', 'String', 'course.id'],
    ['instructor_id', 'String', 'course.instructor_id (user_db.user.id)'],
    ['title', 'String', 'course.title'],
    ['paid_enrolments', 'UInt64', 'payments with status COMPLETED for enrolments in the course'],
    ['revenue_cents', 'Int64', 'their amounts, in cents'],
    ['refunds', 'UInt64', 'payments with status REFUNDED'],
    ['refunded_cents', 'Int64', 'their amounts, in cents'],
  ],
  'course_id',
  [
    ['course', 'course'],
    ['enrollment', 'enrollment'],
    ['enrollment', 'payment'],
  ],
  (
    source,
  ) => `SELECT {pack:String} AS pack, toString(c.id) AS course_id, toString(c.instructor_id) AS instructor_id,
      c.title AS title, r.paid AS paid_enrolments, r.revenue AS revenue_cents, r.refunds AS refunds,
      r.refunded AS refunded_cents
    FROM ${live(source, 'course', 'course')} AS c
    -- A course without payments joins zeros (the join's defaults).
    LEFT JOIN (
      SELECT e.course_id AS course_id, countIf(p.status = 'COMPLETED') AS paid,
        sumIf(toInt64(round(p.amount * 100)), p.status = 'COMPLETED') AS revenue,
        countIf(p.status = 'REFUNDED') AS refunds, sumIf(toInt64(round(p.amount * 100)), p.status = 'REFUNDED') AS refunded
      FROM ${live(source, 'enrollment', 'payment')} AS p
      JOIN ${live(source, 'enrollment', 'enrollment')} AS e ON e.id = p.enrollment_id
      GROUP BY e.course_id) AS r ON r.course_id = c.id`,
);

export const reviewsMart = coursesMart(
  'mart_courses_reviews',
  'Courses pack: per reviewed course, the ratings of its live reviews',
  [
    ['course_id', 'String', 'course.id'],
    ['reviews', 'UInt64', 'live course_review rows'],
    ['rating_avg', 'Float64', 'their mean rating (1-5)'],
    ['rating_1', 'UInt64', 'reviews rating 1'],
    ['rating_2', 'UInt64', 'reviews rating 2'],
    ['rating_3', 'UInt64', 'reviews rating 3'],
    ['rating_4', 'UInt64', 'reviews rating 4'],
    ['rating_5', 'UInt64', 'reviews rating 5'],
  ],
  'course_id',
  [['course', 'course_review']],
  (source) => `SELECT {pack:String} AS pack, toString(course_id) AS course_id, count() AS reviews,
      avg(rating) AS rating_avg, countIf(rating = 1) AS rating_1, countIf(rating = 2) AS rating_2,
      countIf(rating = 3) AS rating_3, countIf(rating = 4) AS rating_4, countIf(rating = 5) AS rating_5
    FROM ${live(source, 'course', 'course_review')}
    GROUP BY course_id`,
);

export const COURSES_MARTS = [funnelMart, revenueMart, reviewsMart] as const;

/** The demo's closing table: the best-selling courses, with their funnel and reviews. */
export const COURSES_HEADLINE = {
  title: 'Top courses by revenue (completed payments), with their enrolment funnel and reviews',
  sql: `SELECT r.title AS course, r.instructor_id AS instructor, r.paid_enrolments AS paid, r.revenue_cents / 100 AS revenue,
      r.refunds AS refunds, f.enrolled AS enrolled, f.started AS started, f.half_way AS half_way, f.completed AS completed,
      v.reviews AS reviews, v.rating_avg AS rating
    FROM (SELECT * FROM mart_courses_revenue WHERE pack = {pack:String}) AS r
    LEFT JOIN (
      SELECT course_id, sum(enrolled) AS enrolled, sum(started) AS started, sum(half_way) AS half_way,
        sum(completed) AS completed
      FROM mart_courses_funnel WHERE pack = {pack:String} GROUP BY course_id) AS f ON f.course_id = r.course_id
    LEFT JOIN (SELECT * FROM mart_courses_reviews WHERE pack = {pack:String}) AS v ON v.course_id = r.course_id
    ORDER BY r.revenue_cents DESC, r.course_id LIMIT 10`,
};
