// agg_daily_segments: per (pack, day, country, signup month, platform) — active users, events,
// signups, and how many of the active users were last active 1…27 days before. The Overview's
// period summary adds these up instead of reading per-user rows, and its WAU and MAU narrowed to a
// segment add up the users new to each window (README, "Marts"). A user's segment comes from
// dim_users, which every run rebuilds, so besides the days whose activity changed and the 27 after
// each (whose users' previous active day may have changed), a run recomputes the days of the users
// whose country, platform or signup day changed since the last one (agg_segment_users keeps what
// each user was counted as): their signup days, old and new, and their active days. Users are
// compared by bucket digest first, so a run where few users changed compares few of them.
import type { Warehouse } from '../../warehouse/index.ts';
import { daysInWindowsOf, MAU_WINDOW_DAYS } from './dau.ts';
import { replaceDays, replacePartitions, type DaySelection } from './partitions.ts';

const SEGMENT_USERS = `SELECT user_id, country, toDate(signup_at) AS signup_day, platform
  FROM dim_users WHERE pack = {pack:String}`;

/** What each user was counted as when agg_daily_segments was last computed. */
const COUNTED_USERS = `SELECT user_id, country, signup_day, platform
  FROM agg_segment_users WHERE pack = {pack:String}`;

/**
 * Users are compared by bucket first: a bucket's digest (the sum of its users' tuple hashes) and
 * count on each side, so only the buckets where something changed are compared user by user. A
 * run usually sees a few new or changed users among millions (bench:marts, 1M users: the
 * user-by-user comparison of everyone took 1.6–2.3 s of a one-day run).
 */
const DIGEST_BUCKETS = 4096;
const USER_BUCKET = `cityHash64(user_id) % ${DIGEST_BUCKETS}`;

/** Users whose segment changed since agg_segment_users was written, and the days they count on. */
export interface SegmentChanges {
  buckets: number[];
  days: string[];
}

export async function recomputeDailySegments(
  warehouse: Warehouse,
  pack: string,
  activityDays: DaySelection,
  /** What segmentChanges found before this run's steps; found here when absent. */
  known?: SegmentChanges,
): Promise<void> {
  const changes = activityDays === 'all' ? undefined : (known ?? (await segmentChanges(warehouse, pack)));
  const days: DaySelection =
    activityDays === 'all'
      ? 'all'
      : [
          ...new Set([...(await withDaysAfter(warehouse, pack, activityDays)), ...(changes?.days ?? [])]),
        ].sort();
  // A user missing from dim_users joins with empty strings: counted in the totals, in no segment.
  const users = `SELECT user_id, country, signup_day, formatDateTime(signup_day, '%Y-%m') AS signup_month, platform
    FROM (${SEGMENT_USERS})`;
  // Each user-day with its user's segment and the days since the user's previous active day (0:
  // none in the 27 days before), from the days written and the 27 before the first: a user's days
  // are one sorted array, joined to the user once before it is unrolled. For a day or two, only
  // the users active on them are read back (a tenth of the rows); for more days that filter costs
  // more than it saves (bench:dashboards' warehouse: 7 days 1.9 CPU-s with it, 1.0 without).
  const fewDays = days !== 'all' && days.length <= 2;
  const activity = `SELECT t.1 AS day, country, signup_month, platform, t.2 AS events,
      if(t.3 < ${MAU_WINDOW_DAYS}, t.3, 0) AS gap
    FROM (
      SELECT a.active AS active, u.country AS country, u.signup_month AS signup_month, u.platform AS platform
      FROM (
        SELECT user_id, arraySort(groupArray((day, events))) AS active
        FROM mart_daily_user_metrics
        WHERE pack = {pack:String}
          AND day BETWEEN arrayMin({days:Array(Date)}) - ${MAU_WINDOW_DAYS - 1} AND arrayMax({days:Array(Date)})
          ${fewDays ? 'AND user_id IN (SELECT user_id FROM mart_daily_user_metrics WHERE pack = {pack:String} AND day IN {days:Array(Date)})' : ''}
        GROUP BY user_id) AS a
      LEFT JOIN (${users}) AS u ON u.user_id = a.user_id)
    -- The first day's difference is 0: no earlier day in the range.
    ARRAY JOIN arrayZip(active.1, active.2, arrayDifference(arrayMap(day -> toInt32(day), active.1))) AS t
    WHERE t.1 IN {days:Array(Date)}`;
  await replaceDays(warehouse, 'agg_daily_segments', pack, days, {
    select: `SELECT {pack:String}, day, country, signup_month, platform,
        sum(active) AS active_users, sum(events) AS events, sum(signups) AS new_users,
        sumForEach(arrayMap(g -> if(gap = g, active, 0), range(1, ${MAU_WINDOW_DAYS}))) AS returning_users
      FROM (
        SELECT day, country, signup_month, platform, count() AS active, sum(events) AS events, 0 AS signups, gap
        FROM (${activity})
        GROUP BY day, country, signup_month, platform, gap
        UNION ALL
        SELECT signup_day, country, signup_month, platform, 0, 0, count(), 0
        FROM (${users}) WHERE signup_day IN {days:Array(Date)}
        GROUP BY signup_day, country, signup_month, platform
      )
      GROUP BY day, country, signup_month, platform`,
    allDays: `SELECT day FROM mart_daily_user_metrics WHERE pack = {pack:String}
      UNION ALL SELECT toDate(signup_at) AS day FROM dim_users WHERE pack = {pack:String}`,
  });
  // Nobody's segment changed: what agg_segment_users holds is still right.
  if (changes?.buckets.length === 0) return;
  await replacePartitions(warehouse, { table: 'agg_segment_users', pack, where: '1' }, (stage, params) =>
    warehouse.command(
      `INSERT INTO ${stage} (pack, user_id, country, signup_day, platform)
       SELECT {pack:String}, * FROM (${SEGMENT_USERS})`,
      params,
    ),
  );
}

