// The courses oracle: every generic mart and every pack mart computed a second time, independently —
// plain SQL written here, run by MariaDB over the three source databases — and compared with what
// the transforms built in ClickHouse from the native MySQL captures: counts exactly, rates and means
// to 1e-9. Then the write-back: its values against MariaDB's own, idempotent, changing exactly the
// courses a source change affects and no mart.
import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runTarget, type WritebackTarget } from '../../jobs/writeback/engine.ts';
import { coursesWarehouse, SOURCE, type CoursesWarehouse } from '../../test/courses-warehouse.ts';
import { MYSQL_SERVER } from '../../test/mysql.ts';
import { expectSameRows, type Row } from '../../test/same-rows.ts';
import { runTransforms } from '../../transforms/run.ts';
import { coursesPack } from './index.ts';

const PACK = 'courses';
const VIEWS = `('lesson_attempt', 'lesson_complete')`;
let data: CoursesWarehouse;
let oracleConnection: mysql.Connection;

beforeAll(async () => {
  data = await coursesWarehouse({ users: 150, days: 28, seed: 5 });
  await transform();
  oracleConnection = await mysql.createConnection({
    uri: data.server.url,
    dateStrings: true,
    multipleStatements: true,
  });
  await oracleConnection.query("SET time_zone = '+00:00'");
  // DESIGN §4's fact_activity as the pack defines it, written against the sources.
  await oracleConnection.query(`DROP DATABASE IF EXISTS courses_oracle; CREATE DATABASE courses_oracle;
    CREATE TABLE courses_oracle.facts AS SELECT f.*, DATE(f.ts) AS day FROM (
      SELECT CAST(user_id AS CHAR) AS user_id, created_at AS ts, 'login' AS event_type, '' AS content_id,
        '' AS content_type, CAST(id AS CHAR) AS session_id, 0 AS duration_s, CAST(NULL AS SIGNED) AS score,
        CAST(NULL AS SIGNED) AS max_score, 0 AS is_completion, 0 AS value
      FROM user_db.user_session
      UNION ALL SELECT CAST(user_id AS CHAR), enrollment_date, 'enroll', CAST(course_id AS CHAR), 'course', '', 0, NULL, NULL, 0, 0
      FROM enrollment_db.enrollment
      UNION ALL SELECT CAST(user_id AS CHAR), completion_date, 'course_complete', CAST(course_id AS CHAR), 'course', '', 0,
        NULL, NULL, 1, 0
      FROM enrollment_db.enrollment WHERE status = 'COMPLETED' AND completion_date IS NOT NULL
      UNION ALL SELECT CAST(e.user_id AS CHAR), IF(p.completed, p.completed_at, p.last_attempt_at),
        IF(p.completed, 'lesson_complete', 'lesson_attempt'), CAST(p.content_id AS CHAR), 'lesson', '',
        p.time_spent_minutes * 60, ROUND(p.score), IF(p.score IS NULL, NULL, 100), IF(p.completed, 1, 0), 0
      FROM enrollment_db.progress_tracking p JOIN enrollment_db.enrollment e ON e.id = p.enrollment_id
      UNION ALL SELECT CAST(e.user_id AS CHAR), p.payment_date, 'payment', CAST(e.course_id AS CHAR), 'course', '', 0,
        NULL, NULL, 0, ROUND(p.amount * 100)
      FROM enrollment_db.payment p JOIN enrollment_db.enrollment e ON e.id = p.enrollment_id
      WHERE p.status = 'COMPLETED' AND p.payment_date IS NOT NULL) AS f;
    ALTER TABLE courses_oracle.facts ADD INDEX (day), ADD INDEX (user_id)`);
}, 600_000);
afterAll(async () => {
  await oracleConnection?.end();
  await data?.close();
});

function transformOptions() {
  return {
    warehouse: data.warehouse,
    pack: PACK,
    source: SOURCE,
    mapping: coursesPack.mapping(SOURCE),
    marts: coursesPack.marts,
  };
}

function transform() {
  return runTransforms(transformOptions());
}

async function oracle(sql: string): Promise<Row[]> {
  const [rows] = await oracleConnection.query<mysql.RowDataPacket[]>(sql);
  return rows as Row[];
}

