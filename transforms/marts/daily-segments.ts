// agg_daily_segments: per (pack, day, country, signup month, platform) — active users, events and
// signups. The Overview's period summary adds these up instead of reading per-user rows. A user's
// segment comes from dim_users, which every run rebuilds, so besides the days whose activity
// changed, a run recomputes the days of the users whose country, platform or signup day changed
// since the last one (agg_segment_users keeps what each user was counted as): their signup days,
// old and new, and their active days. Users are compared by bucket digest first, so a run where few
// users changed compares few of them.
import type { Warehouse } from '../../warehouse/index.ts';
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

export async function recomputeDailySegments(
  warehouse: Warehouse,
  pack: string,
  activityDays: DaySelection,
): Promise<void> {
  const changes = activityDays === 'all' ? undefined : await segmentChanges(warehouse, pack);
  const days: DaySelection =
    activityDays === 'all' ? 'all' : [...new Set([...activityDays, ...(changes?.days ?? [])])].sort();
  // A user missing from dim_users joins with empty strings: counted in the totals, in no segment.
  const users = `SELECT user_id, country, signup_day, formatDateTime(signup_day, '%Y-%m') AS signup_month, platform
    FROM (${SEGMENT_USERS})`;
  await replaceDays(warehouse, 'agg_daily_segments', pack, days, {
    select: `SELECT {pack:String}, day, country, signup_month, platform,
        sum(active) AS active_users, sum(events) AS events, sum(signups) AS new_users
      FROM (
        SELECT m.day AS day, u.country AS country, u.signup_month AS signup_month, u.platform AS platform,
          1 AS active, m.events AS events, 0 AS signups
        FROM mart_daily_user_metrics AS m LEFT JOIN (${users}) AS u ON u.user_id = m.user_id
        WHERE m.pack = {pack:String} AND m.day IN {days:Array(Date)}
        UNION ALL
        SELECT signup_day, country, signup_month, platform, 0, 0, 1
        FROM (${users}) WHERE signup_day IN {days:Array(Date)}
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
 * The buckets of users whose (country, signup day, platform) differs from agg_segment_users, and
 * the days those users count on: a tuple on one side only belongs to a user who appeared, left or
 * changed; their signup days, old and new, and their active days are recomputed.
 */
async function segmentChanges(
  warehouse: Warehouse,
  pack: string,
): Promise<{ buckets: number[]; days: string[] }> {
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
