// The panels: one query per panel over the marts (SQL text fixed here, request values only as
// `{name:Type}` parameters), the columns it shows with their units, and its chart as an Apache
// ECharts option built from the rows. The dashboard's pages and the reports draw the same
// definitions, so a chart in an e-mail is the chart on the page.
import {
  bookkeepingTable,
  mirrorKey,
  quoteTable,
  RAW_DATABASE,
  rawTableKind,
  type ClickHouseSettings,
  type Warehouse,
} from '../warehouse/index.ts';
import {
  contentDaysSelect,
  IN_SEGMENT_CELL,
  IN_USER_SEGMENT,
  mondayOf,
  segmentAbResults,
} from '../transforms/index.ts';
import type { ResolvedFilters } from './filters.ts';
import { DashboardsError } from './errors.ts';

export type Unit =
  'users' | 'ratio' | 'percent' | 'count' | 'seconds' | 'score' | 'rating' | 'p' | 'day' | 'text';

export type Segment = 'country' | 'platform' | 'cohort';
export const EVERY_SEGMENT: readonly Segment[] = ['country', 'platform', 'cohort'];
const NO_SEGMENT: readonly Segment[] = [];

export interface Column {
  name: string;
  label: string;
  unit: Unit;
}

export type Row = Record<string, string | number | null>;

/** An ECharts option: plain JSON, so it travels to the browser and to the server-side renderer. */
export type ChartOption = Record<string, unknown>;

export interface Panel {
  id: string;
  title: string;
  /** What the numbers are, in a sentence a product manager reads under the title. */
  description: string;
  columns: Column[];
  /** The segment filters this panel narrows by under these filters; a page names the others. */
  segments(filters: ResolvedFilters): readonly Segment[];
  query(warehouse: Warehouse, filters: ResolvedFilters): Promise<Row[]>;
  /** undefined: a table only. */
  chart?(rows: Row[], filters: ResolvedFilters): ChartOption;
}

/** Okabe–Ito: distinguishable with the common colour-vision deficiencies. */
export const PALETTE = [
  '#0072B2',
  '#E69F00',
  '#009E73',
  '#D55E00',
  '#CC79A7',
  '#56B4E9',
  '#F0E442',
  '#000000',
];
/** Viridis stops: a sequential scale that stays ordered in grey and for colour-blind readers. */
export const SEQUENTIAL = ['#440154', '#3b528b', '#21918c', '#5ec962', '#fde725'];

const base = (title: string): ChartOption => ({
  color: PALETTE,
  aria: { enabled: true, label: { description: title } },
  animation: false,
  textStyle: { fontFamily: 'sans-serif' },
  grid: { left: 72, right: 24, top: 40, bottom: 56 },
  tooltip: { trigger: 'axis' },
});

const dayAxis = (rows: Row[], key = 'day'): ChartOption => ({
  type: 'category',
  name: 'day (UTC)',
  nameLocation: 'middle',
  nameGap: 32,
  data: rows.map((row) => row[key]),
});

const valueAxis = (name: string, extra: ChartOption = {}): ChartOption => ({
  type: 'value',
  name,
  nameLocation: 'middle',
  nameGap: 52,
  ...extra,
});

export function shiftDay(day: string, days: number): string {
  const date = new Date(`${day}T00:00:00Z`);
  date.setUTCDate(date.getUTCDate() + days);
  return date.toISOString().slice(0, 10);
}

/**
 * A range split for the weekly pre-aggregate: the full Monday–Sunday weeks inside it
 * (weeksFrom…weeksTo, as Mondays; weeksFrom > weeksTo when none) and the days outside them, from…headTo
 * and tailFrom…to (either empty when headTo < from or tailFrom > to).
 */
export function splitWeeks(
  from: string,
  to: string,
): { weeksFrom: string; weeksTo: string; headTo: string; tailFrom: string } {
  const firstMonday = mondayOf(from) === from ? from : shiftDay(mondayOf(from), 7);
  const lastMonday = shiftDay(mondayOf(shiftDay(to, 1)), -7);
  if (firstMonday > lastMonday)
    return { weeksFrom: firstMonday, weeksTo: lastMonday, headTo: to, tailFrom: shiftDay(to, 1) };
  return {
    weeksFrom: firstMonday,
    weeksTo: lastMonday,
    headTo: shiftDay(firstMonday, -1),
    tailFrom: shiftDay(lastMonday, 7),
  };
}

const num = (value: unknown): number | null => (value === null || value === undefined ? null : Number(value));

/**
 * The segment as a bitmap of user keys (country, platform and signup month); the panels that can
 * narrow by it intersect their daily active-user bitmaps with it, or test their facts' keys with
 * `bitmapContains` (on millions of facts a fraction of the cost of `user_key IN (SELECT …)`).
 */
const SEGMENT = `(SELECT groupBitmapState(user_key) FROM dim_users WHERE ${IN_USER_SEGMENT})`;

const segmented = (filters: ResolvedFilters) => EVERY_SEGMENT.some((segment) => filters[segment] !== '');

const baseParams = (filters: ResolvedFilters) => ({
  pack: filters.pack,
  from: filters.from,
  to: filters.to,
  country: filters.country,
  platform: filters.platform,
  cohort: filters.cohort,
});