async function mart(sql: string): Promise<Row[]> {
  return data.warehouse.query<Row>(sql, { pack: PACK });
}

async function factBounds(): Promise<{ first: string; last: string; lastTs: string }> {
  const [row] = await oracle(
    'SELECT MIN(day) AS first, MAX(day) AS last, MAX(ts) AS lastTs FROM courses_oracle.facts',
  );
  return { first: String(row?.first), last: String(row?.last), lastTs: String(row?.lastTs) };
}

const MARTS = [
  'mart_daily_user_metrics',
  'mart_dau',
  'mart_content_performance',
  'mart_retention',
  'mart_ab_results',
  ...(coursesPack.marts ?? []).map((each) => each.name),
];

/** Every mart's rows of the pack, as ClickHouse writes them (TSV, sorted). */
async function martsText(): Promise<Record<string, string>> {
  const texts: Record<string, string> = {};
  for (const name of MARTS)
    texts[name] = (
      await data.warehouse.queryBytes(
        `SELECT * EXCEPT (pack) FROM ${name} WHERE pack = {pack:String} ORDER BY ALL`,
        'TabSeparated',
        {
          pack: PACK,
        },
      )
    ).toString('utf8');
  return texts;
}

describe(`courses marts against an independent MariaDB oracle (${MYSQL_SERVER})`, () => {
  it("dim_users' platform: the device_info of each student's first session", async () => {
    const rows = await mart(`SELECT user_id, platform FROM dim_users WHERE pack = {pack:String}`);
    expectSameRows(
      rows,
      await oracle(`SELECT CAST(u.id AS CHAR) AS user_id,
          COALESCE((SELECT s.device_info FROM user_db.user_session s WHERE s.user_id = u.id
                    ORDER BY s.created_at, s.id LIMIT 1), '') AS platform
        FROM user_db.user u WHERE u.role = 'STUDENT'`),
      ['user_id'],
    );
    // Not vacuous: students came from more than one platform.
    expect(
      new Set(rows.map((row) => row.platform).filter((platform) => platform !== '')).size,
    ).toBeGreaterThan(1);
  });

  it('mart_daily_user_metrics', async () => {
    expectSameRows(
      await mart(`SELECT toString(day) AS day, user_id, events, sessions, active_seconds, content_views, completions,
          score_sum, score_count, value FROM mart_daily_user_metrics WHERE pack = {pack:String}`),
      await oracle(`SELECT CAST(day AS CHAR) AS day, user_id, COUNT(*) AS events,
          COUNT(DISTINCT CASE WHEN session_id <> '' THEN session_id END) AS sessions, SUM(duration_s) AS active_seconds,
          COUNT(DISTINCT CASE WHEN content_id <> '' AND event_type IN ${VIEWS} THEN content_id END) AS content_views,
          SUM(is_completion) AS completions, COALESCE(SUM(score), 0) AS score_sum, COUNT(score) AS score_count,
          SUM(value) AS value
        FROM courses_oracle.facts GROUP BY day, user_id`),
      ['day', 'user_id'],
    );
  });

  it('mart_dau', async () => {
    const { first, last } = await factBounds();
    const users = (from: string) =>
      `(SELECT COUNT(DISTINCT user_id) FROM courses_oracle.facts f WHERE f.day BETWEEN ${from} AND d.day)`;
    expectSameRows(
      await mart(
        `SELECT toString(day) AS day, dau, wau, mau, stickiness FROM mart_dau WHERE pack = {pack:String}`,
      ),
      await oracle(`WITH RECURSIVE days(day) AS (SELECT DATE('${first}') UNION ALL SELECT day + INTERVAL 1 DAY FROM days WHERE day < '${last}')
        SELECT CAST(d.day AS CHAR) AS day, ${users('d.day')} AS dau, ${users('d.day - INTERVAL 6 DAY')} AS wau,
          ${users('d.day - INTERVAL 27 DAY')} AS mau, 1e0 * ${users('d.day')} / NULLIF(${users('d.day - INTERVAL 27 DAY')}, 0) AS stickiness
        FROM days d`),
      ['day'],
    );
  });

  it('mart_content_performance', async () => {
    expectSameRows(
      await mart(`SELECT toString(day) AS day, content_id, content_type, unique_users, views, completions, completion_rate,
          avg_time_spent_s, avg_score, pass_rate, bounce_rate, rating_avg, rating_count, starters, completers, scorers, passers
        FROM mart_content_performance WHERE pack = {pack:String}`),
      await oracle(`WITH per_user AS (
          SELECT day, content_id, content_type, user_id, COUNT(*) AS events, SUM(event_type IN ${VIEWS}) AS views,
            SUM(event_type = 'lesson_attempt') AS starts, SUM(is_completion) AS completions, SUM(duration_s) AS seconds,
            COALESCE(SUM(score), 0) AS score_sum, COUNT(score) AS scored,
            SUM(score IS NOT NULL AND max_score > 0 AND score * 10 >= max_score * 7) AS passed
          FROM courses_oracle.facts WHERE content_id <> '' GROUP BY day, content_id, content_type, user_id),
        activity AS (
          SELECT day, content_id, content_type, COUNT(*) AS unique_users, SUM(views) AS views,
            SUM(completions) AS completions, SUM(completions > 0) AS completers,
            -- A completion whose start was on an earlier day counts as a start on the completion day.
            SUM(starts > 0 OR completions > 0) AS starters, SUM(seconds) AS seconds, SUM(score_sum) AS score_sum,
            SUM(scored) AS scored, SUM(scored > 0) AS scorers, SUM(passed > 0) AS passers, SUM(events = 1) AS bounced
          FROM per_user GROUP BY day, content_id, content_type),
        ratings AS (
          SELECT DATE(created_at) AS day, CAST(course_id AS CHAR) AS content_id, 'course' AS content_type,
            COUNT(*) AS rating_count, SUM(rating) AS rating_sum
          FROM course_db.course_review GROUP BY 1, 2, 3),
        keyed AS (SELECT day, content_id, content_type FROM activity UNION SELECT day, content_id, content_type FROM ratings)
        SELECT CAST(k.day AS CHAR) AS day, k.content_id, k.content_type, COALESCE(a.unique_users, 0) AS unique_users,
          COALESCE(a.views, 0) AS views, COALESCE(a.completions, 0) AS completions,
          1e0 * a.completers / NULLIF(a.starters, 0) AS completion_rate,
          1e0 * a.seconds / NULLIF(a.unique_users, 0) AS avg_time_spent_s,
          1e0 * a.score_sum / NULLIF(a.scored, 0) AS avg_score, 1e0 * a.passers / NULLIF(a.scorers, 0) AS pass_rate,
          1e0 * a.bounced / NULLIF(a.unique_users, 0) AS bounce_rate,
          1e0 * r.rating_sum / NULLIF(r.rating_count, 0) AS rating_avg, COALESCE(r.rating_count, 0) AS rating_count,
          COALESCE(a.starters, 0) AS starters, COALESCE(a.completers, 0) AS completers,
          COALESCE(a.scorers, 0) AS scorers, COALESCE(a.passers, 0) AS passers
        FROM keyed k LEFT JOIN activity a USING (day, content_id, content_type)
          LEFT JOIN ratings r USING (day, content_id, content_type)`),
      ['day', 'content_id', 'content_type'],
    );
  });

  it('mart_retention, by first activity and by signup, daily and weekly', async () => {
    const { last } = await factBounds();
    const monday = (day: string) => `(${day} - INTERVAL WEEKDAY(${day}) DAY)`;
    const cohortSql = (kind: string, members: string, activity: string) => `
      WITH RECURSIVE seq(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM seq WHERE n < 90),
      grains AS (SELECT 'day' AS grain, 1 AS len, 90 AS periods UNION ALL SELECT 'week', 7, 12),
      members AS (${members}), activity AS (${activity}),
      offsets AS (
        SELECT DISTINCT g.grain, m.user_id, IF(g.grain = 'day', m.cohort_day, ${monday('m.cohort_day')}) AS cohort_start,
          DATEDIFF(IF(g.grain = 'day', a.day, ${monday('a.day')}), IF(g.grain = 'day', m.cohort_day, ${monday('m.cohort_day')})) DIV g.len AS off
        FROM grains g CROSS JOIN members m JOIN activity a ON a.user_id = m.user_id AND a.day >= m.cohort_day),
      per_member AS (SELECT grain, user_id, cohort_start, MAX(off) AS last_off FROM offsets GROUP BY grain, user_id, cohort_start),
      sizes AS (SELECT grain, cohort_start, COUNT(*) AS size FROM per_member GROUP BY grain, cohort_start),
      cohorts AS (
        SELECT s.grain, s.cohort_start, s.size, q.n AS period FROM sizes s JOIN grains g ON g.grain = s.grain
        JOIN seq q ON q.n <= LEAST(g.periods, FLOOR((DATEDIFF('${last}', s.cohort_start) - (g.len - 1)) / g.len))),
      retained AS (SELECT grain, cohort_start, off, COUNT(*) AS n FROM offsets GROUP BY grain, cohort_start, off),
      unbounded AS (
        SELECT c.grain, c.cohort_start, c.period, COUNT(*) AS n FROM cohorts c JOIN per_member p
          ON p.grain = c.grain AND p.cohort_start = c.cohort_start AND p.last_off >= c.period
        GROUP BY c.grain, c.cohort_start, c.period)
      SELECT '${kind}' AS cohort_kind, c.grain, CAST(c.cohort_start AS CHAR) AS cohort_start, c.period, c.size AS cohort_size,
        COALESCE(r.n, 0) AS retained, 1e0 * COALESCE(r.n, 0) / c.size AS retention_rate,
        COALESCE(u.n, 0) AS unbounded_retained, 1e0 * COALESCE(u.n, 0) / c.size AS unbounded_rate
      FROM cohorts c
      LEFT JOIN retained r ON r.grain = c.grain AND r.cohort_start = c.cohort_start AND r.off = c.period
      LEFT JOIN unbounded u ON u.grain = c.grain AND u.cohort_start = c.cohort_start AND u.period = c.period`;
    const facts = 'SELECT DISTINCT user_id, day FROM courses_oracle.facts';
    const students =
      "SELECT CAST(id AS CHAR) AS user_id, DATE(created_at) AS day FROM user_db.user WHERE role = 'STUDENT'";
    expectSameRows(
      await mart(`SELECT cohort_kind, grain, toString(cohort_start) AS cohort_start, period, cohort_size, retained,
          retention_rate, unbounded_retained, unbounded_rate FROM mart_retention WHERE pack = {pack:String}`),
      [
        ...(await oracle(
          cohortSql(
            'first_activity',
            `SELECT user_id, MIN(day) AS cohort_day FROM (${facts}) f GROUP BY user_id`,
            facts,
          ),
        )),
        ...(await oracle(
          cohortSql(
            'signup',
            `SELECT user_id, day AS cohort_day FROM (${students}) s`,
            `${facts} UNION SELECT user_id, day FROM (${students}) s`,
          ),
        )),
      ],
      ['cohort_kind', 'grain', 'cohort_start', 'period'],
    );
  });

  it('mart_ab_results: n, mean and variance per experiment, variant and metric; exposures against the split', async () => {
    const { lastTs } = await factBounds();
    const window = 'f.ts >= e.exposed_at AND f.ts < e.exposed_at + INTERVAL 7 DAY';
    const metric = (name: string) =>
      `SELECT experiment, variant, '${name}' AS metric, 1e0 * ${name} AS v FROM per_user`;
    const expected = await oracle(`
      WITH per_user AS (
        SELECT e.experiment, e.variant, e.user_id,
          MAX(CASE WHEN ${window} THEN f.is_completion ELSE 0 END) AS completed_lesson_7d,
          COUNT(DISTINCT CASE WHEN ${window} THEN f.day END) AS active_days_7d,
          SUM(CASE WHEN ${window} THEN 1 ELSE 0 END) AS events_7d,
          SUM(CASE WHEN ${window} THEN f.value ELSE 0 END) AS revenue_cents_7d
        FROM user_db.ab_exposure e LEFT JOIN courses_oracle.facts f ON f.user_id = CAST(e.user_id AS CHAR)
        WHERE e.exposed_at + INTERVAL 7 DAY <= '${lastTs}'
        GROUP BY e.experiment, e.variant, e.user_id)
      SELECT experiment, variant, metric, COUNT(*) AS n, 1e0 * SUM(v) / COUNT(*) AS mean, VAR_SAMP(v) AS variance
      FROM (${['completed_lesson_7d', 'active_days_7d', 'events_7d', 'revenue_cents_7d'].map(metric).join(' UNION ALL ')}) AS m
      GROUP BY experiment, variant, metric`);
    expectSameRows(
      await mart(
        `SELECT experiment, variant, metric, n, mean, variance FROM mart_ab_results WHERE pack = {pack:String}`,
      ),
      expected,
      ['experiment', 'variant', 'metric'],
    );
    expectSameRows(
      await mart(
        `SELECT experiment, variant, count() AS n FROM fact_exposures WHERE pack = {pack:String} GROUP BY 1, 2`,
      ),
      await oracle(
        'SELECT experiment, variant, COUNT(*) AS n FROM user_db.ab_exposure GROUP BY experiment, variant',
      ),
      ['experiment', 'variant'],
    );
  });

  it('mart_courses_funnel: enrolment → start → 50% → completion per course and enrolment week', async () => {
    expectSameRows(
      await mart(`SELECT course_id, toString(week) AS week, enrolled, started, half_way, completed, start_rate,
          half_way_rate, completion_rate FROM mart_courses_funnel WHERE pack = {pack:String}`),
      await oracle(`SELECT course_id, week, enrolled, started, half_way, completed, 1e0 * started / enrolled AS start_rate,
          1e0 * half_way / enrolled AS half_way_rate, 1e0 * completed / enrolled AS completion_rate
        FROM (SELECT CAST(e.course_id AS CHAR) AS course_id,
            CAST(DATE(e.enrollment_date) - INTERVAL WEEKDAY(e.enrollment_date) DAY AS CHAR) AS week, COUNT(*) AS enrolled,
            SUM(EXISTS (SELECT 1 FROM enrollment_db.progress_tracking p WHERE p.enrollment_id = e.id)) AS started,
            SUM(e.progress_percentage >= 50) AS half_way, SUM(e.status = 'COMPLETED') AS completed
          FROM enrollment_db.enrollment e GROUP BY 1, 2) AS f`),
      ['course_id', 'week'],
    );
  });

  it('mart_courses_revenue: completed and refunded payments per course, with its instructor', async () => {
    expectSameRows(
      await mart(`SELECT course_id, instructor_id, paid_enrolments, revenue_cents, refunds, refunded_cents
        FROM mart_courses_revenue WHERE pack = {pack:String}`),
      await oracle(`SELECT CAST(c.id AS CHAR) AS course_id, CAST(c.instructor_id AS CHAR) AS instructor_id,
          COALESCE(SUM(p.status = 'COMPLETED'), 0) AS paid_enrolments,
          COALESCE(SUM(IF(p.status = 'COMPLETED', ROUND(p.amount * 100), 0)), 0) AS revenue_cents,
          COALESCE(SUM(p.status = 'REFUNDED'), 0) AS refunds,
          COALESCE(SUM(IF(p.status = 'REFUNDED', ROUND(p.amount * 100), 0)), 0) AS refunded_cents
        FROM course_db.course c
        LEFT JOIN (enrollment_db.payment p JOIN enrollment_db.enrollment e ON e.id = p.enrollment_id) ON e.course_id = c.id
        GROUP BY c.id, c.instructor_id`),
      ['course_id', 'instructor_id'],
    );
    // Not vacuous: there was revenue, and refunds.
    const [totals] = await mart(
      'SELECT sum(revenue_cents) AS revenue, sum(refunds) AS refunds FROM mart_courses_revenue WHERE pack = {pack:String}',
    );
    expect(Number(totals?.revenue)).toBeGreaterThan(0);
    expect(Number(totals?.refunds)).toBeGreaterThan(0);
  });

  it('mart_courses_reviews: count, mean and distribution of the ratings per course', async () => {
    expectSameRows(
      await mart(`SELECT course_id, reviews, rating_avg, rating_1, rating_2, rating_3, rating_4, rating_5
        FROM mart_courses_reviews WHERE pack = {pack:String}`),
      await oracle(`SELECT CAST(course_id AS CHAR) AS course_id, COUNT(*) AS reviews, 1e0 * SUM(rating) / COUNT(*) AS rating_avg,
          SUM(rating = 1) AS rating_1, SUM(rating = 2) AS rating_2, SUM(rating = 3) AS rating_3, SUM(rating = 4) AS rating_4,
          SUM(rating = 5) AS rating_5
        FROM course_db.course_review GROUP BY course_id`),
      ['course_id'],
    );
  });
});

