// The postbook pack end to end, against an independent oracle: the simulator writes Auth (Postgres)
// and the document services (Mongo), both are captured into chDB, the transforms build the generic
// marts and the pack's own; every one of them is then computed a second time in plain Postgres SQL
// over the Auth tables and the documents read with the driver, counts exactly and rates to 1e-9.
// Then the write-back: its documents against the same oracle, a second run that changes nothing,
// and a capture + transform after it that leaves every mart as it was.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runTarget } from '../../jobs/writeback/engine.ts';
import { DAU_ORACLE, expectSameRows, retentionOracle, type Row } from '../../test/mart-oracle.ts';
import { MONGO_SERVER } from '../../test/mongo.ts';
import { loadPostbookOracle } from '../../test/postbook-oracle.ts';
import {
  POSTBOOK_PACK,
  POSTBOOK_SOURCE,
  postbookWarehouse,
  type PostbookWarehouse,
} from '../../test/postbook-warehouse.ts';
import { postbookPack } from './index.ts';
import {
  AUTHOR_ENGAGEMENT,
  CREATOR_LEADERBOARD,
  DAILY_ACTIVITY,
  HASHTAG_DAILY,
  LEADERBOARD_SIZE,
  POST_ENGAGEMENT,
} from './marts.ts';
import { TREND_WEIGHTS } from './writeback.ts';
import {
  AA_EXPERIMENT,
  COMPOSER_EXPERIMENT,
  COMPOSER_TREATMENT_LIFT,
  composerConverts,
  variantOf,
} from './experiments.ts';

const VIEWS = `('comment', 'reaction', 'share')`;
let data: PostbookWarehouse;

beforeAll(async () => {
  data = await postbookWarehouse({ users: 50, days: 18, seed: 11 });
  await data.transform(true);
  await loadPostbookOracle(data);
}, 600_000);
afterAll(async () => {
  await data?.close();
});

async function oracle(sql: string): Promise<Row[]> {
  return (await data.postgres.query(sql)).rows as Row[];
}

async function mart(sql: string): Promise<Row[]> {
  return data.warehouse.query<Row>(sql, { pack: POSTBOOK_PACK });
}

/** Engagement by others on each live post, in Postgres. */
const ORACLE_POST_ENGAGEMENT = `
  SELECT p.content_id AS post_id, p.user_id AS author_id, p.ts AS created_at,
    count(*) FILTER (WHERE e.event_type = 'comment') AS comments,
    count(*) FILTER (WHERE e.event_type = 'reaction') AS reactions,
    count(*) FILTER (WHERE e.event_type = 'share') AS shares,
    count(DISTINCT e.user_id) AS engaged_users
  FROM oracle_facts p
  LEFT JOIN oracle_facts e ON e.content_id = p.content_id AND e.content_type = 'post'
    AND e.event_type IN ('comment', 'reaction', 'share') AND e.user_id <> p.user_id
  WHERE p.event_type = 'post' GROUP BY 1, 2, 3`;

