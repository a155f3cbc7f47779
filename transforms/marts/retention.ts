// mart_retention: cohorts by first-activity day and by signup day, by day (periods 0…90) and by
// week (Monday-based, periods 0…12). retained = cohort members active in the period; unbounded =
// active in the period or any later one (never rises). A period the data does not yet cover in
// full is absent, not zero. Signing up counts as activity for signup cohorts, so period 0 is 1.
//
// Everything is bitmap algebra on user keys: a first-activity cohort is the day's active users minus
// everyone active before; retained(c, p) = |cohort ∩ active in period p|; unbounded(c, p) =
// |cohort ∩ active on any day from period p's start on|. No per-user rows are read.
//
// Incremental: the days and cohorts of the last run are kept (agg_retention_days and _cohorts). For
// a cohort whose members are the same, a cell keeps its retained count when no changed day lies in
// its period. Its unbounded count moves by the members whose last active day moved across the
// period's start: a user is active from s on exactly when their last active day is s or later. The
// users whose last day moved are few after a new day, and grouped by cohort and by their last day
// before and after, they correct every cell with plain counts; intersecting bitmaps per cell cost
// by the size of the bitmaps copied into each of 17k cells.
import { bookkeepingTable, quoteString, stagingTable, type Warehouse } from '../../warehouse/index.ts';
import { activeUsersCalendar } from './active-users.ts';
import { clearStage, insertInto, swapStaged, type DaySelection } from './partitions.ts';

const COHORT_KINDS = ['first_activity', 'signup'] as const;

const GRAINS = [
  { grain: 'day', periods: 90, length: 1 },
  { grain: 'week', periods: 12, length: 7 },
] as const;

/** Written in this order, swapped in the reverse one (the mart first, what it was computed from after). */
const TABLES = ['agg_retention_days', 'agg_retention_cohorts', 'mart_retention'] as const;

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
  for (const table of TABLES) await clearStage(warehouse, table, pack);
  // No activity: every table loses the pack's rows.
  if (range && range.last !== '1970-01-01') {
    // The last day the last run saw: how far the mart it wrote reaches.
    const [last] = await warehouse.query<{ to: string }>(
      `SELECT toString(max(day)) AS to FROM agg_retention_days WHERE pack = {pack:String}`,
      { pack },
    );
    const reuse = changedDays !== 'all';
    const params = {
      pack,
      from: range.first,
      to: range.last,
      lastTo: last?.to ?? '1970-01-01',
      changed: reuse ? changedDays : [],
      lastChanged: reuse
        ? changedDays.reduce((latest, day) => (day > latest ? day : latest), '1970-01-01')
        : range.last,
    };
    await stageDays(warehouse, params);
    await stageCohorts(warehouse, params);
    if (reuse) await stageCorrections(warehouse, pack, params.lastTo !== '1970-01-01');
    const unchanged = await unchangedCohorts(warehouse, pack, reuse);
    await stageCells(warehouse, { ...params, ...unchanged }, reuse);
  }
  for (const table of [...TABLES].reverse()) await swapStaged(warehouse, { table, pack, where: '1' });
}

/** The staged days of the pack: what this run computes, read by the cohorts and the cells. */
const DAYS = `(SELECT * FROM ${stagingTable('agg_retention_days')} WHERE pack = {pack:String})`;

async function stageDays(warehouse: Warehouse, params: Record<string, unknown>): Promise<void> {
  // The window passes, once: everyone active before the day (whose complement in the day's users
  // is the day's first-activity cohort), everyone active after it (whose complement is the users
  // last active on the day), and everyone active on the day or after it. Frames that start
  // UNBOUNDED PRECEDING keep one running union; a frame ending UNBOUNDED FOLLOWING is recomputed
  // from scratch for every row.
  await insertInto(
    warehouse,
    stagingTable('agg_retention_days'),
    `SELECT {pack:String}, day, users, active_from, bitmapAndnot(users, earlier), bitmapAndnot(users, later)
     FROM (
       SELECT day, users,
           groupBitmapOrState(users) OVER (ORDER BY day DESC ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS active_from,
           groupBitmapOrState(users) OVER (ORDER BY day DESC ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS later,
           groupBitmapOrState(users) OVER (ORDER BY day ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS earlier
       FROM (${activeUsersCalendar()})
     )`,
    params,
  );
}

const CORRECTIONS = bookkeepingTable('retention_corrections');

/**
 * Per cohort and period start s, the members who joined "active from s on" less those who left it:
 * a member whose last active day moved from `before` to `after` joined it for before < s <= after,
 * and left it for after < s <= before. The users whose last day moved are those in a different
 * day's last_active than at the last run; a user never active counts as last active on 1970-01-01,
 * before every period.
 */