const activeUsers: Panel = {
  id: 'overview.active',
  title: 'Active users',
  description: 'Distinct active users on the day (DAU), in the 7 days (WAU) and 28 days (MAU) ending on it.',
  segments: () => EVERY_SEGMENT,
  columns: [
    { name: 'day', label: 'day', unit: 'day' },
    { name: 'dau', label: 'DAU', unit: 'users' },
    { name: 'wau', label: 'WAU', unit: 'users' },
    { name: 'mau', label: 'MAU', unit: 'users' },
    { name: 'stickiness', label: 'stickiness (DAU/MAU)', unit: 'ratio' },
  ],
  async query(warehouse, filters) {
    if (!segmented(filters))
      return warehouse.query<Row>(
        `SELECT toString(m.day) AS day, dau, wau, mau, stickiness FROM mart_dau AS m
         WHERE m.pack = {pack:String} AND m.day BETWEEN {from:Date} AND {to:Date} ORDER BY m.day`,
        baseParams(filters),
      );
    // A window's distinct users are the users of each of its days who were not active earlier in
    // it: a day `offset` days before the target adds its active users less those last active
    // 1…(window − 1 − offset) days before it (agg_daily_segments.returning_users). Counts of the
    // segment's cells, no bitmaps: the same figures as mart_dau's unions (a test says so).
    return warehouse.query<Row>(
      `SELECT toString(target) AS day, dau, wau, mau, if(mau = 0, NULL, dau / mau) AS stickiness
       -- The days with activity in their window, as mart_dau has them; zeros where the segment had none.
       FROM (SELECT DISTINCT day + offset AS target FROM agg_daily_active_users ARRAY JOIN range(28) AS offset
             WHERE pack = {pack:String} AND day BETWEEN toDate({from:Date}) - 27 AND {to:Date}) AS windows
       LEFT JOIN (
         SELECT day + offset AS target,
           toUInt32(sumIf(active, offset = 0)) AS dau,
           toUInt32(sumIf(active - arraySum(arraySlice(returning, 1, 6 - offset)), offset < 7)) AS wau,
           toUInt32(sum(active - arraySum(arraySlice(returning, 1, 27 - offset)))) AS mau
         FROM (SELECT day, sum(active_users) AS active, sumForEach(returning_users) AS returning
               FROM agg_daily_segments
               WHERE pack = {pack:String} AND day BETWEEN toDate({from:Date}) - 27 AND {to:Date} AND ${IN_SEGMENT_CELL}
               GROUP BY day)
         ARRAY JOIN range(28) AS offset
         GROUP BY target) AS segment USING (target)
       WHERE target BETWEEN {from:Date} AND {to:Date}
         AND target <= (SELECT max(day) FROM agg_daily_active_users WHERE pack = {pack:String})
       ORDER BY target`,
      baseParams(filters),
    );
  },
  chart(rows) {
    return {
      ...base('Daily, weekly and monthly active users'),
      legend: { data: ['DAU', 'WAU', 'MAU'], top: 4 },
      xAxis: dayAxis(rows),
      yAxis: valueAxis('users'),
      series: (['dau', 'wau', 'mau'] as const).map((key) => ({
        name: key.toUpperCase(),
        type: 'line',
        showSymbol: rows.length < 40,
        data: rows.map((row) => num(row[key])),
      })),
    };
  },
};

const summary: Panel = {
  id: 'overview.summary',
  title: 'This period against the one before',
  description:
    'Average DAU, distinct active users, new users (signed up) and events per active user, for the chosen days and the same number of days before them.',
  segments: () => EVERY_SEGMENT,
  columns: [
    { name: 'period', label: 'period', unit: 'text' },
    { name: 'first_day', label: 'from', unit: 'day' },
    { name: 'last_day', label: 'to', unit: 'day' },
    { name: 'avg_dau', label: 'average DAU', unit: 'users' },
    { name: 'active_users', label: 'active users', unit: 'users' },
    { name: 'new_users', label: 'new users', unit: 'users' },
    { name: 'events_per_active_user', label: 'events per active user', unit: 'count' },
  ],
  async query(warehouse, filters) {
    const length = Math.round((Date.parse(filters.to) - Date.parse(filters.from)) / 86_400_000) + 1;
    const periods = [
      { period: 'current', first: filters.from, last: filters.to },
      { period: 'previous', first: shiftDay(filters.from, -length), last: shiftDay(filters.from, -1) },
    ];
    // Sums from the daily series per segment; distinct users over the period from the days' bitmaps,
    // intersected with the segment once (two fixed texts, so the common case builds no segment). A
    // UInt32, as groupBitmapOr returns, so that JSON carries a number, not a quoted UInt64.
    const activeUsers = segmented(filters)
      ? `(WITH ${SEGMENT} AS segment SELECT toUInt32(bitmapCardinality(bitmapAnd(groupBitmapOrState(users), segment)))`
      : '(SELECT groupBitmapOr(users)';
    // Both periods in one statement: the engine computes an identical scalar subquery (the segment)
    // once per statement, not once per period.
    const select = (
      index: number,
    ) => `SELECT {period${index}:String} AS period, {first${index}:String} AS first_day,
         {last${index}:String} AS last_day, totals.1 / {length:UInt32} AS avg_dau,
         ${activeUsers} FROM agg_daily_active_users
            WHERE pack = {pack:String} AND day BETWEEN {first${index}:Date} AND {last${index}:Date}) AS active_users,
         totals.2 AS new_users,
         if(active_users = 0, NULL, totals.3 / active_users) AS events_per_active_user
       FROM (SELECT (sum(active_users), sum(new_users), sum(events)) AS totals FROM agg_daily_segments
             WHERE pack = {pack:String} AND day BETWEEN {first${index}:Date} AND {last${index}:Date}
               AND ${IN_SEGMENT_CELL})`;
    return warehouse.query<Row>(
      `SELECT * FROM (${periods.map((_, index) => select(index)).join(' UNION ALL ')})
       ORDER BY period = 'previous'`,
      {
        ...baseParams(filters),
        length,
        ...Object.fromEntries(
          periods.flatMap(({ period, first, last }, index) => [
            [`period${index}`, period],
            [`first${index}`, first],
            [`last${index}`, last],
          ]),
        ),
      },
    );
  },
  chart(rows) {
    const metrics = [
      ['avg_dau', 'average DAU'],
      ['new_users', 'new users'],
      ['events_per_active_user', 'events per active user'],
    ] as const;
    const current = rows.find((row) => row.period === 'current');
    const previous = rows.find((row) => row.period === 'previous');
    return {
      ...base('This period against the previous one'),
      tooltip: { trigger: 'item' },
      legend: { data: ['previous period', 'this period'], top: 4 },
      xAxis: {
        type: 'category',
        name: 'measure',
        nameLocation: 'middle',
        nameGap: 32,
        data: metrics.map((m) => m[1]),
      },
      yAxis: valueAxis('users, or events per user'),
      series: [
        { name: 'previous period', type: 'bar', data: metrics.map(([key]) => num(previous?.[key])) },
        { name: 'this period', type: 'bar', data: metrics.map(([key]) => num(current?.[key])) },
      ],
    };
  },
};