describe(`postbook marts against an independent Postgres oracle (documents from the ${MONGO_SERVER})`, () => {
  it("dim_users' platform: the device_type of each member's first successful login in the history", async () => {
    const rows = await mart(`SELECT user_id, platform FROM dim_users WHERE pack = {pack:String}`);
    expectSameRows(
      rows,
      await oracle(`SELECT u.user_id::text AS user_id,
          coalesce((SELECT h.device_type FROM user_login_history h
                    WHERE h.user_id = u.user_id AND h.login_status = 'Success'
                    ORDER BY h.login_at, h.login_id LIMIT 1), '') AS platform
        FROM users u`),
      ['user_id'],
    );
    // Not vacuous: members logged in from more than one kind of device.
    expect(
      new Set(rows.map((row) => row.platform).filter((platform) => platform !== '')).size,
    ).toBeGreaterThan(1);
  });

  it('mart_daily_user_metrics', async () => {
    expectSameRows(
      await mart(`SELECT toString(day) AS day, user_id, events, sessions, active_seconds, content_views, completions,
          score_sum, score_count, value FROM mart_daily_user_metrics WHERE pack = {pack:String}`),
      await oracle(`SELECT ts::date::text AS day, user_id, count(*) AS events, 0 AS sessions, 0 AS active_seconds,
          count(DISTINCT content_id) FILTER (WHERE content_id <> '' AND event_type IN ${VIEWS}) AS content_views,
          sum(is_completion) AS completions, 0 AS score_sum, 0 AS score_count, sum(value) AS value
        FROM oracle_facts GROUP BY 1, 2`),
      ['day', 'user_id'],
    );
  });

  it('mart_dau', async () => {
    expectSameRows(
      await mart(
        `SELECT toString(day) AS day, dau, wau, mau, stickiness FROM mart_dau WHERE pack = {pack:String}`,
      ),
      await oracle(DAU_ORACLE),
      ['day'],
    );
  });

  it('mart_content_performance', async () => {
    expectSameRows(
      await mart(`SELECT toString(day) AS day, content_id, content_type, unique_users, views, completions, completion_rate,
          avg_time_spent_s, bounce_rate, rating_count, starters, completers
        FROM mart_content_performance WHERE pack = {pack:String}`),
      await oracle(`WITH per_user AS (
          SELECT ts::date AS day, content_id, content_type, user_id, count(*) AS events,
            count(*) FILTER (WHERE event_type IN ${VIEWS}) AS views,
            count(*) FILTER (WHERE event_type = 'post') AS starts, sum(is_completion) AS completions
          FROM oracle_facts WHERE content_id <> '' GROUP BY 1, 2, 3, 4)
        SELECT day::text AS day, content_id, content_type, count(*) AS unique_users, sum(views) AS views,
          sum(completions) AS completions,
          (count(*) FILTER (WHERE completions > 0))::float8 / nullif(count(*) FILTER (WHERE starts > 0 OR completions > 0), 0)
            AS completion_rate,
          0 AS avg_time_spent_s, (count(*) FILTER (WHERE events = 1))::float8 / count(*) AS bounce_rate,
          0 AS rating_count, count(*) FILTER (WHERE starts > 0 OR completions > 0) AS starters,
          count(*) FILTER (WHERE completions > 0) AS completers
        FROM per_user GROUP BY 1, 2, 3`),
      ['day', 'content_id', 'content_type'],
    );
  });

  it('mart_retention, by first activity and by signup, daily and weekly', async () => {
    expectSameRows(
      await mart(`SELECT cohort_kind, grain, toString(cohort_start) AS cohort_start, period, cohort_size, retained,
          retention_rate, unbounded_retained, unbounded_rate FROM mart_retention WHERE pack = {pack:String}`),
      (
        await Promise.all(
          retentionOracle(`SELECT user_id::text AS user_id, created_at::date AS cohort_day FROM users`).map(
            oracle,
          ),
        )
      ).flat(),
      ['cohort_kind', 'grain', 'cohort_start', 'period'],
    );
  });

  it("mart_ab_results under the pack's metric names: n, mean and variance per experiment, variant and metric", async () => {
    expect(postbookPack.mapping(POSTBOOK_SOURCE).abMetrics.map((metric) => metric.name)).toEqual([
      'posted_7d',
      'active_days_7d',
      'actions_7d',
    ]);
    const window = `f.ts >= e.started_at AND f.ts < e.started_at + interval '7 days'`;
    const expected = await oracle(`
      WITH first_exposure AS (
        SELECT DISTINCT ON (experiment, user_id) experiment, user_id, variant, started_at
        FROM o_exposures ORDER BY experiment, user_id, started_at),
      per_user AS (
        SELECT e.experiment, e.variant, e.user_id,
          max(CASE WHEN ${window} THEN f.is_completion ELSE 0 END) AS posted,
          count(DISTINCT CASE WHEN ${window} THEN f.ts::date END) AS active_days,
          count(*) FILTER (WHERE ${window}) AS actions
        FROM first_exposure e LEFT JOIN oracle_facts f ON f.user_id = e.user_id
        WHERE e.started_at + interval '7 days' <= (SELECT max(ts) FROM oracle_facts)
        GROUP BY 1, 2, 3)
      SELECT experiment, variant, metric, count(*) AS n, avg(value) AS mean, var_samp(value) AS variance
      FROM per_user CROSS JOIN LATERAL (VALUES ('posted_7d', posted::float8), ('active_days_7d', active_days::float8),
        ('actions_7d', actions::float8)) AS m(metric, value)
      GROUP BY 1, 2, 3`);
    expectSameRows(
      await mart(
        `SELECT experiment, variant, metric, n, mean, variance FROM mart_ab_results WHERE pack = {pack:String}`,
      ),
      expected,
      ['experiment', 'variant', 'metric'],
    );
    // The SRM test's counts: every first exposure, whatever its window.
    expectSameRows(
      await mart(
        `SELECT experiment, variant, count() AS n FROM fact_exposures WHERE pack = {pack:String} GROUP BY 1, 2`,
      ),
      await oracle(`SELECT experiment, variant, count(DISTINCT user_id) AS n FROM (
          SELECT DISTINCT ON (experiment, user_id) experiment, user_id, variant FROM o_exposures
          ORDER BY experiment, user_id, started_at) e GROUP BY 1, 2`),
      ['experiment', 'variant'],
    );
  });

  it(DAILY_ACTIVITY, async () => {
    expectSameRows(
      await mart(`SELECT toString(day) AS day, posts, comments, reactions, shares, messages, logins, active_users
        FROM ${DAILY_ACTIVITY} WHERE pack = {pack:String}`),
      await oracle(`SELECT ts::date::text AS day, count(*) FILTER (WHERE event_type = 'post') AS posts,
          count(*) FILTER (WHERE event_type = 'comment') AS comments,
          count(*) FILTER (WHERE event_type = 'reaction') AS reactions,
          count(*) FILTER (WHERE event_type = 'share') AS shares,
          count(*) FILTER (WHERE event_type = 'message') AS messages,
          count(*) FILTER (WHERE event_type = 'login') AS logins, count(DISTINCT user_id) AS active_users
        FROM oracle_facts GROUP BY 1`),
      ['day'],
    );
  });

  it(POST_ENGAGEMENT, async () => {
    expectSameRows(
      await mart(`SELECT post_id, author_id, toString(created_day) AS created_day, comments, reactions, shares,
          engagement, engaged_users FROM ${POST_ENGAGEMENT} WHERE pack = {pack:String}`),
      await oracle(`SELECT post_id, author_id, created_at::date::text AS created_day, comments, reactions, shares,
          comments + reactions + shares AS engagement, engaged_users FROM (${ORACLE_POST_ENGAGEMENT}) p`),
      ['post_id'],
    );
  });

  it(`${AUTHOR_ENGAGEMENT} and ${CREATOR_LEADERBOARD}`, async () => {
    const authors = `SELECT author_id, count(*) AS posts, sum(comments) AS comments_received,
        sum(reactions) AS reactions_received, sum(shares) AS shares_received,
        sum(comments + reactions + shares) AS engagement_received,
        sum(comments + reactions + shares)::float8 / count(*) AS engagement_per_post
      FROM (${ORACLE_POST_ENGAGEMENT}) p GROUP BY 1`;
    expectSameRows(
      await mart(`SELECT author_id, posts, comments_received, reactions_received, shares_received, engagement_received,
          engagement_per_post FROM ${AUTHOR_ENGAGEMENT} WHERE pack = {pack:String}`),
      await oracle(authors),
      ['author_id'],
    );
    expectSameRows(
      await mart(`SELECT rank, author_id, username, posts, engagement_received, engagement_per_post
        FROM ${CREATOR_LEADERBOARD} WHERE pack = {pack:String}`),
      await oracle(`SELECT row_number() OVER (ORDER BY a.engagement_received DESC, a.author_id COLLATE "C") AS rank,
          a.author_id, u.username, a.posts, a.engagement_received, a.engagement_per_post
        FROM (${authors}) a JOIN users u ON u.user_id::text = a.author_id
        ORDER BY rank LIMIT ${LEADERBOARD_SIZE}`),
      ['rank'],
    );
  });

  it(HASHTAG_DAILY, async () => {
    expectSameRows(
      await mart(
        `SELECT toString(day) AS day, tag, posts, authors FROM ${HASHTAG_DAILY} WHERE pack = {pack:String}`,
      ),
      await oracle(`SELECT created_at::date::text AS day, lower(tag) AS tag, count(*) AS posts,
          count(DISTINCT user_id) AS authors
        FROM o_posts CROSS JOIN LATERAL unnest(hashtags) AS tag WHERE NOT is_deleted GROUP BY 1, 2`),
      ['day', 'tag'],
    );
  });
});