async function stageCorrections(
  warehouse: Warehouse,
  pack: string,
  /** False when the last run's days are gone: nothing is reused, and every user would count as moved. */
  lastRunKept: boolean,
): Promise<void> {
  await warehouse.command(`ALTER TABLE ${CORRECTIONS} DROP PARTITION ${quoteString(pack)}`);
  if (!lastRunKept) return;
  const OLD = `(SELECT * FROM agg_retention_days WHERE pack = {pack:String})`;
  // One row, joined where needed: as a WITH constant, the bitmap cost several times more.
  const moved = `(SELECT groupBitmapOrState(changed) AS moved FROM (
       SELECT day, groupBitmapXorState(last_active) AS changed
       FROM (SELECT day, last_active FROM ${DAYS} UNION ALL SELECT day, last_active FROM ${OLD})
       GROUP BY day))`;
  const lastDays = (table: string, side: string) =>
    `SELECT arrayJoin(bitmapToArray(bitmapAnd(d.last_active, m.moved))) AS user_key, d.day AS day, ${quoteString(side)} AS side
     FROM ${table} AS d CROSS JOIN ${moved} AS m`;
  await insertInto(
    warehouse,
    CORRECTIONS,
    `SELECT {pack:String}, cohort_kind, grain, cohort_start, period_start,
         sum(toInt64(members) * ((before < period_start AND period_start <= after) - (after < period_start AND period_start <= before))) AS delta
     FROM (
       SELECT c.cohort_kind AS cohort_kind, c.grain AS grain, c.cohort_start AS cohort_start,
           u.before AS before, u.after AS after, count() AS members
       FROM (
         SELECT s.cohort_kind AS cohort_kind, s.grain AS grain, s.cohort_start AS cohort_start,
             arrayJoin(bitmapToArray(bitmapAnd(s.members, m.moved))) AS user_key
         FROM (SELECT * FROM ${stagingTable('agg_retention_cohorts')} WHERE pack = {pack:String}) AS s CROSS JOIN ${moved} AS m
       ) AS c
       INNER JOIN (
         SELECT user_key, maxIf(day, side = 'old') AS before, maxIf(day, side = 'new') AS after FROM (
           ${lastDays(DAYS, 'new')}
           UNION ALL
           ${lastDays(OLD, 'old')}
         ) GROUP BY user_key
       ) AS u ON u.user_key = c.user_key
       GROUP BY cohort_kind, grain, cohort_start, before, after
     )
     -- The period starts between the two last days, and none before the cohort's start.
     ARRAY JOIN arrayMap(d -> toDate(d), range(toUInt32(greatest(least(before, after) + 1, cohort_start)),
                                               toUInt32(greatest(before, after)) + 1)) AS period_start
     WHERE grain = 'day' OR toDayOfWeek(period_start) = 1
     GROUP BY cohort_kind, grain, cohort_start, period_start`,
    { pack },
  );
}

async function stageCohorts(warehouse: Warehouse, params: Record<string, unknown>): Promise<void> {
  await insertInto(
    warehouse,
    stagingTable('agg_retention_cohorts'),
    `SELECT {pack:String}, cohort_kind, grain, cohort_start, groupBitmapOrState(members) FROM (
       SELECT 'first_activity' AS cohort_kind, day AS cohort_day, first_active AS members FROM ${DAYS}
       UNION ALL
       SELECT 'signup', toDate(signup_at), groupBitmapState(user_key) FROM dim_users
       WHERE pack = {pack:String} GROUP BY toDate(signup_at)
     )
     ARRAY JOIN ['day', 'week'] AS grain, [cohort_day, toMonday(cohort_day)] AS cohort_start
     GROUP BY cohort_kind, grain, cohort_start`,
    params,
  );
}

/**
 * The mart's rows. One branch per cohort kind and grain: ClickHouse runs the branches of a UNION
 * ALL side by side. Period 0 holds every member by definition (their first activity, or their
 * signup); kept counts come from the mart as the last run left it, and `multiIf` evaluates an
 * intersection only for the rows that take it.
 *
 * A join copies the bitmaps of the rows it matches. When counts are reused, a cell joins only the
 * day bitmaps it intersects with (the others join on a NULL key): the copies of the cells that
 * keep their counts were most of the cost. A full recompute needs every bitmap for every cell and
 * joins them unconditionally: there, NULL keys made the statement twice as slow.
 */