/**
 * The changed activity days and the 27 after each, up to the last active day: a user's activity
 * on a day is the previous active day of their next one.
 */
async function withDaysAfter(warehouse: Warehouse, pack: string, changed: string[]): Promise<string[]> {
  const [range] = await warehouse.query<{ first: string; last: string }>(
    `SELECT toString(min(day)) AS first, toString(max(day)) AS last FROM mart_daily_user_metrics
     WHERE pack = {pack:String}`,
    { pack },
  );
  // Days with no activity left (all of it deleted) are still written, so their rows go.
  if (!range || range.first === '1970-01-01') return changed;
  return [...new Set([...changed, ...daysInWindowsOf(range.first, range.last, changed)])];
}

/**
 * The buckets of users whose (country, signup day, platform) differs from agg_segment_users, and
 * the days those users count on: a tuple on one side only belongs to a user who appeared, left or
 * changed; their signup days, old and new, and their active days are recomputed.
 */
export async function segmentChanges(warehouse: Warehouse, pack: string): Promise<SegmentChanges> {
  const digests = (users: string) =>
    `SELECT ${USER_BUCKET} AS bucket, sum(cityHash64(user_id, country, signup_day, platform)) AS digest,
       count() AS users
     FROM (${users}) GROUP BY bucket`;
  const [differing] = await warehouse.query<{ buckets: number[] }>(
    `SELECT groupArray(bucket) AS buckets FROM (
       SELECT bucket FROM (${digests(SEGMENT_USERS)} UNION ALL ${digests(COUNTED_USERS)})
       GROUP BY bucket HAVING count() = 1 OR min(digest) != max(digest) OR min(users) != max(users))`,
    { pack },
  );
  const buckets = (differing?.buckets ?? []).map(Number);
  if (buckets.length === 0) return { buckets, days: [] };
  const [row] = await warehouse.query<{ days: string[] }>(
    `WITH changed AS (
       SELECT user_id, signup_day FROM (
         SELECT user_id, country, signup_day, platform, 1 AS side FROM (${SEGMENT_USERS})
         WHERE ${USER_BUCKET} IN {buckets:Array(UInt16)}
         UNION ALL
         SELECT user_id, country, signup_day, platform, -1 FROM (${COUNTED_USERS})
         WHERE ${USER_BUCKET} IN {buckets:Array(UInt16)})
       GROUP BY user_id, country, signup_day, platform HAVING sum(side) != 0)
     SELECT groupUniqArray(toString(day)) AS days FROM (
       SELECT signup_day AS day FROM changed
       UNION ALL
       SELECT day FROM mart_daily_user_metrics
       WHERE pack = {pack:String} AND user_id IN (SELECT user_id FROM changed))`,
    { pack, buckets },
  );
  return { buckets, days: row?.days ?? [] };
}
