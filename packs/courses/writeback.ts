// The course platform's write-back: course_db.course's `rating`, `total_reviews` and
// `current_students`, which the product shows on every course page but whose services never keep
// them in step (reviews live in course_db, enrolments in enrollment_db). Tributary owns the three
// columns: rating = the mean of the live reviews to 2 decimals (half away from zero, as DECIMAL(3,2)
// rounds; 0.00 without reviews), total_reviews = their count, current_students = enrolments still
// ENROLLED or IN_PROGRESS. Only courses whose values changed are written (the engine's hashes, and
// the UPDATE skips a row already holding them), and `updated_at` is left as it was: the course did
// not change in the product's sense.
import type mysql from 'mysql2/promise';
import type { TargetRow, WritebackTarget, WriteResult } from '../../jobs/writeback/engine.ts';
import { quoteTable } from '../../warehouse/index.ts';
import type { PackWritebackContext } from '../pack.ts';
import { coursesMirror } from './mapping.ts';

/** Hundredths as the DECIMAL(3,2) text MySQL takes exactly. */
export function hundredthsText(hundredths: number): string {
  return `${Math.floor(hundredths / 100)}.${String(hundredths % 100).padStart(2, '0')}`;
}

export function coursesTargets(context: PackWritebackContext): WritebackTarget[] {
  const connection = context.mysql?.course;
  return connection ? [courseStatsTarget(connection, context.source)] : [];
}

function courseStatsTarget(connection: mysql.Connection, source: string): WritebackTarget {
  const live = (service: 'course' | 'enrollment', table: string) =>
    `(SELECT * FROM ${quoteTable(coursesMirror(source, service, table))} FINAL WHERE _is_deleted = 0)`;
  return {
    name: 'mysql:course_db.course',
    // The mean rounded half up in integers: sum/count to hundredths, no float in between.
    sql: `SELECT toString(c.id) AS natural_key,
        if(coalesce(r.reviews, 0) = 0, 0, intDiv(r.rating_sum * 200 + r.reviews, 2 * r.reviews)) AS rating_hundredths,
        coalesce(r.reviews, 0) AS total_reviews, coalesce(s.students, 0) AS current_students
      FROM ${live('course', 'course')} AS c
      LEFT JOIN (SELECT course_id, toInt64(count()) AS reviews, toInt64(sum(rating)) AS rating_sum
        FROM ${live('course', 'course_review')} GROUP BY course_id) AS r ON r.course_id = c.id
      LEFT JOIN (SELECT course_id, toInt64(count()) AS students FROM ${live('enrollment', 'enrollment')}
        WHERE status IN ('ENROLLED', 'IN_PROGRESS') GROUP BY course_id) AS s ON s.course_id = c.id`,
    orderBy: 'toInt64(t.natural_key)',
    valueColumns: ['rating_hundredths', 'total_reviews', 'current_students'],
    hashed: true,
    async write(rows: TargetRow[]): Promise<WriteResult> {
      if (rows.length === 0) return { inserted: 0, updated: 0 };
      const values = rows.flatMap((row) => [
        Number(row.natural_key),
        hundredthsText(Number(row.rating_hundredths ?? 0)),
        Number(row.total_reviews ?? 0),
        Number(row.current_students ?? 0),
      ]);
      const [result] = await connection.query<mysql.ResultSetHeader>(
        `UPDATE course AS c JOIN (${rows
          .map((_, index) =>
            index === 0
              ? 'SELECT ? AS id, CAST(? AS DECIMAL(3,2)) AS rating, ? AS total_reviews, ? AS current_students'
              : 'SELECT ?, CAST(? AS DECIMAL(3,2)), ?, ?',
          )
          .join(' UNION ALL ')}) AS v ON v.id = c.id
         SET c.rating = v.rating, c.total_reviews = v.total_reviews, c.current_students = v.current_students,
           c.updated_at = c.updated_at
         WHERE NOT (c.rating <=> v.rating AND c.total_reviews <=> v.total_reviews AND c.current_students <=> v.current_students)`,
        values,
      );
      return { inserted: 0, updated: result.affectedRows };
    },
    async diff(rows: TargetRow[]): Promise<string[]> {
      const shown = rows.slice(0, 3);
      if (shown.length === 0) return [];
      const [current] = await connection.query<mysql.RowDataPacket[]>(
        'SELECT id, rating, total_reviews, current_students FROM course WHERE id IN (?)',
        [shown.map((row) => Number(row.natural_key))],
      );
      return shown.map((row) => {
        const now = current.find((each) => String(each.id) === row.natural_key);
        return `update course ${row.natural_key}: rating ${String(now?.rating)} → ${hundredthsText(Number(row.rating_hundredths))}, total_reviews ${String(now?.total_reviews)} → ${String(row.total_reviews)}, current_students ${String(now?.current_students)} → ${String(row.current_students)}`;
      });
    },
  };
}