describe('planted truths', () => {
  it(`${COMPOSER_EXPERIMENT}: every member's posted_7d is the outcome planted for them; the treatment's rate is ${1 + COMPOSER_TREATMENT_LIFT}× by construction`, async () => {
    const users = await data.warehouse.query<{ user_id: string; variant: string; converted: number }>(
      `SELECT user_id, variant, converted_y AS converted FROM agg_ab_users
       WHERE pack = {pack:String} AND experiment = {experiment:String}
         AND first_exposed_at + toIntervalDay(7) <= (SELECT max(ts) FROM fact_activity WHERE pack = {pack:String})`,
      { pack: POSTBOOK_PACK, experiment: COMPOSER_EXPERIMENT },
    );
    expect(users.length).toBeGreaterThan(20);
    const wrong = users.filter(
      (user) =>
        Number(user.converted) !== Number(composerConverts(user.user_id)) ||
        user.variant !== variantOf(COMPOSER_EXPERIMENT, user.user_id),
    );
    expect(wrong).toEqual([]);
    // Both outcomes occur in both arms: the check above is not vacuous.
    for (const variant of ['control', 'treatment'])
      expect(new Set(users.filter((u) => u.variant === variant).map((u) => Number(u.converted)))).toEqual(
        new Set([0, 1]),
      );
  });

  it(`the treatment's interval on posted_7d is coherent with its p-value, and ${AA_EXPERIMENT} has no lift it is sure of`, async () => {
    const rows = await mart(`SELECT experiment, metric, ci_low, ci_high, p_value FROM mart_ab_results
      WHERE pack = {pack:String} AND variant = 'treatment' AND p_value IS NOT NULL`);
    expect(rows.length).toBeGreaterThan(0);
    for (const row of rows)
      expect(Number(row.p_value) < 0.05, JSON.stringify(row)).toBe(
        Number(row.ci_low) > 0 || Number(row.ci_high) < 0,
      );
    const composer = rows.find((row) => row.experiment === COMPOSER_EXPERIMENT && row.metric === 'posted_7d');
    expect(Number(composer?.ci_low)).toBeLessThanOrEqual(COMPOSER_TREATMENT_LIFT);
    expect(Number(composer?.ci_high)).toBeGreaterThanOrEqual(COMPOSER_TREATMENT_LIFT);
  });
});

