// Write-back of the learning pack into its stores, checked on the stores themselves: every
// document equals the mart row it comes from (read on both sides), fields the application owns
// stay untouched, a second run modifies nothing, one changed user-day changes exactly the
// documents whose mart rows changed, and the write-back changes no mart (no feedback loop).
import { MongoClient, type Document } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parsePipelineConfig, type PipelineConfig } from '../../config/pipeline.ts';
import { learningWarehouse, SOURCE, type LearningWarehouse } from '../../test/learning-warehouse.ts';
import { learningPack } from '../../packs/learning/index.ts';
import { runTransforms } from '../../transforms/index.ts';
import { migrate } from '../../warehouse/index.ts';
import { learningTargets } from '../../packs/learning/writeback.ts';
import { runTarget, type TargetReport, type WritebackTarget } from './engine.ts';
import { runWriteback, type WritebackOptions } from './kind.ts';

let data: LearningWarehouse;
let mongo: MongoClient;
let config: PipelineConfig;
let asOf: Date;

const options: WritebackOptions = { pack: 'learning', mongo: SOURCE, postgres: SOURCE, batchSize: 500 };
const COLLECTIONS = ['daily_user_metrics', 'content_performance', 'ab_test_results', 'system_analytics'];

beforeAll(async () => {
  data = await learningWarehouse({ users: 40, days: 12, seed: 21 });
  await migrate(data.warehouse);
  await transform();
  mongo = new MongoClient(data.mongo.url);
  await mongo.connect();
  config = parsePipelineConfig({
    sources: [
      { kind: 'postgres', name: SOURCE, url: data.postgresUrl },
      { kind: 'mongo', name: SOURCE, url: data.mongo.url, database: data.mongoDatabase },
    ],
    warehouse: { dir: '/unused' },
  });
  // As of three days after the last activity: streaks of users not seen since have lapsed.
  const [last] = await data.warehouse.query<{ ms: string }>(
    "SELECT toString(toUnixTimestamp64Milli(max(ts))) AS ms FROM fact_activity WHERE pack = 'learning'",
  );
  asOf = new Date(Number(last?.ms) + 3 * 86_400_000);
}, 600_000);

afterAll(async () => {
  await mongo?.close();
  await data?.close();
});

/**
 * `insertDurationBoundMs` 0: capture and transform take turns in this one process, so no insert is
 * in flight while a transform reads. With the default bound, a run within 10 s of the snapshot
 * re-reads all of it, and whether the day-limited runs below do depends on the machine's speed.
 */
async function transform() {
  return runTransforms({
    warehouse: data.warehouse,
    pack: 'learning',
    mapping: learningPack.mapping(SOURCE),
    insertDurationBoundMs: 0,
  });
}

function writeback(dryRun = false) {
  return runWriteback(options, {
    warehouse: data.warehouse,
    config,
    dryRun,
    scheduledFor: asOf,
    signal: new AbortController().signal,
  });
}

const db = () => mongo.db(data.mongoDatabase);
const reportOf = (reports: TargetReport[], name: string) =>
  reports.find((report) => report.target.endsWith(name)) as TargetReport;

/**
 * One new day after the last: `users` learners each answer one exercise on it, then capture and an
 * incremental transform. Returns the day and the days the transform recomputed: the new one alone.
 */
async function addDay(users: number): Promise<{ newDay: string; recomputed: string[] }> {
  const [last] = await data.warehouse.query<{ day: string }>(
    "SELECT toString(max(day) + 1) AS day FROM fact_activity WHERE pack = 'learning'",
  );
  const newDay = String(last?.day);
  await data.postgres.query(
    `INSERT INTO user_activity_results (user_id, lesson_id, activity_id, score, max_score, time_taken, is_passed, completed_at)
     SELECT user_id, lesson_id, activity_id, score, max_score, time_taken, is_passed, $1::timestamp
     FROM (SELECT DISTINCT ON (user_id) * FROM user_activity_results ORDER BY user_id, id) AS first
     ORDER BY user_id LIMIT $2`,
    [`${newDay} 12:00:00`, users],
  );
  await data.capture();
  const { recomputedDays } = await transform();
  if (recomputedDays === 'all') throw new Error('the transform ran in full');
  expect(recomputedDays).toEqual([newDay]);
  return { newDay, recomputed: recomputedDays };
}

