// mart_retention: cohorts by first-activity day and by signup day, by day (periods 0…90) and by
// week (Monday-based, periods 0…12). retained = cohort members active in the period; unbounded =
// active in the period or any later one (never rises). A period the data does not yet cover in
// full is absent, not zero. Signing up counts as activity for signup cohorts, so period 0 is 1.
import type { Warehouse } from '../../warehouse/index.ts';

const GRAINS = [
  { grain: 'day', periods: 90, start: (column: string) => column, length: 1 },
  { grain: 'week', periods: 12, start: (column: string) => `toMonday(${column})`, length: 7 },
] as const;

export async function recomputeRetention(warehouse: Warehouse, pack: string): Promise<void> {
  const [range] = await warehouse.query<{ last: string }>(
    `SELECT toString(max(day)) AS last FROM fact_activity WHERE pack = {pack:String}`,
    { pack },
  );
  await warehouse.command(`DELETE FROM mart_retention WHERE pack = {pack:String}`, { pack });
  if (!range || range.last === '1970-01-01') return;
  const cohorts = {
    first_activity: {
      members: `SELECT user_id, min(day) AS cohort_day FROM fact_activity WHERE pack = {pack:String} GROUP BY user_id`,
      activity: `SELECT DISTINCT user_id, day FROM fact_activity WHERE pack = {pack:String}`,
    },
    signup: {
      members: `SELECT user_id, toDate(signup_at) AS cohort_day FROM dim_users WHERE pack = {pack:String}`,
      activity: `SELECT DISTINCT user_id, day FROM fact_activity WHERE pack = {pack:String}
        UNION DISTINCT SELECT user_id, toDate(signup_at) FROM dim_users WHERE pack = {pack:String}`,
    },
  };
  for (const [kind, cohort] of Object.entries(cohorts))
    for (const { grain, periods, start, length } of GRAINS) {
      // Per member: the periods they were active in, counted from their cohort's start.
      await warehouse.command(
        `INSERT INTO mart_retention
         SELECT {pack:String}, {kind:String}, {grain:String}, cohort_start, count() AS cohort_size, period,
             countIf(has(active_periods, period)) AS retained, retained / cohort_size,
             countIf(last_period >= period) AS unbounded_retained, unbounded_retained / cohort_size
         FROM (
           SELECT m.user_id, ${start('m.cohort_day')} AS cohort_start,
               groupUniqArray(toUInt16(intDiv(dateDiff('day', ${start('m.cohort_day')}, ${start('a.day')}), ${length}))) AS active_periods,
               arrayMax(active_periods) AS last_period,
               -- The last period whose days the data covers in full.
               least(${periods}, intDiv(dateDiff('day', cohort_start, {last:Date}) - ${length - 1}, ${length})) AS covered
           FROM (${cohort.members}) AS m
           INNER JOIN (${cohort.activity}) AS a ON a.user_id = m.user_id
           WHERE a.day >= m.cohort_day
           GROUP BY m.user_id, cohort_start
         )
         ARRAY JOIN range(0, toUInt16(greatest(covered + 1, 0))) AS period
         GROUP BY cohort_start, period`,
        { pack, kind, grain, last: range.last },
      );
    }
}
