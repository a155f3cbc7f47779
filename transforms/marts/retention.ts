// mart_retention: cohorts by first-activity day and by signup day, by day (periods 0…90) and by
// week (Monday-based, periods 0…12). retained = cohort members active in the period; unbounded =
// active in the period or any later one (never rises). A period the data does not yet cover in
// full is absent, not zero. Signing up counts as activity for signup cohorts, so period 0 is 1.
import type { Warehouse } from '../../warehouse/index.ts';

const GRAINS = [
  { grain: 'day', periods: 90, start: (column: string) => column, length: 1 },
  { grain: 'week', periods: 12, start: (column: string) => `toMonday(${column})`, length: 7 },
] as const;

const WORK_TABLE = '_tributary_retention_work';

export async function recomputeRetention(warehouse: Warehouse, pack: string): Promise<void> {
  const [range] = await warehouse.query<{ last: string }>(
    `SELECT toString(max(day)) AS last FROM fact_activity WHERE pack = {pack:String}`,
    { pack },
  );
  await warehouse.command(`DELETE FROM mart_retention WHERE pack = {pack:String}`, { pack });
  if (!range || range.last === '1970-01-01') return;
  // One row per user: their active days (fact_activity) and signup day (dim_users).
  await warehouse.command(`TRUNCATE TABLE ${WORK_TABLE}`);
  await warehouse.command(
    `INSERT INTO ${WORK_TABLE}
     SELECT user_id, days, signup_day FROM (
       SELECT user_id, groupUniqArray(day) AS days FROM fact_activity WHERE pack = {pack:String} GROUP BY user_id
     ) AS a
     FULL JOIN (
       SELECT user_id, toNullable(toDate(signup_at)) AS signup_day FROM dim_users WHERE pack = {pack:String}
     ) AS u USING (user_id)`,
    { pack },
  );
  const kinds = {
    first_activity: { where: 'notEmpty(days)', cohortDay: 'arrayMin(days)', active: 'days' },
    signup: {
      where: 'signup_day IS NOT NULL',
      cohortDay: 'assumeNotNull(signup_day)',
      active: 'arrayPushBack(days, assumeNotNull(signup_day))',
    },
  };
  for (const [kind, { where, cohortDay, active }] of Object.entries(kinds))
    for (const { grain, periods, start, length } of GRAINS) {
      // Per member: the cohort's start and the distinct periods they were active in.
      const members = `
        SELECT user_id, ${start('cohort_day')} AS cohort_start,
            arrayDistinct(arrayMap(day -> toUInt16(intDiv(dateDiff('day', cohort_start, ${start('day')}), ${length})),
              arrayFilter(day -> day >= cohort_day, active))) AS periods
        FROM (SELECT user_id, ${cohortDay} AS cohort_day, ${active} AS active FROM ${WORK_TABLE} WHERE ${where})`;
      // A period is reported once the data covers all its days; unbounded(N) counts the members
      // whose last active period is N or later.
      await warehouse.command(
        `INSERT INTO mart_retention
         SELECT {pack:String}, {kind:String}, {grain:String}, c.cohort_start, c.cohort_size, c.period,
             coalesce(r.retained, 0) AS retained, retained / c.cohort_size,
             coalesce(u.unbounded, 0) AS unbounded, unbounded / c.cohort_size
         FROM (
           SELECT cohort_start, cohort_size, arrayJoin(range(toUInt16(covered + 1))) AS period
           FROM (
             SELECT cohort_start, count() AS cohort_size,
                 least(${periods}, intDiv(dateDiff('day', cohort_start, {last:Date}) - ${length - 1}, ${length})) AS covered
             FROM (${members}) GROUP BY cohort_start HAVING covered >= 0
           )
         ) AS c
         LEFT JOIN (
           SELECT cohort_start, period, count() AS retained FROM (${members}) ARRAY JOIN periods AS period
           GROUP BY cohort_start, period
         ) AS r ON r.cohort_start = c.cohort_start AND r.period = c.period
         LEFT JOIN (
           SELECT l.cohort_start, p.period, sumIf(l.members, l.last_period >= p.period) AS unbounded
           FROM (
             SELECT cohort_start, arrayMax(periods) AS last_period, count() AS members FROM (${members})
             GROUP BY cohort_start, last_period
           ) AS l
           CROSS JOIN (SELECT toUInt16(number) AS period FROM numbers(${periods + 1})) AS p
           GROUP BY l.cohort_start, p.period
         ) AS u ON u.cohort_start = c.cohort_start AND u.period = c.period`,
        { pack, kind, grain, last: range.last },
      );
    }
  await warehouse.command(`TRUNCATE TABLE ${WORK_TABLE}`);
}
