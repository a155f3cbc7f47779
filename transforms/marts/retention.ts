// mart_retention: cohorts by first-activity day and by signup day, by day (periods 0…90) and by
// week (Monday-based, periods 0…12). retained = cohort members active in the period; unbounded =
// active in the period or any later one (never rises). A period the data does not yet cover in
// full is absent, not zero. Signing up counts as activity for signup cohorts, so period 0 is 1.
//
// Everything is bitmap algebra on user keys: a first-activity cohort is the day's active users minus
// everyone active before; retained(c, p) = |cohort ∩ active in period p|; unbounded(c, p) =
// |cohort ∩ active on any day from period p's start on|. No per-user rows are read.
//
// Incremental: the cohorts of the last run are kept (agg_retention_cohorts). A cell of a cohort
// whose members are the same keeps its retained count when no changed day lies in its period, and
// its unbounded count when every changed day lies before the period starts; only the other cells
// pay for an intersection (about 50 µs each here, and 17k of them for 91 days).
import { quoteString, type Warehouse } from '../../warehouse/index.ts';
import { activeUsersCalendar } from './active-users.ts';
import { insertInto, replacePartitions, type DaySelection } from './partitions.ts';

const DAYS_TABLE = '_tributary_retention_days';

const COHORT_KINDS = ['first_activity', 'signup'] as const;

const GRAINS = [
  { grain: 'day', periods: 90, length: 1 },
  { grain: 'week', periods: 12, length: 7 },
] as const;

/** The query parameter listing the unchanged cohorts of one kind and grain (by their first day). */
function unchangedParam(kind: string, grain: string): string {
  return `unchanged_${kind}_${grain}`;
}

/**
 * The cohorts whose members are the same as at the last run, as query parameters per kind and
 * grain. Found here, in one small query: joining the old cohorts into the cells query costs more
 * than every retained count it saves (the members' bitmaps are copied through the join).
 */
async function unchangedCohorts(
  warehouse: Warehouse,
  pack: string,
  cohortStage: string,
  /** False for a full recompute: every cohort counts as changed. */
  reuse: boolean,
): Promise<Record<string, string[]>> {
  const rows = !reuse
    ? []
    : await warehouse.query<{ cohort_kind: string; grain: string; starts: string[] }>(
        `SELECT n.cohort_kind AS cohort_kind, n.grain AS grain, groupArray(toString(n.cohort_start)) AS starts
     FROM (SELECT * FROM ${cohortStage} WHERE pack = {pack:String}) AS n
     INNER JOIN (SELECT * FROM agg_retention_cohorts WHERE pack = {pack:String}) AS old
       ON old.cohort_kind = n.cohort_kind AND old.grain = n.grain AND old.cohort_start = n.cohort_start
     WHERE bitmapXorCardinality(n.members, old.members) = 0
     GROUP BY cohort_kind, grain`,
        { pack },
      );
  const unchanged: Record<string, string[]> = {};
  for (const kind of COHORT_KINDS)
    for (const { grain } of GRAINS)
      unchanged[unchangedParam(kind, grain)] =
        rows.find((row) => row.cohort_kind === kind && row.grain === grain)?.starts ?? [];
  return unchanged;
}

/** The rows of one cohort kind and grain of the pack, in a retention table. */
function cohortOf(kind: string, grain: string): string {
  return `pack = {pack:String} AND cohort_kind = ${quoteString(kind)} AND grain = ${quoteString(grain)}`;
}