const newUsers: Panel = {
  id: 'overview.new_users',
  title: 'New users',
  description: 'Users who signed up on the day.',
  segments: () => EVERY_SEGMENT,
  columns: [
    { name: 'day', label: 'day', unit: 'day' },
    { name: 'new_users', label: 'new users', unit: 'users' },
  ],
  async query(warehouse, filters) {
    // agg_daily_segments counts dim_users' signups per day and segment cell (a few dozen rows a
    // day), so the range's cells are read instead of every user.
    return warehouse.query<Row>(
      `SELECT toString(d) AS day, s.new_users AS new_users
       FROM (SELECT toDate({from:Date}) + number AS d FROM numbers(dateDiff('day', toDate({from:Date}), toDate({to:Date})) + 1)) AS days
       LEFT JOIN (SELECT day, sum(new_users) AS new_users FROM agg_daily_segments
                  WHERE pack = {pack:String} AND day BETWEEN {from:Date} AND {to:Date} AND ${IN_SEGMENT_CELL}
                  GROUP BY day) AS s
         ON s.day = days.d
       ORDER BY d`,
      baseParams(filters),
    );
  },
  chart(rows) {
    return {
      ...base('New users per day'),
      xAxis: dayAxis(rows),
      yAxis: valueAxis('users'),
      series: [{ name: 'new users', type: 'bar', data: rows.map((row) => num(row.new_users)) }],
    };
  },
};

const retentionColumns: Column[] = [
  { name: 'cohort_start', label: 'cohort', unit: 'day' },
  { name: 'period', label: 'period', unit: 'count' },
  { name: 'cohort_size', label: 'cohort size', unit: 'users' },
  { name: 'retained', label: 'retained', unit: 'users' },
  { name: 'rate', label: 'retention', unit: 'percent' },
];

/**
 * Daily signup cohorts are the signup-cohort filter's users exactly: the filter keeps the cohorts
 * of its month. Weekly cohorts straddle months and first-activity cohorts mix signup months, and
 * the mart has no country or platform, so nothing else narrows retention.
 */
function retentionSegments(filters: ResolvedFilters): readonly Segment[] {
  return filters.kind === 'signup' && filters.grain === 'day' ? ['cohort'] : NO_SEGMENT;
}