/** The rows of the learning mart `table` on `days`. */
async function martRowsOn(table: string, days: string[]): Promise<number> {
  const [row] = await data.warehouse.query<{ n: string }>(
    `SELECT count() AS n FROM ${table} WHERE pack = 'learning' AND day IN {days:Array(Date)}`,
    { days },
  );
  return Number(row?.n);
}

const day = (date: Date) => date.toISOString().slice(0, 10);

/** Every document of the written collections, keyed by collection and _id, as the store holds it. */
async function storeSnapshot(): Promise<Map<string, string>> {
  const snapshot = new Map<string, string>();
  for (const name of COLLECTIONS)
    for (const document of await db().collection(name).find().toArray())
      snapshot.set(`${name}:${String(document._id)}`, JSON.stringify(document));
  const streaks = await data.postgres.query<{
    user_id: string;
    xmin: string;
    current_streak: number;
    updated_at: Date;
  }>('SELECT user_id, xmin::text AS xmin, current_streak, updated_at FROM user_streaks');
  for (const row of streaks.rows) snapshot.set(`user_streaks:${row.user_id}`, JSON.stringify(row));
  return snapshot;
}

function changedKeys(before: Map<string, string>, after: Map<string, string>): string[] {
  return [...after].filter(([key, value]) => before.get(key) !== value).map(([key]) => key);
}

/**
 * Every daily_user_metrics document equals its mart row, one document per row; returns them by
 * `user_id|day`.
 */
async function expectDailyDocumentsEqualMart(): Promise<Map<string, Document>> {
  const daily = await data.warehouse.query<Record<string, number | string | null>>(
    "SELECT user_id, toString(day) AS day, active_seconds, completions, sessions, score_sum, score_count, content_views FROM mart_daily_user_metrics WHERE pack = 'learning'",
  );
  const documents = await db().collection('daily_user_metrics').find().toArray();
  expect(documents).toHaveLength(daily.length);
  const byKey = new Map(documents.map((document) => [`${document.user_id}|${day(document.date)}`, document]));
  for (const row of daily) {
    const document = byKey.get(`${row.user_id}|${row.day}`) as Document;
    expect(
      Math.abs(document.learning_metrics.total_study_time - Number(row.active_seconds) / 60),
    ).toBeLessThanOrEqual(0.005 + 1e-9);
    expect(document.learning_metrics.lessons_completed).toBe(Number(row.completions));
    expect(document.learning_metrics.study_sessions).toBe(Number(row.sessions));
    expect(document.engagement_metrics.unique_content_pieces).toBe(Number(row.content_views));
    if (Number(row.score_count) > 0)
      // Rounded to two decimals by the write-back: within half a hundredth.
      expect(
        Math.abs(
          document.learning_metrics.avg_lesson_score - Number(row.score_sum) / Number(row.score_count),
        ),
      ).toBeLessThanOrEqual(0.005 + 1e-9);
    else expect(document.learning_metrics.avg_lesson_score).toBeNull();
  }
  expect(byKey.size).toBe(documents.length);
  return byKey;
}

