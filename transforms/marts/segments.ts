// User segments (country, platform, signup month): the one rule that says who is in a segment, and
// what the per-segment pre-aggregates (agg_daily_segments, agg_content_segments) need to stay right
// when a user moves. A user's segment comes from dim_users, which every run rebuilds, so besides the
// days whose facts changed, a run recomputes those aggregates on the days of the users whose
// country, platform or signup day changed since the last one (agg_segment_users keeps what each
// user was counted as): their signup days, old and new, and their active and rating days.
import type { Warehouse } from '../../warehouse/index.ts';
import { replacePartitions } from './partitions.ts';

/** A user's signup month (YYYY-MM), the signup-cohort filter's value, from dim_users.signup_at. */
export const SIGNUP_MONTH = "formatDateTime(signup_at, '%Y-%m')";

/**
 * The segment filter over the columns holding a row's country, platform and signup month, bound as
 * `{country}`, `{platform}` and `{cohort}`; an empty value matches everyone.
 */
function inSegment(columns: { country: string; platform: string; signupMonth: string }): string {
  return `({country:String} = '' OR ${columns.country} = {country:String})
  AND ({platform:String} = '' OR ${columns.platform} = {platform:String})
  AND ({cohort:String} = '' OR ${columns.signupMonth} = {cohort:String})`;
}

/** dim_users' rows of a segment: the pack's (`{pack}`) users of a country, platform and signup month. */
export const IN_USER_SEGMENT = `pack = {pack:String}
  AND ${inSegment({ country: 'country', platform: 'platform', signupMonth: SIGNUP_MONTH })}`;

/** A pre-aggregate's segment cells (columns `country`, `platform`, `signup_month`) in a segment. */
export const IN_SEGMENT_CELL = inSegment({
  country: 'country',
  platform: 'platform',
  signupMonth: 'signup_month',
});

const SEGMENT_USERS = `SELECT user_id, country, toDate(signup_at) AS signup_day, platform
  FROM dim_users WHERE pack = {pack:String}`;

/**
 * The days of the users whose (country, signup day, platform) in dim_users differs from
 * agg_segment_users (a tuple on one side only belongs to a user who appeared, left or changed):
 * their signup days, old and new, their active days and the days they rated content.
 */
export async function segmentChangeDays(warehouse: Warehouse, pack: string): Promise<string[]> {
  const [row] = await warehouse.query<{ days: string[] }>(
    `WITH changed AS (
       SELECT user_id, signup_day FROM (
         SELECT user_id, country, signup_day, platform, 1 AS side FROM (${SEGMENT_USERS})
         UNION ALL
         SELECT user_id, country, signup_day, platform, -1 FROM agg_segment_users WHERE pack = {pack:String})
       GROUP BY user_id, country, signup_day, platform HAVING sum(side) != 0)
     SELECT groupUniqArray(toString(day)) AS days FROM (
       SELECT signup_day AS day FROM changed
       UNION ALL
       SELECT day FROM mart_daily_user_metrics
       WHERE pack = {pack:String} AND user_id IN (SELECT user_id FROM changed)
       UNION ALL
       SELECT day FROM fact_ratings
       WHERE pack = {pack:String} AND user_id IN (SELECT user_id FROM changed))`,
    { pack },
  );
  return [...(row?.days ?? [])].sort();
}

/** Records the segment each user of dim_users is now counted in, for the next run's comparison. */
export async function recordSegmentUsers(warehouse: Warehouse, pack: string): Promise<void> {
  await replacePartitions(warehouse, { table: 'agg_segment_users', pack, where: '1' }, (stage, params) =>
    warehouse.command(
      `INSERT INTO ${stage} (pack, user_id, country, signup_day, platform)
       SELECT {pack:String}, * FROM (${SEGMENT_USERS})`,
      params,
    ),
  );
}

/** dim_users' segment columns of a user, to join to facts by `key` (`user_key` or `user_id`). */
export function segmentOfUser(key: 'user_key' | 'user_id'): string {
  return `SELECT ${key}, country, platform, ${SIGNUP_MONTH} AS signup_month
    FROM dim_users WHERE pack = {pack:String}`;
}