const retentionHeatmap: Panel = {
  id: 'retention.cohorts',
  title: 'Cohort retention',
  description:
    'Share of each cohort active in the period N days (weeks) after it started; "unbounded" counts users active in that period or any later one. With daily signup cohorts, the signup-cohort filter keeps the cohorts of its month.',
  segments: retentionSegments,
  columns: retentionColumns,
  async query(warehouse, filters) {
    return warehouse.query<Row>(
      `SELECT toString(r.cohort_start) AS cohort_start, r.period AS period, r.cohort_size AS cohort_size,
         if({unbounded:Bool}, r.unbounded_retained, r.retained) AS retained,
         if({unbounded:Bool}, r.unbounded_rate, r.retention_rate) AS rate
       FROM mart_retention AS r
       WHERE r.pack = {pack:String} AND r.cohort_kind = {kind:String} AND r.grain = {grain:String}
         AND r.cohort_start BETWEEN {from:Date} AND {to:Date}
         AND ({month:String} = '' OR formatDateTime(r.cohort_start, '%Y-%m') = {month:String}) AND r.period <= if({grain:String} = 'day', 30, 12)
       ORDER BY r.cohort_start, r.period`,
      {
        ...baseParams(filters),
        kind: filters.kind,
        grain: filters.grain,
        unbounded: filters.curve === 'unbounded',
        month: retentionSegments(filters).includes('cohort') ? filters.cohort : '',
      },
    );
  },
  chart(rows, filters) {
    const cohorts = [...new Set(rows.map((row) => String(row.cohort_start)))];
    const periods = [...new Set(rows.map((row) => Number(row.period)))].sort((a, b) => a - b);
    return {
      ...base('Cohort retention heatmap'),
      tooltip: { trigger: 'item' },
      grid: { left: 96, right: 24, top: 24, bottom: 96 },
      xAxis: {
        type: 'category',
        name: `${filters.grain}s since the cohort started`,
        nameLocation: 'middle',
        nameGap: 32,
        data: periods.map(String),
      },
      yAxis: { type: 'category', name: 'cohort', nameLocation: 'end', data: cohorts, inverse: true },
      visualMap: {
        min: 0,
        max: 1,
        calculable: false,
        orient: 'horizontal',
        left: 'center',
        bottom: 4,
        text: ['100%', '0%'],
        inRange: { color: SEQUENTIAL },
      },
      series: [
        {
          name: 'retention (share of cohort)',
          type: 'heatmap',
          data: rows.map((row) => [
            periods.indexOf(Number(row.period)),
            cohorts.indexOf(String(row.cohort_start)),
            num(row.rate),
          ]),
        },
      ],
    };
  },
};

const retentionCurve: Panel = {
  id: 'retention.curve',
  title: 'Overall retention curve',
  description:
    'Cohorts of the chosen range weighted by size; period N uses only the cohorts old enough to have reached it. With daily signup cohorts, the signup-cohort filter keeps the cohorts of its month.',
  segments: retentionSegments,
  columns: [
    { name: 'period', label: 'period', unit: 'count' },
    { name: 'cohorts', label: 'cohorts', unit: 'count' },
    { name: 'users', label: 'users in those cohorts', unit: 'users' },
    { name: 'rate', label: 'retention', unit: 'percent' },
  ],
  async query(warehouse, filters) {
    return warehouse.query<Row>(
      `SELECT period, count() AS cohorts, sum(cohort_size) AS users,
         sum(if({unbounded:Bool}, unbounded_retained, retained)) / sum(cohort_size) AS rate
       FROM mart_retention
       WHERE pack = {pack:String} AND cohort_kind = {kind:String} AND grain = {grain:String}
         AND cohort_start BETWEEN {from:Date} AND {to:Date} AND cohort_size > 0
         AND ({month:String} = '' OR formatDateTime(cohort_start, '%Y-%m') = {month:String})
       GROUP BY period ORDER BY period`,
      {
        ...baseParams(filters),
        kind: filters.kind,
        grain: filters.grain,
        unbounded: filters.curve === 'unbounded',
        month: retentionSegments(filters).includes('cohort') ? filters.cohort : '',
      },
    );
  },
  chart(rows, filters) {
    return {
      ...base('Retention curve'),
      xAxis: {
        type: 'category',
        name: `${filters.grain}s since the cohort started`,
        nameLocation: 'middle',
        nameGap: 32,
        data: rows.map((row) => String(row.period)),
      },
      yAxis: valueAxis('share of cohort retained', { min: 0, max: 1, axisLabel: { formatter: '{value}' } }),
      series: [{ name: 'retention', type: 'line', data: rows.map((row) => num(row.rate)) }],
    };
  },
};

/**
 * fact_ratings' rows (`condition` on them) whose user is in the segment. fact_ratings has no user
 * key for the segment's bitmap, so the segment's user ids are looked up among the raters only:
 * dim_users is ordered by user id, and a set of every segment user's id cost 50–90 ms a request
 * (bench:dashboards, 200k users in a country), also where nobody had rated anything.
 */
const ratersInSegment = (condition: string) =>
  `user_id IN (SELECT user_id FROM dim_users WHERE ${IN_USER_SEGMENT}
     AND user_id IN (SELECT user_id FROM fact_ratings WHERE pack = {pack:String} AND ${condition}))`;

/**
 * mart_content_performance's rows of one item `{item}` for a segment, computed on request from the
 * facts of the segment's users with the mart's own rule (so an empty segment gives the mart's
 * rows): days {from}…{to}. `{views}` and `{start}` are the pack's, from dim_content_events
 * (contentEvents).
 */
const SEGMENT_CONTENT_DAYS = `(${contentDaysSelect(
  `day BETWEEN {from:Date} AND {to:Date} AND content_id = {item:String}
     AND bitmapContains(${SEGMENT}, user_key)`,
  `day BETWEEN {from:Date} AND {to:Date} AND content_id = {item:String}
     AND ${ratersInSegment('day BETWEEN {from:Date} AND {to:Date} AND content_id = {item:String}')}`,
)})`;

/** Items the Content leaderboard shows. */
const LEADERBOARD_ROWS = 25;

/**
 * The leaderboard's per-item sums for a segment, {from}…{to}: its cells' rows of
 * agg_content_segments added up, for the items that can rank in the top LEADERBOARD_ROWS (every
 * item tied with the last of them on user-days: the leaderboard breaks ties by id), plus the
 * ratings the segment's users gave. Ranking by the fixed-width content_key first, then reading ids
 * and the other counts for those items only, took half the CPU of adding up every column of every
 * item (bench:dashboards, 10M facts, 100k items). Two items whose (id, type) hash alike would be
 * ranked together (64-bit hash: about 3·10⁻¹⁰ for 100k items), never shown merged.
 */