async function stageCells(
  warehouse: Warehouse,
  params: Record<string, unknown>,
  reuse: boolean,
): Promise<void> {
  const selects = COHORT_KINDS.flatMap((kind) =>
    GRAINS.map(({ grain, periods, length }) => {
      const activeIn =
        length === 1
          ? `SELECT day, users FROM ${DAYS}`
          : `SELECT toMonday(day) AS day, groupBitmapOrState(users) AS users FROM ${DAYS} GROUP BY day`;
      // The starts of the periods that hold a changed day.
      const changedStarts =
        length === 1 ? '{changed:Array(Date)}' : 'arrayMap(d -> toMonday(d), {changed:Array(Date)})';
      // Periods covered by the data up to `to`: a period is reported once it holds only past days.
      // (intDiv truncates toward zero: a week cohort 1–6 days old must give -1, not 0, hence +1 … -1.)
      const coveredBy = (to: string) =>
        `least(${periods}, intDiv(dateDiff('day', cohort_start, ${to}) + 1, ${length}) - 1)`;
      const joinOn = (alias: string, wanted: string) =>
        `${alias}.day = ${reuse ? `if(c.period > 0 AND ${wanted}, c.period_start, NULL)` : 'c.period_start'}`;
      // A kept unbounded count, corrected by the members who joined or left "active from s".
      const corrected = reuse ? `c.reusable, toUInt64(o.unbounded_retained + m.delta),` : '';
      const corrections = reuse
        ? `LEFT JOIN (SELECT cohort_start, period_start, delta FROM ${CORRECTIONS} WHERE ${cohortOf(kind, grain)}) AS m
             ON m.cohort_start = c.cohort_start AND m.period_start = c.period_start`
        : '';
      return `SELECT {pack:String}, ${quoteString(kind)}, ${quoteString(grain)}, c.cohort_start, c.cohort_size, c.period,
            multiIf(c.period = 0, c.cohort_size, c.keep_retained, o.retained,
                    bitmapAndCardinality(c.members, a.users)) AS retained,
            retained / c.cohort_size,
            multiIf(c.period = 0, c.cohort_size, c.keep_unbounded, o.unbounded_retained, ${corrected}
                    bitmapAndCardinality(c.members, f.active_from)) AS unbounded,
            unbounded / c.cohort_size
         FROM (
           SELECT cohort_start, members, cohort_size, period,
               cohort_start + toIntervalDay(period * ${length}) AS period_start,
               -- The mart the last run wrote has this cell: same members, and the period was covered.
               unchanged AND period <= old_covered AS reusable,
               reusable AND NOT has(${changedStarts}, period_start) AS keep_retained,
               -- Nobody joins or leaves "active from s" unless a day from s on changed.
               reusable AND period_start > {lastChanged:Date} AS keep_unbounded
           FROM (
             SELECT cohort_start, members, bitmapCardinality(members) AS cohort_size,
                 has({${unchangedParam(kind, grain)}:Array(Date)}, cohort_start) AS unchanged,
                 ${coveredBy('{to:Date}')} AS covered, ${coveredBy('{lastTo:Date}')} AS old_covered
             FROM ${stagingTable('agg_retention_cohorts')} WHERE ${cohortOf(kind, grain)} AND cohort_size > 0 AND covered >= 0
           )
           ARRAY JOIN range(toUInt16(covered + 1)) AS period
         ) AS c
         LEFT JOIN (${activeIn}) AS a ON ${joinOn('a', 'NOT c.keep_retained')}
         LEFT JOIN (SELECT day, active_from FROM ${DAYS}) AS f ON ${joinOn('f', 'NOT c.reusable')}
         ${corrections}
         LEFT JOIN (SELECT * FROM mart_retention WHERE ${cohortOf(kind, grain)}) AS o
           ON o.cohort_start = c.cohort_start AND o.period = c.period`;
    }),
  );
  await insertInto(warehouse, stagingTable('mart_retention'), selects.join('\n UNION ALL\n'), params);
}

/** The query parameter listing the unchanged cohorts of one kind and grain (by their first day). */
function unchangedParam(kind: string, grain: string): string {
  return `unchanged_${kind}_${grain}`;
}

/**
 * The cohorts whose members are the same as at the last run, as query parameters per kind and
 * grain. Found here, in one small query: joining the old cohorts into the cells query would copy
 * every cohort's bitmap through the join.
 */
async function unchangedCohorts(
  warehouse: Warehouse,
  pack: string,
  /** False for a full recompute: every cohort counts as changed. */
  reuse: boolean,
): Promise<Record<string, string[]>> {
  const rows = !reuse
    ? []
    : await warehouse.query<{ cohort_kind: string; grain: string; starts: string[] }>(
        `SELECT n.cohort_kind AS cohort_kind, n.grain AS grain, groupArray(toString(n.cohort_start)) AS starts
         FROM (SELECT * FROM ${stagingTable('agg_retention_cohorts')} WHERE pack = {pack:String}) AS n
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
