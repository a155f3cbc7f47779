// Incremental = full: the same mirrors are transformed twice after every round of random source
// changes — once incrementally (pack "inc", carrying its state from round to round) and once from
// scratch (pack "full") — and every mart must come out byte for byte the same. Rounds mix new rows
// on old and new days, updates that move rows between days, deletes (rows and documents), and
// replayed mirror batches. MongoDB is the stand-in unless TRIBUTARY_MONGO_URL names a real server.
import type { Document } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { learningWarehouse, SOURCE, type LearningWarehouse } from '../test/learning-warehouse.ts';
import { MONGO_SERVER } from '../test/mongo.ts';
import { Random } from '../packs/common/random.ts';
import { learningPack } from '../packs/learning/index.ts';
import { runTransforms, type TransformResult } from './run.ts';

const MARTS = [
  'mart_daily_user_metrics',
  'mart_dau',
  'mart_content_performance',
  'agg_content_weekly',
  'agg_daily_segments',
  'agg_content_segments',
  'agg_segment_users',
  'mart_retention',
  'mart_ab_results',
  'agg_ab_segments',
];
let data: LearningWarehouse;

beforeAll(async () => {
  data = await learningWarehouse({ users: 60, days: 16, seed: 9 });
}, 600_000);
afterAll(async () => {
  await data?.close();
});

/** `insertDurationBoundMs` 0: nothing landed before the last run is read again (one writer here). */
async function transformBoth(insertDurationBoundMs?: number): Promise<TransformResult> {
  const mapping = learningPack.mapping(SOURCE);
  const incremental = await runTransforms({
    warehouse: data.warehouse,
    pack: 'inc',
    mapping,
    ...(insertDurationBoundMs === undefined ? {} : { insertDurationBoundMs }),
  });
  await runTransforms({ warehouse: data.warehouse, pack: 'full', mapping, full: true });
  return incremental;
}

/** A mart's rows of one pack, every column but `pack`, as ClickHouse writes them (TSV, sorted). */
async function martText(mart: string, pack: string): Promise<string> {
  const bytes = await data.warehouse.queryBytes(
    `SELECT * EXCEPT (pack) FROM ${mart} WHERE pack = {pack:String} ORDER BY ALL`,
    'TabSeparated',
    { pack },
  );
  return bytes.toString('utf8');
}

/** One round of random changes at the sources, and a replay of mirror rows already landed. */
async function changeSources(random: Random): Promise<void> {
  const { postgres } = data;
  const shift = () => `${random.int(-3, 2)} * interval '1 day' + ${random.int(0, 23)} * interval '1 hour'`;
  // New exercise answers, on old days and on the day after the data (a new day).
  await postgres.query(`INSERT INTO user_activity_results
    SELECT (jsonb_populate_record(r, jsonb_build_object('id', gen_random_uuid(),
      'completed_at', r.completed_at + ${shift()}))).* FROM user_activity_results r ORDER BY random() LIMIT ${random.int(5, 40)}`);
  await postgres.query(`INSERT INTO user_activity_results
    SELECT (jsonb_populate_record(r, jsonb_build_object('id', gen_random_uuid(),
      'completed_at', (SELECT max(completed_at) FROM user_activity_results) + interval '1 day'))).*
    FROM user_activity_results r ORDER BY random() LIMIT ${random.int(1, 10)}`);
  // Updates that change scores and move rows to other days; lessons completed or undone.
  await postgres.query(`UPDATE user_activity_results SET score = score + 1, completed_at = completed_at + ${shift()}
    WHERE id IN (SELECT id FROM user_activity_results ORDER BY random() LIMIT ${random.int(5, 30)})`);
  await postgres.query(`UPDATE user_lesson_progress SET status = CASE WHEN status = 'completed' THEN 'in_progress' ELSE 'completed' END,
      completed_at = coalesce(completed_at, updated_at) + ${shift()}
    WHERE id IN (SELECT id FROM user_lesson_progress ORDER BY random() LIMIT ${random.int(2, 15)})`);
  // Users moving country: their segment changes on every day they were active.
  await postgres.query(`UPDATE user_profiles SET country_code = CASE WHEN country_code = 'VN' THEN 'US' ELSE 'VN' END
    WHERE user_id IN (SELECT user_id FROM user_profiles ORDER BY random() LIMIT ${random.int(1, 4)})`);
  await postgres.query(`UPDATE lesson_reviews SET rating = 1 + (rating % 5)
    WHERE id IN (SELECT id FROM lesson_reviews ORDER BY random() LIMIT 5)`);
  // Deletes.
  await postgres.query(`DELETE FROM user_activity_results
    WHERE id IN (SELECT id FROM user_activity_results ORDER BY random() LIMIT ${random.int(5, 30)})`);
  await postgres.query(
    `DELETE FROM lesson_reviews WHERE id IN (SELECT id FROM lesson_reviews ORDER BY random() LIMIT 3)`,
  );
  // Documents: some deleted, some moved in time, some copied.
  const interactions = data.mongoClient.db(data.mongoDatabase).collection<Document>('user_interactions');
  // Picked here: the stand-in's $sample sorts with a random comparator, which Java's sort rejects.
  const all = await interactions.find({}).toArray();
  const sample = [...new Set(Array.from({ length: 60 }, () => random.int(0, all.length - 1)))].flatMap(
    (index) => all.slice(index, index + 1),
  );
  for (const [index, document] of sample.entries()) {
    if (index % 3 === 0) await interactions.deleteOne({ _id: document._id });
    else if (index % 3 === 1)
      await interactions.updateOne(
        { _id: document._id },
        {
          $set: {
            timestamp: new Date((document.timestamp as Date).getTime() + random.int(-2, 2) * 86_400_000),
          },
        },
      );
    else {
      const copy: Document = { ...document };
      delete copy._id;
      await interactions.insertOne(copy);
    }
  }
  await data.capture();
  // A replayed batch: versions the mirrors already hold, landing again.
  await data.warehouse.command(
    `INSERT INTO raw.${SOURCE}_user_activity_results SELECT * EXCEPT (_ingested_at), now64(3) FROM raw.${SOURCE}_user_activity_results LIMIT 50`,
  );
}