const SEGMENT_CONTENT_ITEMS = `
  SELECT content_id, content_type, sum(user_days) AS days, sum(views) AS viewed, sum(starters) AS started,
    sum(completers) AS completed, sum(scorers) AS scored, sum(passers) AS passed, sum(bounces) AS bounced,
    0 AS rating_total, toUInt64(0) AS rated
  FROM agg_content_segments
  PREWHERE content_key IN (
    SELECT content_key FROM agg_content_segments
    WHERE pack = {pack:String} AND day BETWEEN {from:Date} AND {to:Date} AND ${IN_SEGMENT_CELL}
    GROUP BY content_key ORDER BY sum(user_days) DESC LIMIT ${LEADERBOARD_ROWS} WITH TIES)
  WHERE pack = {pack:String} AND day BETWEEN {from:Date} AND {to:Date} AND ${IN_SEGMENT_CELL}
  GROUP BY content_id, content_type
  UNION ALL
  SELECT content_id, content_type, 0, 0, 0, 0, 0, 0, 0, rating_total / rated * rated, rated
  FROM (
    SELECT day, content_id, content_type, sum(rating) AS rating_total, count() AS rated FROM fact_ratings
    WHERE pack = {pack:String} AND day BETWEEN {from:Date} AND {to:Date}
      AND ${ratersInSegment('day BETWEEN {from:Date} AND {to:Date}')}
    GROUP BY day, content_id, content_type)`;

/** The pack's view and start event types, as the transforms recorded them, bound as `{views}`, `{start}`. */
async function contentEvents(
  warehouse: Warehouse,
  pack: string,
): Promise<{ views: string[]; start: string }> {
  const [row] = await warehouse.query<{ views: string[]; start: string }>(
    `SELECT view_event_types AS views, start_event_type AS start FROM dim_content_events WHERE pack = {pack:String} LIMIT 1`,
    { pack },
  );
  if (!row)
    throw new DashboardsError(
      `pack ${pack} has no content event types recorded (dim_content_events); run the transforms once`,
    );
  return row;
}

/**
 * Where the item trend reads its daily rows: the mart, or with a segment filter the segment's rows
 * computed on request (no pre-aggregate has segments); with the parameters they need.
 */
async function contentDays(
  warehouse: Warehouse,
  filters: ResolvedFilters,
): Promise<{ source: string; params: Record<string, unknown> }> {
  if (!segmented(filters)) return { source: 'mart_content_performance', params: {} };
  return {
    source: SEGMENT_CONTENT_DAYS,
    params: { item: filters.content, ...(await contentEvents(warehouse, filters.pack)) },
  };
}

/**
 * The leaderboard's rows to add up per item: full weeks from the weekly pre-aggregate and the days
 * of partial weeks at either end from the daily mart, or with a segment filter one row per item
 * from the segment's facts (SEGMENT_CONTENT_ITEMS); with the parameters they need.
 */
async function leaderboardRows(
  warehouse: Warehouse,
  filters: ResolvedFilters,
): Promise<{ source: string; params: Record<string, unknown>; settings?: ClickHouseSettings }> {
  // The ranked items' set is small: checking it against the primary key (whose last column is
  // content_key) cost more than reading content_key for the segment's rows.
  if (segmented(filters))
    return { source: SEGMENT_CONTENT_ITEMS, params: {}, settings: { use_index_for_in_with_subqueries: 0 } };
  return {
    source: `SELECT content_id, content_type, user_days AS days, views AS viewed, starters AS started,
        completers AS completed, scorers AS scored, passers AS passed, bounces AS bounced,
        rating_sum AS rating_total, rating_count AS rated
      FROM agg_content_weekly
      WHERE pack = {pack:String} AND week BETWEEN {weeksFrom:Date} AND {weeksTo:Date}
      UNION ALL
      SELECT content_id, content_type, unique_users, views, starters, completers, scorers, passers,
        toUInt64(round(ifNull(bounce_rate, 0) * unique_users)), ifNull(rating_avg, 0) * rating_count, rating_count
      FROM mart_content_performance
      WHERE pack = {pack:String}
        AND (day BETWEEN {from:Date} AND {headTo:Date} OR day BETWEEN {tailFrom:Date} AND {to:Date})`,
    params: splitWeeks(filters.from, filters.to),
  };
}

/**
 * The titles of the items `rows` shows, keyed `type/id`: looked up by id in dim_content (ordered by
 * type and id), where joining a title to every item cost a group over the whole dimension per request.
 */
async function contentTitles(
  warehouse: Warehouse,
  pack: string,
  rows: { content_id: string }[],
): Promise<Map<string, string>> {
  if (rows.length === 0) return new Map();
  const found = await warehouse.query<{ content_id: string; content_type: string; title: string }>(
    `SELECT content_id, content_type, any(title) AS title FROM dim_content
     WHERE pack = {pack:String} AND content_id IN {ids:Array(String)}
     GROUP BY content_id, content_type`,
    { pack, ids: rows.map((row) => row.content_id) },
  );
  return new Map(found.map((row) => [`${row.content_type}/${row.content_id}`, row.title]));
}