describe(`courses write-back into course_db.course (${MYSQL_SERVER})`, () => {
  const target = (): WritebackTarget => {
    const [only] =
      coursesPack.writeback?.targets({ pack: PACK, source: SOURCE, asOf: new Date(), mysql: data.mysql }) ??
      [];
    if (!only) throw new Error('the courses pack has no write-back target');
    return only;
  };
  const write = () => runTarget(data.warehouse, target(), { pack: PACK }, { dryRun: false, batchSize: 50 });
  /** What MariaDB itself says the written columns should hold, next to what they hold. */
  const wrongCourses = async () =>
    oracle(`SELECT c.id, c.rating, c.total_reviews, c.current_students, r.rating AS want_rating, r.n AS want_reviews,
        s.n AS want_students
      FROM course_db.course c
      LEFT JOIN (SELECT course_id, ROUND(AVG(rating), 2) AS rating, COUNT(*) AS n FROM course_db.course_review GROUP BY course_id) r
        ON r.course_id = c.id
      LEFT JOIN (SELECT course_id, COUNT(*) AS n FROM enrollment_db.enrollment WHERE status IN ('ENROLLED', 'IN_PROGRESS')
        GROUP BY course_id) s ON s.course_id = c.id
      WHERE NOT (c.rating = COALESCE(r.rating, 0) AND c.total_reviews = COALESCE(r.n, 0) AND c.current_students = COALESCE(s.n, 0))`);
  const courseRows = async () =>
    new Map(
      (await oracle('SELECT * FROM course_db.course ORDER BY id')).map((row) => [
        String(row.id),
        JSON.stringify(row),
      ]),
    );

  it('writes the values MariaDB computes, then nothing on a second run; no mart changes', async () => {
    const before = await martsText();
    expect((await wrongCourses()).length).toBeGreaterThan(0);
    const first = await write();
    expect(first.updated).toBeGreaterThan(0);
    expect(await wrongCourses()).toEqual([]);
    const rows = await courseRows();
    const second = await write();
    expect(second).toMatchObject({ candidates: 0, inserted: 0, updated: 0 });
    expect(await courseRows()).toEqual(rows);
    // The written columns come back through capture: the marts, recomputed from the mirrors as
    // they now are, must not move.
    await data.capture();
    await runTransforms({ ...transformOptions(), full: true });
    expect(await martsText()).toEqual(before);
    expect(await write()).toMatchObject({ candidates: 0, updated: 0 });
  });

  it('after a source change, rewrites exactly the courses it affects', async () => {
    const rows = await courseRows();
    const [reviewed] =
      await oracle(`SELECT c.id, (SELECT MAX(id) + 1 FROM course_db.course_review) AS next_review,
        (SELECT MAX(id) + 1 FROM user_db.user) AS next_user
      FROM course_db.course c WHERE c.status = 'PUBLISHED' ORDER BY c.id LIMIT 1`);
    const [dropped] = await oracle(`SELECT id, course_id FROM enrollment_db.enrollment
      WHERE status = 'IN_PROGRESS' AND course_id <> ${Number(reviewed?.id)} ORDER BY id DESC LIMIT 1`);
    if (!reviewed || !dropped)
      throw new Error('the simulation left no published course or enrolment in progress');
    await data.mysql.course?.query(
      "INSERT INTO course_review (id, course_id, user_id, rating, created_at, updated_at) VALUES (?, ?, ?, 1, '2026-10-31 12:00:00', '2026-10-31 12:00:00')",
      [reviewed.next_review, reviewed.id, reviewed.next_user],
    );
    await data.mysql.enrollment?.query("UPDATE enrollment SET status = 'DROPPED' WHERE id = ?", [dropped.id]);
    await data.capture();
    await transform();
    const report = await write();
    expect(report).toMatchObject({ candidates: 2, updated: 2 });
    expect(await wrongCourses()).toEqual([]);
    const after = await courseRows();
    const changed = [...after].filter(([id, row]) => rows.get(id) !== row).map(([id]) => id);
    expect(changed.sort()).toEqual([String(reviewed.id), String(dropped.course_id)].sort());
  });
});