describe(`incremental transforms equal a full recompute (documents on the ${MONGO_SERVER})`, () => {
  it('after every round of new data, updates, deletes and replays, byte for byte', async () => {
    const random = new Random(21);
    await transformBoth();
    for (let round = 0; round < 5; round++) {
      await changeSources(random);
      const incremental = await transformBoth();
      // Only the days the changes touched (and the WAU/MAU windows after them) were recomputed.
      expect(incremental.mode).toBe('incremental');
      expect(incremental.recomputedDays).not.toBe('all');
      for (const mart of MARTS) {
        const full = await martText(mart, 'full');
        expect(full.length, `${mart} is empty`).toBeGreaterThan(0);
        expect({ round, mart, text: await martText(mart, 'inc') }).toEqual({ round, mart, text: full });
      }
    }
  });

  it("a change of country alone moves the users' active days to their new segment", async () => {
    await transformBoth();
    // Users active on some day, not on the latest: no activity changes, so only the segment
    // changes tell the run which days to recompute.
    const movers = await data.warehouse.query<{ user_id: string }>(
      `SELECT user_id FROM mart_daily_user_metrics WHERE pack = 'full' GROUP BY user_id
       HAVING max(day) < (SELECT max(day) FROM mart_daily_user_metrics WHERE pack = 'full') LIMIT 3`,
    );
    expect(movers.length).toBeGreaterThan(0);
    await data.postgres.query(
      `UPDATE user_profiles SET country_code = CASE WHEN country_code = 'VN' THEN 'US' ELSE 'VN' END
       WHERE user_id = ANY($1::uuid[])`,
      [movers.map((row) => row.user_id)],
    );
    await data.capture();
    const incremental = await transformBoth(0);
    expect(incremental.recomputedDays).toEqual([]);
    for (const table of ['agg_daily_segments', 'agg_content_segments', 'agg_segment_users'])
      expect({ table, text: await martText(table, 'inc') }).toEqual({
        table,
        text: await martText(table, 'full'),
      });
  });

  it('does nothing on an idle source once a run has read past the insert-duration bound', async () => {
    const mapping = learningPack.mapping(SOURCE);
    const insertDurationBoundMs = 500;
    const run = () =>
      runTransforms({ warehouse: data.warehouse, pack: 'idle', mapping, insertDurationBoundMs });
    await run();
    await changeSources(new Random(5));
    const afterChanges = await run();
    expect(afterChanges.recomputedDays).not.toEqual([]);
    await new Promise((resolve) => setTimeout(resolve, insertDurationBoundMs + 100));
    // This run may still re-read the rows that could have been in flight during the last one…
    await run();
    // …this one read more than the bound after the last ingestion: nothing is left to re-read.
    const idle = await run();
    expect(idle).toMatchObject({ mode: 'unchanged', recomputedDays: [] });
    // A dimension's mirror is watched too: signups moved a day earlier change the signup cohorts.
    await data.postgres.query(
      `UPDATE users SET created_at = created_at - interval '1 day' WHERE id IN (SELECT id FROM users ORDER BY id LIMIT 5)`,
    );
    await data.capture();
    expect((await run()).mode).toBe('incremental');
    await runTransforms({ warehouse: data.warehouse, pack: 'full', mapping, full: true });
    for (const mart of MARTS)
      expect({ mart, text: await martText(mart, 'idle') }).toEqual({
        mart,
        text: await martText(mart, 'full'),
      });
  });

  it('refuses at start a mapping that does not yield a fact column, naming the column, and writes nothing', async () => {
    const mapping = learningPack.mapping(SOURCE);
    const [first, ...rest] = mapping.activity;
    if (!first) throw new Error('the learning mapping has no activity source');
    const drifted = {
      ...mapping,
      activity: [
        { ...first, select: first.select.replace(/AS duration_s\b/, 'AS duration_seconds') },
        ...rest,
      ],
    };
    await expect(
      runTransforms({ warehouse: data.warehouse, pack: 'drifted', mapping: drifted }),
    ).rejects.toThrow(
      /activity mapping over raw.learning_\w+ does not fit fact_activity: duration_s is missing/,
    );
    const [facts] = await data.warehouse.query<{ n: string }>(
      "SELECT count() AS n FROM fact_activity WHERE pack = 'drifted'",
    );
    expect(facts?.n).toBe('0');
  });
});