// Over a range, rates add the days' counts: a user counts once per day they used the item.
const contentLeaderboard: Panel = {
  id: 'content.leaderboard',
  title: 'Content leaderboard',
  description:
    'Items by user-days (a user counts once per day they used the item). Completion rate = completers ÷ starters, pass rate = users passing ÷ users scored, each user counted once per day; bounce = users with a single event. With a segment filter, every figure and the rating count only the segment’s users.',
  segments: () => EVERY_SEGMENT,
  columns: [
    { name: 'content_id', label: 'content', unit: 'text' },
    { name: 'title', label: 'title', unit: 'text' },
    { name: 'content_type', label: 'type', unit: 'text' },
    { name: 'user_days', label: 'user-days', unit: 'users' },
    { name: 'views', label: 'views', unit: 'count' },
    { name: 'completion_rate', label: 'completion rate', unit: 'percent' },
    { name: 'pass_rate', label: 'pass rate', unit: 'percent' },
    { name: 'bounce_rate', label: 'bounce rate', unit: 'percent' },
    { name: 'rating_avg', label: 'rating (1–5)', unit: 'rating' },
    { name: 'rating_count', label: 'ratings', unit: 'count' },
  ],
  async query(warehouse, filters) {
    const source = await leaderboardRows(warehouse, filters);
    const ranked = await warehouse.query<Row & { content_id: string; content_type: string }>(
      `SELECT content_id, content_type, sum(days) AS user_days, sum(viewed) AS views,
         if(sum(started) = 0, NULL, sum(completed) / sum(started)) AS completion_rate,
         if(sum(scored) = 0, NULL, sum(passed) / sum(scored)) AS pass_rate,
         if(user_days = 0, NULL, sum(bounced) / user_days) AS bounce_rate,
         if(sum(rated) = 0, NULL, sum(rating_total) / sum(rated)) AS rating_avg,
         sum(rated) AS rating_count
       FROM (${source.source})
       GROUP BY content_id, content_type
       ORDER BY user_days DESC, content_id LIMIT ${LEADERBOARD_ROWS}`,
      { ...baseParams(filters), ...source.params },
      source.settings,
    );
    const titles = await contentTitles(warehouse, filters.pack, ranked);
    return ranked.map(({ content_id, content_type, ...counts }) => ({
      content_id,
      title: titles.get(`${content_type}/${content_id}`) ?? '',
      content_type,
      ...counts,
    }));
  },
  chart(rows) {
    const top = rows.slice(0, 10).reverse();
    return {
      ...base('Top content by user-days'),
      tooltip: { trigger: 'item' },
      grid: { left: 160, right: 24, top: 24, bottom: 56 },
      xAxis: valueAxis('user-days', { nameGap: 32 }),
      yAxis: {
        type: 'category',
        data: top.map((row) => `${row.content_type} ${String(row.title || row.content_id).slice(0, 24)}`),
      },
      series: [{ name: 'user-days', type: 'bar', data: top.map((row) => num(row.user_days)) }],
    };
  },
};

const contentTrend: Panel = {
  id: 'content.trend',
  title: 'Content item over time',
  description:
    'One item per day: its users and its rates (choose the item with the content filter). With a segment filter, only the segment’s users count.',
  segments: () => EVERY_SEGMENT,
  columns: [
    { name: 'day', label: 'day', unit: 'day' },
    { name: 'unique_users', label: 'users', unit: 'users' },
    { name: 'completion_rate', label: 'completion rate', unit: 'percent' },
    { name: 'pass_rate', label: 'pass rate', unit: 'percent' },
    { name: 'bounce_rate', label: 'bounce rate', unit: 'percent' },
  ],
  async query(warehouse, filters) {
    if (filters.content === '') return [];
    const days = await contentDays(warehouse, filters);
    return warehouse.query<Row>(
      `SELECT toString(c.day) AS day, sum(c.unique_users) AS unique_users,
         if(sum(c.starters) = 0, NULL, sum(c.completers) / sum(c.starters)) AS completion_rate,
         if(sum(c.scorers) = 0, NULL, sum(c.passers) / sum(c.scorers)) AS pass_rate,
         if(sum(c.unique_users) = 0, NULL, sum(ifNull(c.bounce_rate, 0) * c.unique_users) / sum(c.unique_users)) AS bounce_rate
       FROM ${days.source} AS c
       WHERE c.pack = {pack:String} AND c.content_id = {content:String} AND c.day BETWEEN {from:Date} AND {to:Date}
       GROUP BY c.day ORDER BY c.day`,
      { ...baseParams(filters), ...days.params, content: filters.content },
    );
  },
  chart(rows) {
    return {
      ...base('Content item trend'),
      legend: { data: ['users', 'completion rate', 'pass rate', 'bounce rate'], top: 4 },
      xAxis: dayAxis(rows),
      yAxis: [valueAxis('users'), { type: 'value', name: 'rate (0–1)', min: 0, max: 1, position: 'right' }],
      series: [
        { name: 'users', type: 'bar', data: rows.map((row) => num(row.unique_users)) },
        ...(['completion_rate', 'pass_rate', 'bounce_rate'] as const).map((key) => ({
          name: key.replace('_', ' '),
          type: 'line',
          yAxisIndex: 1,
          data: rows.map((row) => num(row[key])),
        })),
      ],
    };
  },
};