describe('postbook write-back', () => {
  const asOf = new Date('2026-11-01T00:00:00Z');
  const targets = () =>
    postbookPack.writeback?.targets({ pack: POSTBOOK_PACK, source: POSTBOOK_SOURCE, asOf, mongo: data.db }) ??
    [];
  const runAll = async () => {
    const reports = [];
    for (const target of targets())
      reports.push(
        await runTarget(data.warehouse, target, { pack: POSTBOOK_PACK }, { dryRun: false, batchSize: 500 }),
      );
    return reports;
  };
  /** Every mart row of the pack, as text, per table. */
  const snapshot = async () => {
    const tables = [
      'mart_daily_user_metrics',
      'mart_dau',
      'mart_content_performance',
      'mart_retention',
      'mart_ab_results',
      DAILY_ACTIVITY,
      POST_ENGAGEMENT,
      AUTHOR_ENGAGEMENT,
      CREATOR_LEADERBOARD,
      HASHTAG_DAILY,
    ];
    const out: Record<string, string[]> = {};
    for (const table of tables) {
      const rows = await mart(`SELECT * FROM ${table} WHERE pack = {pack:String}`);
      // computed_at-like stamps are not results: every column but those is compared.
      out[table] = rows
        .map((row) => JSON.stringify(Object.entries(row).filter(([column]) => column !== 'computed_at')))
        .sort();
    }
    return out;
  };

  it("writes hashtags (the seed's trendScore, count, lastUsed) and user_profiles.statistics as the oracle computes them; a second run writes nothing; capture after it changes no mart", async () => {
    const before = await snapshot();
    const first = await runAll();
    // Rows written (the stand-in reports nested $set updates as not modified: counted by candidates).
    expect(first.map((report) => [report.target, report.candidates > 0])).toEqual(
      first.map((report) => [report.target, true]),
    );

    const at = `'${asOf.toISOString()}'::timestamp`;
    const trend = TREND_WEIGHTS.map(
      ({ hours, weight }) =>
        `count(*) FILTER (WHERE created_at > ${at} - interval '${hours} hours') * ${weight}`,
    ).join(' + ');
    const expectedTags = await oracle(`SELECT lower(tag) AS tag, count(*) AS count, ${trend} AS trend_score,
        (extract(epoch FROM max(created_at)) * 1000)::bigint AS last_used
      FROM o_posts CROSS JOIN LATERAL unnest(hashtags) AS tag
      WHERE NOT is_deleted AND original_post_id IS NULL AND created_at <= ${at} GROUP BY 1`);
    const tags = await data.db.collection('hashtags').find({}).toArray();
    expectSameRows(
      tags.map((doc) => ({
        tag: doc.tag,
        count: Number(doc.count),
        trend_score: Number(doc.trendScore),
        last_used: (doc.lastUsed as Date).getTime(),
      })),
      expectedTags,
      ['tag'],
    );
    expect(tags.some((doc) => Number(doc.trendScore) > 0)).toBe(true);

    const expectedStatistics = await oracle(`SELECT p.user_id, p.friends, p.followers, p.following,
        (SELECT count(*) FROM o_posts o WHERE o.user_id = p.user_id AND NOT o.is_deleted AND o.original_post_id IS NULL) AS posts,
        (SELECT count(*) FROM o_media m WHERE m.user_id = p.user_id AND NOT m.is_deleted AND m.file_type = 'Image') AS photos,
        (SELECT count(*) FROM o_media m WHERE m.user_id = p.user_id AND NOT m.is_deleted AND m.file_type = 'Video') AS videos
      FROM o_profiles p`);
    const profiles = await data.db.collection('user_profiles').find({}).toArray();
    expectSameRows(
      profiles.map((doc) => {
        const statistics = doc.statistics as Record<string, unknown>;
        return {
          user_id: doc.userId,
          friends: Number(statistics.friendsCount),
          followers: Number(statistics.followersCount),
          following: Number(statistics.followingCount),
          posts: Number(statistics.postsCount),
          photos: Number(statistics.photosCount),
          videos: Number(statistics.videosCount),
        };
      }),
      expectedStatistics,
      ['user_id'],
    );

    const second = await runAll();
    expect(
      second.map((report) => [report.target, report.candidates, report.inserted, report.updated]),
    ).toEqual(second.map((report) => [report.target, 0, 0, 0]));
    const tagsAgain = await data.db.collection('hashtags').find({}).toArray();
    expect(tagsAgain).toEqual(tags);

    // The written statistics reach the user_profiles mirror (hashtags are not captured at all)…
    await data.capture();
    const [written] = await data.warehouse.query<{ n: string }>(
      `SELECT count() AS n FROM raw.${POSTBOOK_SOURCE}_user_profiles FINAL
       WHERE _is_deleted = 0 AND JSONExtractString(doc, 'statistics', 'postsCount', '$numberInt') != '0'`,
    );
    expect(Number(written?.n)).toBeGreaterThan(0);
    const tables = await data.warehouse.query<{ name: string }>(
      `SELECT name FROM system.tables WHERE database = 'raw' AND name = '${POSTBOOK_SOURCE}_hashtags'`,
    );
    expect(tables).toEqual([]);
    // …and the transforms that follow leave every mart as it was: the incremental run that the new
    // mirror versions start, and a full recompute.
    const run = await data.transform();
    expect(run.mode).toBe('incremental');
    expect(await snapshot()).toEqual(before);
    await data.transform(true);
    expect(await snapshot()).toEqual(before);
  });
});