export async function recomputeRetention(
  warehouse: Warehouse,
  pack: string,
  changedDays: DaySelection,
): Promise<void> {
  // Every row of agg_daily_active_users holds at least one user: a day without facts has no row.
  const [range] = await warehouse.query<{ first: string; last: string }>(
    `SELECT toString(least(
         (SELECT min(day) FROM agg_daily_active_users WHERE pack = {pack:String}),
         (SELECT if(count() = 0, toDate('2149-06-06'), toDate(min(signup_at))) FROM dim_users WHERE pack = {pack:String}))) AS first,
       toString((SELECT max(day) FROM agg_daily_active_users WHERE pack = {pack:String})) AS last`,
    { pack },
  );
  const cohorts = { table: 'agg_retention_cohorts', pack, where: '1' };
  await replacePartitions(warehouse, cohorts, async (cohortStage) => {
    await replacePartitions(
      warehouse,
      { table: 'mart_retention', pack, where: '1' },
      async (stage, params) => {
        await warehouse.command(`ALTER TABLE ${DAYS_TABLE} DROP PARTITION ${quoteString(pack)}`);
        if (!range || range.last === '1970-01-01') return;
        const bound = {
          ...params,
          from: range.first,
          to: range.last,
          changed: changedDays === 'all' ? [] : changedDays,
          lastChanged:
            changedDays === 'all'
              ? range.last
              : changedDays.reduce((last, day) => (day > last ? day : last), '1970-01-01'),
        };
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
        await insertInto(
          warehouse,
          cohortStage,
          `SELECT {pack:String}, cohort_kind, grain, cohort_start, groupBitmapOrState(members) FROM (
           SELECT 'first_activity' AS cohort_kind, day AS cohort_day, first_active AS members FROM ${days}
           UNION ALL
           SELECT 'signup', toDate(signup_at), groupBitmapState(user_key) FROM dim_users
           WHERE pack = {pack:String} GROUP BY toDate(signup_at)
         )
         ARRAY JOIN ['day', 'week'] AS grain, [cohort_day, toMonday(cohort_day)] AS cohort_start
         GROUP BY cohort_kind, grain, cohort_start`,
          bound,
        );
        // One branch per cohort kind and grain: ClickHouse runs the branches of a UNION ALL side by
        // side. Period 0 holds every member by definition (their first activity, or their signup).
        // Reused counts come from the mart as the last run left it; `if` evaluates an intersection
        // only for the rows that need it.
        const selects = COHORT_KINDS.flatMap((kind) =>
          GRAINS.map(({ grain, periods, length }) => {
            const activeIn =
              length === 1
                ? `SELECT day AS start, users FROM ${days}`
                : `SELECT toMonday(day) AS start, groupBitmapOrState(users) AS users FROM ${days} GROUP BY start`;
            // The starts of the periods that hold a changed day.
            const changedStarts =
              length === 1 ? '{changed:Array(Date)}' : 'arrayMap(d -> toMonday(d), {changed:Array(Date)})';
            const cell = (kept: string, column: string, intersection: string) =>
              `if(c.period = 0, c.cohort_size, if(${kept} AND o.cohort_size > 0, o.${column}, ${intersection}))`;
            return `SELECT {pack:String}, ${quoteString(kind)}, ${quoteString(grain)}, c.cohort_start, c.cohort_size, c.period,
                ${cell('c.keep_retained', 'retained', 'bitmapAndCardinality(c.members, a.users)')} AS retained,
                retained / c.cohort_size,
                ${cell('c.keep_unbounded', 'unbounded_retained', 'bitmapAndCardinality(c.members, f.users)')} AS unbounded,
                unbounded / c.cohort_size
             FROM (
               SELECT cohort_start, members, cohort_size, period,
                   cohort_start + toIntervalDay(period * ${length}) AS period_start,
                   unchanged AND NOT has(${changedStarts}, period_start) AS keep_retained,
                   unchanged AND period_start > {lastChanged:Date} AS keep_unbounded
               FROM (
                 SELECT cohort_start, members, bitmapCardinality(members) AS cohort_size,
                     has({${unchangedParam(kind, grain)}:Array(Date)}, cohort_start) AS unchanged,
                     -- A period is reported once the data covers all its days.
                     least(${periods}, intDiv(dateDiff('day', cohort_start, {to:Date}) - ${length - 1}, ${length})) AS covered
                 FROM ${cohortStage} WHERE ${cohortOf(kind, grain)} AND cohort_size > 0 AND covered >= 0
               )
               ARRAY JOIN range(toUInt16(covered + 1)) AS period
             ) AS c
             LEFT JOIN (${activeIn}) AS a ON a.start = c.period_start
             LEFT JOIN (SELECT day AS start, active_from AS users FROM ${days}) AS f ON f.start = c.period_start
             LEFT JOIN (SELECT * FROM mart_retention WHERE ${cohortOf(kind, grain)}) AS o
               ON o.cohort_start = c.cohort_start AND o.period = c.period`;
          }),
        );
        const unchanged = await unchangedCohorts(warehouse, pack, cohortStage, changedDays !== 'all');
        await insertInto(warehouse, stage, selects.join('\n UNION ALL\n'), { ...bound, ...unchanged });
      },
    );
  });
}