const experimentResults: Panel = {
  id: 'experiments.results',
  title: 'Experiment results',
  description:
    'Per metric and variant against control: relative lift with its 95% interval (delta method) and the same test’s p-value; the always-valid (mSPRT) p-value and interval; the p-value the decision rests on (Holm over the metrics); users still needed for 80% power at the observed lift. With a country, platform or signup-cohort filter, every figure and the decision are the segment’s own, computed on request: a segment is one of many ways to slice, so read its decision as exploratory.',
  segments: () => EVERY_SEGMENT,
  columns: [
    { name: 'experiment', label: 'experiment', unit: 'text' },
    { name: 'metric', label: 'metric', unit: 'text' },
    { name: 'variant', label: 'variant', unit: 'text' },
    { name: 'n', label: 'n', unit: 'users' },
    { name: 'control_mean', label: 'control mean', unit: 'count' },
    { name: 'mean', label: 'mean', unit: 'count' },
    { name: 'rel_lift', label: 'lift', unit: 'percent' },
    { name: 'ci_low', label: '95% CI low', unit: 'percent' },
    { name: 'ci_high', label: '95% CI high', unit: 'percent' },
    { name: 'p_value', label: 'p', unit: 'p' },
    { name: 'cuped_ci_low', label: 'CUPED CI low', unit: 'percent' },
    { name: 'cuped_ci_high', label: 'CUPED CI high', unit: 'percent' },
    { name: 'msprt_p_value', label: 'always-valid p', unit: 'p' },
    { name: 'seq_ci_low', label: 'always-valid CI low', unit: 'percent' },
    { name: 'seq_ci_high', label: 'always-valid CI high', unit: 'percent' },
    { name: 'decision_p_value', label: 'decision p (Holm)', unit: 'p' },
    { name: 'decision_basis', label: 'basis', unit: 'text' },
    { name: 'decision', label: 'decision', unit: 'text' },
    { name: 'users_still_needed', label: 'users still needed', unit: 'users' },
    { name: 'srm_p_value', label: 'SRM p', unit: 'p' },
    { name: 'srm_flag', label: 'SRM', unit: 'count' },
  ],
  async query(warehouse, filters) {
    if (segmented(filters)) {
      const rows = await segmentAbResults(
        warehouse,
        filters.pack,
        { country: filters.country, platform: filters.platform, signupMonth: filters.cohort },
        filters.experiment === '' ? undefined : filters.experiment,
      );
      // As the mart's query below gives them: its columns (NULL where nothing was compared), in its order.
      const order = (row: Row) =>
        [row.experiment, row.metric, row.variant === 'control' ? '' : row.variant].map(String);
      const before = (a: Row, b: Row) => {
        const [x, y] = [order(a), order(b)];
        const at = x.findIndex((value, index) => value !== y[index]);
        return at < 0 ? 0 : (x[at] as string) < (y[at] as string) ? -1 : 1;
      };
      return rows
        .map(
          (row) =>
            Object.fromEntries(experimentResults.columns.map(({ name }) => [name, row[name] ?? null])) as Row,
        )
        .sort(before);
    }
    return warehouse.query<Row>(
      `SELECT experiment, metric, variant, n, control_mean, mean, rel_lift, ci_low, ci_high, p_value,
         cuped_ci_low, cuped_ci_high, msprt_p_value, seq_ci_low, seq_ci_high, decision_p_value, decision_basis,
         decision, users_still_needed, srm_p_value, srm_flag
       FROM mart_ab_results
       WHERE pack = {pack:String} AND ({experiment:String} = '' OR experiment = {experiment:String})
       ORDER BY experiment, metric, variant = 'control' DESC, variant`,
      { pack: filters.pack, experiment: filters.experiment },
    );
  },
  chart(rows) {
    const compared = rows.filter((row) => row.rel_lift !== null);
    const labels = compared.map((row) => `${row.experiment} · ${row.metric} · ${row.variant}`);
    return {
      ...base('Relative lift with 95% intervals'),
      tooltip: { trigger: 'item' },
      grid: { left: 300, right: 32, top: 24, bottom: 56 },
      xAxis: valueAxis('relative lift against control (0.1 = +10%)', { nameGap: 32 }),
      yAxis: { type: 'category', data: labels, inverse: true },
      // Each interval is a two-point line (plain JSON, so the server-side renderer draws it too).
      series: [
        ...compared.map((row, index) => ({
          name: `95% CI ${labels[index]}`,
          type: 'line',
          symbol: 'none',
          lineStyle: { width: 3, color: PALETTE[0] },
          data: [
            [num(row.ci_low), labels[index]],
            [num(row.ci_high), labels[index]],
          ],
        })),
        {
          name: 'lift',
          type: 'scatter',
          symbolSize: 10,
          itemStyle: { color: PALETTE[3] },
          data: compared.map((row, index) => [num(row.rel_lift), labels[index]]),
          markLine: {
            silent: true,
            symbol: 'none',
            lineStyle: { color: '#000', type: 'dashed' },
            data: [{ xAxis: 0 }],
          },
        },
      ],
    };
  },
};