describe('learning write-back', () => {
  it("writes documents equal to their mart rows and leaves the application's fields alone", async () => {
    const [sample] = await data.warehouse.query<{ user_id: string; day: string }>(
      "SELECT user_id, toString(day) AS day FROM mart_daily_user_metrics WHERE pack = 'learning' ORDER BY day, user_id LIMIT 1",
    );
    const date = new Date(`${sample?.day}T00:00:00Z`);
    // The application's own document for that user-day, with fields Tributary does not own.
    await db()
      .collection('daily_user_metrics')
      .insertOne({
        user_id: sample?.user_id,
        date,
        learning_metrics: { words_learned: 7, lessons_completed: 999 },
        performance_metrics: { error_count: 3, crash_count: 1 },
      });
    const reports = await writeback();
    expect(reports.map((report) => report.target)).toEqual([
      `mongo:${data.mongoDatabase}.daily_user_metrics`,
      `mongo:${data.mongoDatabase}.content_performance`,
      `mongo:${data.mongoDatabase}.ab_test_results`,
      `mongo:${data.mongoDatabase}.system_analytics`,
      'postgres:user_streaks',
    ]);

    const byKey = await expectDailyDocumentsEqualMart();
    const application = byKey.get(`${sample?.user_id}|${sample?.day}`) as Document;
    expect(application.learning_metrics.words_learned).toBe(7);
    expect(application.performance_metrics).toEqual({ error_count: 3, crash_count: 1 });

    const content = await data.warehouse.query<Record<string, number | string | null>>(
      "SELECT content_type, content_id, toString(day) AS day, unique_users, views, completions, completion_rate, bounce_rate, pass_rate, rating_count FROM mart_content_performance WHERE pack = 'learning'",
    );
    const contentDocuments = new Map(
      (await db().collection('content_performance').find().toArray()).map((document) => [
        `${document.content_type}|${document.content_id}|${day(document.date)}`,
        document,
      ]),
    );
    expect(contentDocuments.size).toBe(content.length);
    for (const row of content) {
      const document = contentDocuments.get(`${row.content_type}|${row.content_id}|${row.day}`) as Document;
      expect(document.usage_stats.unique_users).toBe(Number(row.unique_users));
      expect(document.usage_stats.total_views).toBe(Number(row.views));
      expect(document.usage_stats.total_completions).toBe(Number(row.completions));
      expect(document.usage_stats.avg_completion_rate).toBe(row.completion_rate);
      expect(document.usage_stats.bounce_rate).toBe(row.bounce_rate);
      expect(document.learning_outcomes.pass_rate).toBe(row.pass_rate);
      expect(document.user_feedback.rating_count).toBe(Number(row.rating_count));
    }

    const ab = await data.warehouse.query<{
      experiment: string;
      variant: string;
      n: number;
      mean: number;
      decision: string;
      rel_lift: number | null;
    }>(
      "SELECT experiment, variant, n, mean, decision, rel_lift FROM mart_ab_results WHERE pack = 'learning' AND metric = 'completed_lesson_7d'",
    );
    expect(ab.length).toBeGreaterThan(0);
    for (const row of ab) {
      const document = (await db()
        .collection('ab_test_results')
        .findOne({ experiment_name: row.experiment, variant_name: row.variant })) as Document;
      expect(document.results.primary_metric.variant_value).toBeCloseTo(row.mean, 12);
      expect(document.participant_data.sample_size).toBe(Number(row.n));
      expect(document.recommendations.decision).toBe(row.decision);
      expect(['implement', 'reject', 'continue_testing']).toContain(document.recommendations.decision);
      if (row.rel_lift !== null)
        expect(document.results.primary_metric.lift).toBeCloseTo(row.rel_lift * 100, 9);
      expect(document.results.secondary_metrics.map((metric: Document) => metric.metric_name).sort()).toEqual(
        ['active_days_7d', 'events_7d'],
      );
    }

    const dau = await data.warehouse.query<{ day: string; dau: number }>(
      "SELECT toString(day) AS day, dau FROM mart_dau WHERE pack = 'learning'",
    );
    for (const row of dau) {
      const document = (await db()
        .collection('system_analytics')
        .findOne({ date: new Date(`${row.day}T00:00:00Z`), metric_type: 'daily_summary' })) as Document;
      expect(document.user_metrics.total_active_users).toBe(Number(row.dau));
    }

    // Streaks: reset exactly where the user's own calendar says the streak lapsed (an independent
    // computation: Postgres's AT TIME ZONE on the warehouse's last activity times).
    const last = await data.warehouse.query<{ user_id: string; last_ms: string; timezone: string }>(
      "SELECT a.user_id AS user_id, toString(toUnixTimestamp64Milli(max(a.ts))) AS last_ms, any(u.timezone) AS timezone FROM fact_activity AS a LEFT JOIN dim_users AS u ON u.user_id = a.user_id AND u.pack = a.pack WHERE a.pack = 'learning' GROUP BY a.user_id",
    );
    const expected = await data.postgres.query<{ user_id: string; lapsed: boolean }>(
      `SELECT v.user_id::text AS user_id,
          (($2::timestamptz AT TIME ZONE coalesce(nullif(v.tz, ''), 'UTC'))::date
            - (to_timestamp(v.ms / 1000.0) AT TIME ZONE coalesce(nullif(v.tz, ''), 'UTC'))::date) > 1 AS lapsed
        FROM unnest($1::text[], $3::float8[], $4::text[]) AS v(user_id, ms, tz)`,
      [
        last.map((row) => row.user_id),
        asOf,
        last.map((row) => Number(row.last_ms)),
        last.map((row) => row.timezone),
      ],
    );
    const lapsed = new Set(expected.rows.filter((row) => row.lapsed).map((row) => row.user_id));
    const streaks = await data.postgres.query<{
      user_id: string;
      current_streak: number;
      streak_freeze_count: number;
    }>('SELECT user_id::text, current_streak, streak_freeze_count FROM user_streaks');
    const reset = streaks.rows.filter((row) => row.current_streak === 0 && lapsed.has(row.user_id));
    expect(reset.length).toBeGreaterThan(0);
    for (const row of streaks.rows)
      if (!lapsed.has(row.user_id) && last.some((user) => user.user_id === row.user_id))
        expect(row.current_streak).toBeGreaterThan(0);
  });

  it('modifies nothing when run again (checked on the stores)', async () => {
    const before = await storeSnapshot();
    const reports = await writeback();
    expect(changedKeys(before, await storeSnapshot())).toEqual([]);
    for (const report of reports)
      expect({ target: report.target, inserted: report.inserted, updated: report.updated }).toEqual({
        target: report.target,
        inserted: 0,
        updated: 0,
      });
  });

  it('after one user-day changed at the source, rewrites exactly the documents whose mart rows changed', async () => {
    const martRows = async () =>
      new Map(
        (
          await data.warehouse.query<{ key: string; row: string }>(
            `SELECT concat('daily_user_metrics|', user_id, '|', toString(day)) AS key, toString(tuple(*)) AS row FROM mart_daily_user_metrics WHERE pack = 'learning'
             UNION ALL SELECT concat('content_performance|', content_type, '|', content_id, '|', toString(day)), toString(tuple(*)) FROM mart_content_performance WHERE pack = 'learning'
             UNION ALL SELECT concat('system_analytics|', toString(day)), toString(tuple(*)) FROM mart_dau WHERE pack = 'learning'
             UNION ALL SELECT concat('ab_test_results|', experiment, '|', variant), toString(groupArray(tuple(metric, n, mean, p_value, decision))) FROM mart_ab_results WHERE pack = 'learning' GROUP BY experiment, variant`,
          )
        ).map(({ key, row }) => [key, row]),
      );
    const martsBefore = await martRows();
    // One exercise answer of one user gets a better score.
    const { rows } = await data.postgres.query<{ id: string }>(
      'SELECT id FROM user_activity_results WHERE score IS NOT NULL ORDER BY id LIMIT 1',
    );
    await data.postgres.query('UPDATE user_activity_results SET score = score + 1 WHERE id = $1', [
      rows[0]?.id,
    ]);
    await data.capture();
    await transform();
    const martsAfter = await martRows();
    const changedMarts = [...martsAfter]
      .filter(([key, row]) => martsBefore.get(key) !== row)
      .map(([key]) => key);
    expect(changedMarts.length).toBeGreaterThan(0);
    const before = await storeSnapshot();
    // A dry run first: it counts what the real run then writes, shows diffs, and writes nothing.
    const dry = await writeback(true);
    expect(changedKeys(before, await storeSnapshot())).toEqual([]);
    const reports = await writeback();
    const after = await storeSnapshot();
    const mongoReports = (list: typeof reports) =>
      list.filter((report) => report.target.startsWith('mongo:'));
    expect(mongoReports(dry).map((report) => [report.inserted, report.updated])).toEqual(
      mongoReports(reports).map((report) => [report.inserted, report.updated]),
    );
    const example = mongoReports(dry).find((report) => report.updated > 0)?.examples[0];
    expect(example).toMatch(/^update \{.*\}: .+: .+ → .+/);
    const changedDocuments = changedKeys(before, after).filter((key) => !key.startsWith('user_streaks:'));
    // A document's key, as the mart rows name it.
    const documentKeys = await Promise.all(
      changedDocuments.map(async (key) => {
        const [collection, id] = key.split(':') as [string, string];
        const document =
          (await db()
            .collection(collection)
            .findOne({ $expr: { $eq: [{ $toString: '$_id' }, id] } })) ??
          (await db().collection(collection).find().toArray()).find(
            (candidate) => String(candidate._id) === id,
          );
        if (collection === 'daily_user_metrics')
          return `${collection}|${document?.user_id}|${day(document?.date)}`;
        if (collection === 'content_performance')
          return `${collection}|${document?.content_type}|${document?.content_id}|${day(document?.date)}`;
        if (collection === 'system_analytics') return `${collection}|${day(document?.date)}`;
        return `${collection}|${document?.experiment_name}|${document?.variant_name}`;
      }),
    );
    // system_analytics also reads sums of the daily marts: a changed daily row changes its day.
    const expected = new Set(changedMarts.filter((key) => !key.startsWith('system_analytics|')));
    const actual = new Set(documentKeys.filter((key) => !key.startsWith('system_analytics|')));
    expect([...actual].sort()).toEqual([...expected].sort());
    expect(reports.reduce((sum, report) => sum + report.inserted, 0)).toBe(0);
  });

  it('changes no mart: what it wrote, captured, leaves every mart as it was', async () => {
    const marts = async () =>
      (
        await data.warehouse.queryBytes(
          `SELECT * FROM (
             SELECT 'daily', toString(tuple(*)) FROM mart_daily_user_metrics WHERE pack = 'learning'
             UNION ALL SELECT 'content', toString(tuple(*)) FROM mart_content_performance WHERE pack = 'learning'
             UNION ALL SELECT 'dau', toString(tuple(*)) FROM mart_dau WHERE pack = 'learning'
             UNION ALL SELECT 'ab', toString(tuple(*)) FROM mart_ab_results WHERE pack = 'learning'
             UNION ALL SELECT 'retention', toString(tuple(*)) FROM mart_retention WHERE pack = 'learning') ORDER BY ALL`,
          'TSV',
        )
      ).toString();
    const before = await marts();
    // Make the write-back write something (a lapsed streak, restored by "the application").
    await data.postgres.query('UPDATE user_streaks SET current_streak = 5 WHERE current_streak = 0');
    await data.capture();
    await transform();
    const settled = await marts();
    expect(settled).toBe(before);
    const reports = await writeback();
    expect(reports.find((report) => report.target === 'postgres:user_streaks')?.updated).toBeGreaterThan(0);
    await data.capture();
    await transform();
    expect(await marts()).toBe(before);
  });

  it('after one new day, compares only the days the transform rewrote and writes that day', async () => {
    // Takes in what the earlier tests' transforms rewrote, so the next run sees only the new day's.
    await writeback();
    const { newDay, recomputed } = await addDay(5);
    // The application's own document for one user-day of the new day, written before the run: the
    // run's read of that day (through the seed's date index) finds it, and updates it in place.
    const [learner] = await data.warehouse.query<{ user_id: string }>(
      "SELECT user_id FROM mart_daily_user_metrics WHERE pack = 'learning' AND day = {day:Date} ORDER BY user_id LIMIT 1",
      { day: newDay },
    );
    const newDate = new Date(`${newDay}T00:00:00Z`);
    await db()
      .collection('daily_user_metrics')
      .insertOne({ user_id: learner?.user_id, date: newDate, performance_metrics: { error_count: 2 } });
    const before = await storeSnapshot();
    const reports = await writeback();
    for (const [name, mart, applications] of [
      ['daily_user_metrics', 'mart_daily_user_metrics', 1],
      ['content_performance', 'mart_content_performance', 0],
    ] as const) {
      const rows = await martRowsOn(mart, [newDay]);
      expect(rows).toBeGreaterThan(applications);
      const report = reportOf(reports, `.${name}`);
      // The days this mart was rewritten on: the new one, and no day the transform left alone (a
      // run also recomputes content on rating days, which the daily user mart does not rewrite).
      expect(report.days).toContain(newDay);
      expect(recomputed).toEqual(expect.arrayContaining([...report.days]));
      expect(report).toMatchObject({
        compared: await martRowsOn(mart, [...report.days]),
        inserted: rows - applications,
        updated: applications,
      });
      expect(report.unchanged).toBeGreaterThan(report.compared);
    }
    // On the stores: the new day's documents appeared, no other daily document changed.
    const changed = changedKeys(before, await storeSnapshot()).filter(
      (key) => key.startsWith('daily_user_metrics:') || key.startsWith('content_performance:'),
    );
    const dates = await Promise.all(
      changed.map(async (key) => {
        const [collection, id] = key.split(':') as [string, string];
        const documents = await db().collection(collection).find().toArray();
        return day(documents.find((document) => String(document._id) === id)?.date);
      }),
    );
    expect(new Set(dates)).toEqual(new Set([newDay]));
    expect(changed).toHaveLength(
      (await martRowsOn('mart_daily_user_metrics', [newDay])) +
        (await martRowsOn('mart_content_performance', [newDay])),
    );
    // One document for the application's user-day (no second one inserted beside it), its own
    // field kept.
    const byKey = await expectDailyDocumentsEqualMart();
    expect(byKey.get(`${learner?.user_id}|${newDay}`)?.performance_metrics).toEqual({ error_count: 2 });
    // The seed's indexes of the collection, the date's among them, as the target created them.
    const indexes = await db().collection('daily_user_metrics').indexes();
    expect(indexes.map((index) => index.key)).toEqual(
      expect.arrayContaining([{ user_id: 1, date: -1 }, { date: -1 }]),
    );
  });

  it('a run that fails half-way, then a rerun, leaves the store exactly right', async () => {
    await writeback();
    const { newDay, recomputed } = await addDay(12);
    // The third batch fails after writing: before its hashes and the checkpoint are recorded (the
    // worst moment to die). The batches that completed, before it or beside it, are recorded.
    const [daily] = learningTargets({ pack: 'learning', source: SOURCE, mongo: db(), asOf });
    let batches = 0;
    let completed = 0;
    const failing: WritebackTarget = {
      ...(daily as WritebackTarget),
      async write(rows) {
        const written = await (daily as WritebackTarget).write(rows);
        if (++batches === 3) throw new Error('killed');
        completed += rows.length;
        return written;
      },
    };
    await expect(
      runTarget(data.warehouse, failing, { pack: 'learning' }, { dryRun: false, batchSize: 3 }),
    ).rejects.toThrow('killed');
    const rows = await martRowsOn('mart_daily_user_metrics', [newDay]);
    expect(rows).toBeGreaterThan(9);
    // The rerun takes in the same days again; the documents of the failed run are not doubled.
    const rerun = reportOf(await writeback(), '.daily_user_metrics');
    expect(rerun.days).toContain(newDay);
    expect(recomputed).toEqual(expect.arrayContaining([...rerun.days]));
    expect(rerun.compared).toBe(await martRowsOn('mart_daily_user_metrics', [...rerun.days]));
    // Those completed are written and recorded, the failed batch's three written but not recorded
    // (written again, not inserted again).
    expect(completed).toBeGreaterThanOrEqual(6);
    expect({ inserted: rerun.inserted, candidates: rerun.candidates }).toEqual({
      inserted: rows - completed - 3,
      candidates: rows - completed,
    });
    await expectDailyDocumentsEqualMart();
    const before = await storeSnapshot();
    const again = await writeback();
    expect(changedKeys(before, await storeSnapshot())).toEqual([]);
    expect(reportOf(again, '.daily_user_metrics')).toMatchObject({
      days: [],
      compared: 0,
      inserted: 0,
      updated: 0,
    });
  });

  it('after a full rebuild of the marts, compares every row again and writes nothing', async () => {
    await runTransforms({
      warehouse: data.warehouse,
      pack: 'learning',
      mapping: learningPack.mapping(SOURCE),
      full: true,
    });
    const before = await storeSnapshot();
    const daily = reportOf(await writeback(), '.daily_user_metrics');
    expect(daily).toMatchObject({ days: 'all', inserted: 0, updated: 0, candidates: 0 });
    expect(daily.compared).toBe(daily.unchanged);
    expect(daily.compared).toBeGreaterThan(0);
    // (A/B results are recomputed by every run, and their analysis time with them.)
    expect(
      changedKeys(before, await storeSnapshot()).filter(
        (key) => key.startsWith('daily_user_metrics:') || key.startsWith('content_performance:'),
      ),
    ).toEqual([]);
  });

  it('counts in a dry run exactly the streaks the run then resets', async () => {
    // Every streak running again, some of them (the learners of the new days) not lapsed.
    await data.postgres.query('UPDATE user_streaks SET current_streak = 5 WHERE current_streak = 0');
    await data.capture();
    const before = await storeSnapshot();
    const dry = reportOf(await writeback(true), 'user_streaks');
    expect(changedKeys(before, await storeSnapshot())).toEqual([]);
    const run = reportOf(await writeback(), 'user_streaks');
    const reset = changedKeys(before, await storeSnapshot()).filter((key) => key.startsWith('user_streaks:'));
    expect(dry.updated).toBeGreaterThan(0);
    expect(dry.candidates).toBeGreaterThan(dry.updated);
    expect({ dry: dry.updated, run: run.updated, reset: reset.length }).toEqual({
      dry: reset.length,
      run: reset.length,
      reset: reset.length,
    });
    expect(dry.unchanged).toBe(run.unchanged);
    expect(dry.examples.length).toBeGreaterThan(0);
  });
});