describe('incremental = full', () => {
  it('after the apps delete, unlike, comment and rename, an incremental run leaves the marts a full run builds', async () => {
    const posts = await data.db.collection('posts').find({ isDeleted: false }).limit(3).toArray();
    const likes = await data.db.collection('likes').find({}).limit(4).toArray();
    const [first, second] = posts;
    if (!first || !second) throw new Error('the simulation wrote too few posts');
    const day = new Date('2026-10-30T12:00:00Z');
    await data.db
      .collection('posts')
      .updateOne({ _id: first._id }, { $set: { isDeleted: true, deletedAt: day } });
    await data.db.collection('likes').deleteMany({ _id: { $in: likes.map((like) => like._id) } });
    await data.db.collection('comments').insertOne({
      postId: second._id,
      userId: second.userId,
      content: 'late reply',
      isDeleted: false,
      createdAt: day,
    });
    await data.postgres.query(
      `UPDATE users SET username = 'renamed_creator' WHERE user_id = (SELECT user_id FROM users ORDER BY user_id LIMIT 1)`,
    );
    await data.capture();
    const run = await data.transform();
    expect(run.mode).toBe('incremental');
    const tables = [
      'mart_daily_user_metrics',
      'mart_dau',
      'mart_content_performance',
      'mart_ab_results',
      'mart_retention',
      DAILY_ACTIVITY,
      POST_ENGAGEMENT,
      AUTHOR_ENGAGEMENT,
      CREATOR_LEADERBOARD,
      HASHTAG_DAILY,
    ];
    const read = async () => {
      const out: Record<string, string[]> = {};
      for (const table of tables)
        out[table] = (await mart(`SELECT * FROM ${table} WHERE pack = {pack:String}`))
          .map((row) => JSON.stringify(Object.entries(row).filter(([column]) => column !== 'computed_at')))
          .sort();
      return out;
    };
    const incremental = await read();
    await data.transform(true);
    expect(incremental).toEqual(await read());
    expect(incremental[POST_ENGAGEMENT]?.length).toBeGreaterThan(0);
  });
});
