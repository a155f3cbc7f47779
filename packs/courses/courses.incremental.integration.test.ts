// Incremental = full for the courses pack: after every round of random changes in the three MySQL
// databases (new rows on old and new days, updates that move rows between days or change their
// state, deletes) and a replayed mirror batch, the same mirrors are transformed incrementally (pack
// "inc") and from scratch (pack "full"); every generic and pack mart must come out byte for byte
// the same.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { coursesWarehouse, SOURCE, type CoursesWarehouse } from '../../test/courses-warehouse.ts';
import { MYSQL_SERVER } from '../../test/mysql.ts';
import { runTransforms, type TransformResult } from '../../transforms/run.ts';
import { Random } from '../common/random.ts';
import { coursesMirror, coursesPack } from './index.ts';

const MARTS = [
  'mart_daily_user_metrics',
  'mart_dau',
  'mart_content_performance',
  'mart_retention',
  'mart_ab_results',
  ...(coursesPack.marts ?? []).map((mart) => mart.name),
];
let data: CoursesWarehouse;

beforeAll(async () => {
  data = await coursesWarehouse({ users: 40, days: 12, seed: 11 });
}, 600_000);
afterAll(async () => {
  await data?.close();
});

async function transformBoth(): Promise<TransformResult> {
  const options = {
    warehouse: data.warehouse,
    source: SOURCE,
    mapping: coursesPack.mapping(SOURCE),
    marts: coursesPack.marts,
  };
  const incremental = await runTransforms({ ...options, pack: 'inc' });
  await runTransforms({ ...options, pack: 'full', full: true });
  return incremental;
}

async function martText(mart: string, pack: string): Promise<string> {
  const bytes = await data.warehouse.queryBytes(
    `SELECT * EXCEPT (pack) FROM ${mart} WHERE pack = {pack:String} ORDER BY ALL`,
    'TabSeparated',
    { pack },
  );
  return bytes.toString('utf8');
}

async function run(service: 'course' | 'user' | 'enrollment', sql: string): Promise<void> {
  const connection = data.mysql[service];
  if (!connection) throw new Error(`no ${service} connection`);
  await connection.query(sql);
}

/** One round of random changes at the sources, and a replay of mirror rows already landed. */
async function changeSources(random: Random, round: number): Promise<void> {
  const shift = () => `INTERVAL ${random.int(-3, 2) * 24 + random.int(0, 23)} HOUR`;
  const some = (n: number) => `ORDER BY RAND(${random.int(1, 1_000_000)}) LIMIT ${n}`;
  // Logins copied onto other days, and onto the day after the data (a new day).
  await run(
    'user',
    `INSERT INTO user_session (user_id, token_hash, expires_at, created_at)
      SELECT user_id, CONCAT(token_hash, '-${round}'), expires_at, created_at + ${shift()} FROM user_session ${some(random.int(5, 30))}`,
  );
  await run(
    'user',
    `INSERT INTO user_session (user_id, token_hash, expires_at, created_at)
      SELECT user_id, CONCAT(token_hash, '-new-${round}'), expires_at, (SELECT MAX(created_at) FROM user_session) + INTERVAL 1 DAY
      FROM user_session ${some(random.int(1, 8))}`,
  );
  // Lessons completed or undone, attempts moved to other days.
  await run(
    'enrollment',
    // MySQL assigns left to right: each IF reads the row's value before the flip after it.
    `UPDATE progress_tracking SET completed_at = IF(completed, NULL, COALESCE(last_attempt_at, NOW()) + ${shift()}),
        completed = NOT completed, last_attempt_at = last_attempt_at + ${shift()}
      WHERE id IN (SELECT id FROM (SELECT id FROM progress_tracking ${some(random.int(3, 15))}) AS picked)`,
  );
  // Enrolments completed, dropped or moved; payments refunded.
  await run(
    'enrollment',
    `UPDATE enrollment SET completion_date = IF(status = 'COMPLETED', NULL, enrollment_date + INTERVAL 2 DAY),
        status = IF(status = 'COMPLETED', 'DROPPED', 'COMPLETED'), progress_percentage = 100 - progress_percentage
      WHERE id IN (SELECT id FROM (SELECT id FROM enrollment ${some(random.int(2, 8))}) AS picked)`,
  );
  await run(
    'enrollment',
    `UPDATE enrollment SET enrollment_date = enrollment_date + ${shift()}
      WHERE id IN (SELECT id FROM (SELECT id FROM enrollment ${some(random.int(1, 5))}) AS picked)`,
  );
  await run(
    'enrollment',
    `UPDATE payment SET status = 'REFUNDED'
      WHERE id IN (SELECT id FROM (SELECT id FROM payment WHERE status = 'COMPLETED' ${some(2)}) AS picked)`,
  );
  // Reviews changed and deleted; signups moved.
  await run(
    'course',
    `UPDATE course_review SET rating = 1 + rating MOD 5, created_at = created_at + ${shift()}
      WHERE id IN (SELECT id FROM (SELECT id FROM course_review ${some(4)}) AS picked)`,
  );
  await run('course', `DELETE FROM course_review ${some(2)}`);
  await run(
    'user',
    `UPDATE user SET created_at = created_at - INTERVAL 1 DAY
      WHERE id IN (SELECT id FROM (SELECT id FROM user WHERE role = 'STUDENT' ${some(3)}) AS picked)`,
  );
  // Deletes of activity rows.
  await run('user', `DELETE FROM user_session ${some(random.int(3, 15))}`);
  await run('enrollment', `DELETE FROM progress_tracking ${some(random.int(2, 8))}`);
  await data.capture();
  // A replayed batch: versions the mirrors already hold, landing again.
  const progress = coursesMirror(SOURCE, 'enrollment', 'progress_tracking');
  await data.warehouse.command(
    `INSERT INTO ${progress} SELECT * EXCEPT (_ingested_at), now64(3) FROM ${progress} LIMIT 50`,
  );
}

describe(`courses: incremental transforms equal a full recompute (${MYSQL_SERVER})`, () => {
  it('after every round of new data, updates, deletes and replays, byte for byte', async () => {
    const random = new Random(17);
    await transformBoth();
    for (let round = 0; round < 2; round++) {
      await changeSources(random, round);
      const incremental = await transformBoth();
      expect(incremental.mode).toBe('incremental');
      expect(incremental.recomputedDays).not.toBe('all');
      for (const mart of MARTS) {
        const full = await martText(mart, 'full');
        expect(full.length, `${mart} is empty`).toBeGreaterThan(0);
        expect({ round, mart, text: await martText(mart, 'inc') }).toEqual({ round, mart, text: full });
      }
    }
  });
});