const healthTables: Panel = {
  id: 'health.tables',
  title: 'Mirrors',
  description:
    'Per source table or collection: row versions landed, live rows, the newest change landed and how long ago that was, and dead letters waiting.',
  segments: () => NO_SEGMENT,
  columns: [
    { name: 'source', label: 'source', unit: 'text' },
    { name: 'mirror', label: 'mirror table', unit: 'text' },
    { name: 'rows', label: 'rows landed', unit: 'count' },
    { name: 'last_landed', label: 'last change landed (UTC)', unit: 'text' },
    { name: 'lag_s', label: 'since then', unit: 'seconds' },
    { name: 'dead_letters', label: 'dead letters', unit: 'count' },
  ],
  async query(warehouse) {
    const tables = (
      await warehouse.query<{ name: string; mirror: string; rows: string }>(
        `SELECT name, concat(database, '.', name) AS mirror, toString(total_rows) AS rows FROM system.tables
         WHERE database = {raw:String} AND engine NOT LIKE '%View' ORDER BY mirror`,
        { raw: RAW_DATABASE },
      )
    ).filter((table) => rawTableKind(table.name) === 'mirror');
    // Mirror names come from the catalogue, never from a request; each is quoted as an identifier.
    const rows: Row[] = [];
    for (const table of tables) {
      const [stats] = await warehouse.query<{ last: string | null; lag: number | null }>(
        `SELECT toString(max(_ingested_at)) AS last, dateDiff('second', max(_ingested_at), now64(3)) AS lag
         FROM ${quoteTable(table.mirror)}`,
      );
      rows.push({
        source: mirrorKey(table.mirror).split('_')[0] ?? '',
        mirror: table.mirror,
        rows: Number(table.rows),
        last_landed: stats?.last ?? null,
        lag_s: stats?.lag === null || stats?.lag === undefined ? null : Number(stats.lag),
        dead_letters: 0,
      });
    }
    const letters = await warehouse.query<{ mirror: string; count: string }>(
      `SELECT concat({raw:String}, '.', source, '_', replaceRegexpAll(topic, '^.*\\\\.', '')) AS mirror, toString(count()) AS count
       FROM ${bookkeepingTable('dead_letters')} WHERE replayed_at IS NULL GROUP BY mirror`,
      { raw: RAW_DATABASE },
    );
    for (const letter of letters) {
      const row = rows.find((entry) => entry.mirror === letter.mirror);
      if (row) row.dead_letters = Number(letter.count);
      else
        rows.push({
          source: '',
          mirror: letter.mirror,
          rows: 0,
          last_landed: null,
          lag_s: null,
          dead_letters: Number(letter.count),
        });
    }
    return rows;
  },
  chart(rows) {
    return {
      ...base('Rows landed per mirror'),
      tooltip: { trigger: 'item' },
      grid: { left: 220, right: 24, top: 24, bottom: 56 },
      xAxis: valueAxis('rows landed', { nameGap: 32 }),
      yAxis: { type: 'category', data: rows.map((row) => row.mirror), inverse: true },
      series: [{ name: 'rows landed', type: 'bar', data: rows.map((row) => num(row.rows)) }],
    };
  },
};

const healthDeadLetters: Panel = {
  id: 'health.dead_letters',
  title: 'Dead letters',
  description:
    'Changes that could not land, newest first, with the reason (replay them with `tributary dlq replay`).',
  segments: () => NO_SEGMENT,
  columns: [
    { name: 'failed_at', label: 'failed at (UTC)', unit: 'text' },
    { name: 'pipeline', label: 'pipeline', unit: 'text' },
    { name: 'topic', label: 'table or topic', unit: 'text' },
    { name: 'stage', label: 'stage', unit: 'text' },
    { name: 'error', label: 'reason', unit: 'text' },
  ],
  async query(warehouse) {
    return warehouse.query<Row>(
      `SELECT toString(d.failed_at) AS failed_at, pipeline, topic, stage, error FROM ${bookkeepingTable('dead_letters')} AS d
       WHERE replayed_at IS NULL ORDER BY d.failed_at DESC LIMIT 100`,
    );
  },
};

const healthTransforms: Panel = {
  id: 'health.transforms',
  title: 'Transform runs',
  description: 'The newest transform run per pack: mirror rows landed up to the watermark are in the marts.',
  segments: () => NO_SEGMENT,
  columns: [
    { name: 'pipeline', label: 'pipeline', unit: 'text' },
    { name: 'updated_at', label: 'last run (UTC)', unit: 'text' },
    { name: 'watermark', label: 'watermark (UTC)', unit: 'text' },
    { name: 'running', label: 'running or interrupted', unit: 'text' },
  ],
  async query(warehouse) {
    return warehouse.query<Row>(
      `SELECT pipeline, toString(c.updated_at) AS updated_at, JSONExtractString(state, 'watermark') AS watermark,
         if(JSONExtractBool(state, 'running'), 'yes', 'no') AS running
       FROM ${bookkeepingTable('checkpoints')} AS c FINAL WHERE pipeline LIKE 'transform:%' AND stream = 'state' ORDER BY pipeline`,
    );
  },
};

export const PANELS: readonly Panel[] = [
  summary,
  activeUsers,
  newUsers,
  retentionHeatmap,
  retentionCurve,
  contentLeaderboard,
  contentTrend,
  experimentResults,
  healthTables,
  healthDeadLetters,
  healthTransforms,
];

export function panelById(id: string): Panel | undefined {
  return PANELS.find((panel) => panel.id === id);
}
