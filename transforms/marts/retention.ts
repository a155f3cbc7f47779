// mart_retention: cohorts by first-activity day and by signup day, by day (periods 0…90) and by
// week (Monday-based, periods 0…12). retained = cohort members active in the period; unbounded =
// active in the period or any later one (never rises). A period the data does not yet cover in
// full is absent, not zero. Signing up counts as activity for signup cohorts, so period 0 is 1.
//
// Everything is bitmap algebra on user keys: a first-activity cohort is the day's active users minus
// everyone active before; retained(c, p) = |cohort ∩ active in period p|; unbounded(c, p) =
// |cohort ∩ active on any day from period p's start on|. No per-user rows are read.
import { quoteString, type Warehouse } from '../../warehouse/index.ts';
import { activeUsersCalendar } from './active-users.ts';
import { insertInto, replacePartitions } from './partitions.ts';

const DAYS_TABLE = '_tributary_retention_days';

const GRAINS = [
  { grain: 'day', periods: 90, start: (column: string) => column, length: 1 },
  { grain: 'week', periods: 12, start: (column: string) => `toMonday(${column})`, length: 7 },
] as const;

export async function recomputeRetention(warehouse: Warehouse, pack: string): Promise<void> {
  const [range] = await warehouse.query<{ first: string; last: string }>(
    `SELECT toString(least(
         (SELECT min(day) FROM agg_daily_active_users WHERE pack = {pack:String}),
         (SELECT if(count() = 0, toDate('2149-06-06'), toDate(min(signup_at))) FROM dim_users WHERE pack = {pack:String}))) AS first,
       toString((SELECT max(day) FROM agg_daily_active_users WHERE pack = {pack:String} AND bitmapCardinality(users) > 0)) AS last`,
    { pack },
  );
  await replacePartitions(warehouse, { table: 'mart_retention', pack, where: '1' }, async (stage, params) => {
    await warehouse.command(`DELETE FROM ${DAYS_TABLE} WHERE pack = {pack:String}`, { pack });
    if (!range || range.last === '1970-01-01') return;
    const bound = { ...params, from: range.first, to: range.last };
    // The window passes, once: everyone active before the day (whose complement in the day's users
    // is the day's first-activity cohort), and everyone active on the day or after it. Walking the
    // days backwards keeps one running union; a frame ending UNBOUNDED FOLLOWING is recomputed from
    // scratch for every row.
    await warehouse.command(
      `INSERT INTO ${DAYS_TABLE}
       SELECT {pack:String}, day, users, active_from, bitmapAndnot(users, earlier) FROM (
         SELECT day, users,
             groupBitmapOrState(users) OVER (ORDER BY day DESC ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS active_from,
             groupBitmapOrState(users) OVER (ORDER BY day ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS earlier
         FROM (${activeUsersCalendar()}))`,
      bound,
    );
    const days = `(SELECT * FROM ${DAYS_TABLE} WHERE pack = {pack:String})`;
    const cohortsOf = {
      first_activity: `SELECT day AS cohort_day, first_active AS members FROM ${days}`,
      signup: `SELECT toDate(signup_at) AS cohort_day, groupBitmapState(user_key) AS members
        FROM dim_users WHERE pack = {pack:String} GROUP BY cohort_day`,
    };
    const activeFrom = `SELECT day AS start, active_from AS users FROM ${days}`;
    const selects = Object.entries(cohortsOf).flatMap(([kind, cohorts]) =>
      GRAINS.map(({ grain, periods, start, length }) => {
        const activeIn =
          length === 1
            ? `SELECT day AS start, users FROM ${days}`
            : `SELECT toMonday(day) AS start, groupBitmapOrState(users) AS users FROM ${days} GROUP BY start`;
        // Period 0 holds every member by definition (their first activity, or their signup).
        return `SELECT {pack:String}, ${quoteString(kind)}, ${quoteString(grain)}, c.cohort_start, c.cohort_size, c.period,
              if(c.period = 0, c.cohort_size, bitmapAndCardinality(c.members, a.users)) AS retained,
              retained / c.cohort_size,
              if(c.period = 0, c.cohort_size, bitmapAndCardinality(c.members, f.users)) AS unbounded,
              unbounded / c.cohort_size
           FROM (
             SELECT cohort_start, members, cohort_size, period,
                 cohort_start + toIntervalDay(period * ${length}) AS period_start
             FROM (
               SELECT cohort_start, members, bitmapCardinality(members) AS cohort_size,
                   -- A period is reported once the data covers all its days.
                   least(${periods}, intDiv(dateDiff('day', cohort_start, {to:Date}) - ${length - 1}, ${length})) AS covered
               FROM (
                 SELECT ${start('cohort_day')} AS cohort_start, groupBitmapOrState(members) AS members
                 FROM (${cohorts}) GROUP BY cohort_start
               )
               WHERE cohort_size > 0 AND covered >= 0
             )
             ARRAY JOIN range(toUInt16(covered + 1)) AS period
           ) AS c
           LEFT JOIN (${activeIn}) AS a ON a.start = c.period_start
           LEFT JOIN (${activeFrom}) AS f ON f.start = c.period_start`;
      }),
    );
    // One statement: ClickHouse runs the branches of a UNION ALL side by side.
    await insertInto(warehouse, stage, selects.join('\n UNION ALL\n'), bound);
  });
}
