// Incremental = full for the lingo pack: after every round of random source changes — answers
// added on old and new days, answers moved between days and corrected, lessons completed or
// undone, app opens moved (which re-zones actions), hearts logged or unlogged, rows deleted — the
// mirrors are transformed incrementally (pack "inc", state carried from round to round) and from
// scratch (pack "full"), and every generic and pack mart must come out byte for byte the same.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Random } from '../common/random.ts';
import { runTransforms } from '../../transforms/index.ts';
import { LINGO_SOURCE, lingoWarehouse, type LingoWarehouse } from '../../test/lingo-warehouse.ts';
import { lingoPack } from './index.ts';

const MARTS = [
  'mart_daily_user_metrics',
  'mart_dau',
  'mart_content_performance',
  'mart_retention',
  'mart_ab_results',
  ...(lingoPack.marts ?? []).map((mart) => mart.name),
];
let data: LingoWarehouse;

beforeAll(async () => {
  data = await lingoWarehouse({ users: 50, days: 14, seed: 5 });
}, 600_000);
afterAll(async () => {
  await data?.close();
});

async function transformBoth(): Promise<void> {
  const options = {
    warehouse: data.warehouse,
    mapping: lingoPack.mapping(LINGO_SOURCE),
    marts: lingoPack.marts,
    source: LINGO_SOURCE,
  };
  await runTransforms({ ...options, pack: 'inc' });
  await runTransforms({ ...options, pack: 'full', full: true });
}

async function martText(mart: string, pack: string): Promise<string> {
  const bytes = await data.warehouse.queryBytes(
    `SELECT * EXCEPT (pack) FROM ${mart} WHERE pack = {pack:String} ORDER BY ALL`,
    'TabSeparated',
    { pack },
  );
  return bytes.toString('utf8');
}

async function changeSources(random: Random): Promise<void> {
  const { postgres } = data;
  const shift = () => `${random.int(-3, 2)} * interval '1 day' + ${random.int(0, 23)} * interval '1 hour'`;
  const some = (table: string, count: number, where = 'TRUE') =>
    `SELECT id FROM ${table} WHERE ${where} ORDER BY md5(id::text || '${random.hex(4)}') LIMIT ${count}`;
  await postgres.query(`INSERT INTO user_exercise_interactions
    SELECT (jsonb_populate_record(r, jsonb_build_object('id', gen_random_uuid(),
      'interaction_at', r.interaction_at + ${shift()}))).*
    FROM user_exercise_interactions r WHERE id IN (${some('user_exercise_interactions', random.int(5, 30))})`);
  await postgres.query(`INSERT INTO user_exercise_interactions
    SELECT (jsonb_populate_record(r, jsonb_build_object('id', gen_random_uuid(),
      'interaction_at', (SELECT max(interaction_at) FROM user_exercise_interactions) + interval '1 day'))).*
    FROM user_exercise_interactions r WHERE id IN (${some('user_exercise_interactions', random.int(1, 8))})`);
  await postgres.query(`UPDATE user_exercise_interactions SET is_correct = NOT is_correct, xp_earned = 1 - xp_earned,
      interaction_at = interaction_at + ${shift()}
    WHERE id IN (${some('user_exercise_interactions', random.int(5, 20))})`);
  await postgres.query(`UPDATE user_activity_log SET activity_type = CASE activity_type WHEN 'lesson_complete' THEN 'lesson_quit' ELSE 'lesson_complete' END,
      created_at = created_at + ${shift()}
    WHERE id IN (${some('user_activity_log', random.int(2, 10), "activity_type IN ('lesson_complete', 'lesson_quit')")})`);
  // App opens moved: the actions after them change zone, and maybe local day.
  await postgres.query(`UPDATE user_activity_log SET created_at = created_at + ${shift()},
      activity_data = jsonb_set(activity_data, '{timezone}', to_jsonb((ARRAY['Asia/Tokyo', 'America/Los_Angeles', 'Europe/Berlin'])[1 + floor(random() * 3)::int]))
    WHERE id IN (${some('user_activity_log', random.int(2, 8), "activity_type = 'login'")})`);
  await postgres.query(
    `DELETE FROM user_hearts_log WHERE id IN (${some('user_hearts_log', random.int(1, 5))})`,
  );
  await postgres.query(
    `DELETE FROM user_exercise_interactions WHERE id IN (${some('user_exercise_interactions', random.int(5, 20))})`,
  );
  await postgres.query(
    `DELETE FROM user_activity_log WHERE id IN (${some('user_activity_log', random.int(2, 10))})`,
  );
  await postgres.query(`UPDATE users SET daily_xp_goal = 50 WHERE id IN (${some('users', 3)})`);
}

describe('lingo: incremental = full under random source changes', () => {
  it('every mart equal after a change that no fact reads (hearts only)', async () => {
    await transformBoth();
    await data.postgres.query(`UPDATE user_courses SET hearts = greatest(hearts - 1, 0)
      WHERE id IN (SELECT id FROM user_courses ORDER BY id LIMIT 3)`);
    await data.capture();
    await transformBoth();
    for (const mart of MARTS) expect(await martText(mart, 'inc'), mart).toBe(await martText(mart, 'full'));
  });

  it('every mart equal after each of three rounds', async () => {
    await transformBoth();
    const random = new Random(17);
    for (let round = 0; round < 3; round++) {
      await changeSources(random);
      await data.capture();
      await transformBoth();
      for (const mart of MARTS)
        expect(await martText(mart, 'inc'), `${mart}, round ${round}`).toBe(await martText(mart, 'full'));
    }
    // Not vacuous: the marts hold rows.
    for (const mart of MARTS) expect((await martText(mart, 'full')).length, mart).toBeGreaterThan(0);
  });
});
