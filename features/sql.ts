// SQL for a point-in-time join: for every spine row (entity, timestamp) the features as they were
// known then. Facts count only when strictly before the timestamp; dimension attributes come from
// the latest version of their source row whose own time (validFrom) is before it; labels look
// only at facts at or after it. Every value a declaration carries is a bound parameter.
import { historyTable, mirrorTable, quoteIdentifier as q, quoteTable } from '../warehouse/index.ts';
import {
  FeatureDefinitionError,
  featureNullable,
  featureType,
  type ActivityFeature,
  type ActivityFilter,
  type AttributeSource,
  type Entity,
  type FeatureDefinition,
  type FeatureRegistry,
  type FeatureType,
  type LabelDefinition,
  type Window,
} from './registry.ts';

/**
 * The spine table's columns: one row per requested (entity, timestamp), with the entity's first
 * appearance (`known_from`: a user's signup, a content's creation) and a user's fact key (0 for content).
 */
export const SPINE_COLUMNS =
  "row_no UInt64, entity_id String, user_key UInt32, ts DateTime64(3, 'UTC'), known_from DateTime64(3, 'UTC')";

export interface FeatureQuery {
  /** The output rows in no order, each ending with its spine row's number `row_no`. */
  sql: string;
  params: Record<string, unknown>;
  /** Missing joined rows must be NULL (no facts), not a type's default. */
  settings: { join_use_nulls: 1 };
}

export function clickhouseType(type: FeatureType, nullable: boolean): string {
  const base = type === 'int64' ? 'Int64' : type === 'float64' ? 'Float64' : 'String';
  return nullable ? `Nullable(${base})` : base;
}

/** The features `names` need, in declaration order: ratios pull in what they divide. */
export function withDependencies(registry: FeatureRegistry, names: readonly string[]): FeatureDefinition[] {
  const byName = new Map(registry.features.map((feature) => [feature.name, feature]));
  const needed = new Set<string>();
  const visit = (name: string) => {
    if (needed.has(name)) return;
    const feature = byName.get(name);
    if (!feature) return;
    needed.add(name);
    if (feature.kind === 'ratio') {
      visit(feature.numerator);
      visit(feature.denominator);
    }
  };
  names.forEach(visit);
  return registry.features.filter((feature) => needed.has(feature.name));
}

class Params {
  readonly values: Record<string, unknown> = {};
  private readonly names = new Map<string, string>();
  /** One name per value and type: equal conditions stay textually equal, so the engine shares them. */
  bind(value: unknown, type: string): string {
    const key = `${type}:${JSON.stringify(value)}`;
    let name = this.names.get(key);
    if (name === undefined) {
      name = `p${this.names.size}`;
      this.names.set(key, name);
      this.values[name] = value;
    }
    return `{${name}:${type}}`;
  }
}

const MS_PER_DAY = 86_400_000;
const wholeDays = (from: string, to: string) =>
  `intDiv(toUnixTimestamp64Milli(${to}) - toUnixTimestamp64Milli(${from}), ${MS_PER_DAY})`;

/** A window over `age` (milliseconds from the fact to the timestamp; > 0: strictly before it). */
function ageWindow(window: Window, params: Params): string {
  if (window === 'all') return 'j.age > 0';
  const offset = window.offsetDays ?? 0;
  const upper = `j.age <= ${params.bind((window.days + offset) * MS_PER_DAY, 'Int64')}`;
  return offset === 0
    ? `j.age > 0 AND ${upper}`
    : `j.age > ${params.bind(offset * MS_PER_DAY, 'Int64')} AND ${upper}`;
}

/** A window over days (ratings carry a day alone): strictly before the timestamp's day. */
function dayWindow(window: Window, params: Params, ts: string): string {
  if (window === 'all') return '1';
  const offset = window.offsetDays ?? 0;
  const upper =
    offset === 0 ? '1' : `f.day < toDate(${ts}) - toIntervalDay(${params.bind(offset, 'UInt32')})`;
  return `f.day >= toDate(${ts}) - toIntervalDay(${params.bind(window.days + offset, 'UInt32')}) AND ${upper}`;
}

/** A declaration's filter over the facts' columns (`j.` in the fact scan, bare in the tiles). */
function activityFilter(where: ActivityFilter | undefined, params: Params, prefix = 'j.'): string[] {
  const parts: string[] = [];
  const c = (column: string) => `${prefix}${column}`;
  if (where?.eventTypes)
    parts.push(`${c('event_type')} IN ${params.bind(where.eventTypes, 'Array(String)')}`);
  if (where?.contentTypes)
    parts.push(`${c('content_type')} IN ${params.bind(where.contentTypes, 'Array(String)')}`);
  if (where?.completion !== undefined) parts.push(`${c('is_completion')} = ${where.completion ? 1 : 0}`);
  if (where?.scored || where?.passRatio !== undefined)
    parts.push(`${c('score')} IS NOT NULL AND ${c('max_score')} > 0`);
  if (where?.passRatio !== undefined)
    parts.push(`${c('score')} >= ${params.bind(where.passRatio, 'Float64')} * ${c('max_score')}`);
  return parts;
}

/** Where an entity's facts are read and how a spine row meets them. */
interface EntityFacts {
  /** The activity facts read. */
  activity: string;
  /** The facts' column equal to the spine's `spineColumn` for the entity's facts. */
  factColumn: 'user_key' | 'content_id';
  spineColumn: 'user_key' | 'entity_id';
  /** The facts' column of the entity's id: a pass's range, and how ratings meet the spine. */
  idColumn: 'user_id' | 'content_id';
}

const ENTITY_FACTS: Record<Entity, EntityFacts> = {
  /**
   * A user's activity is read from fact_activity's copy ordered by user (migration 240). A pass's
   * range of users reads only its own granules, and its users' facts come together, so the
   * aggregation's states stay in cache (bench/README.md, bench:features: (a) at 1M users took 0.69
   * of the CPU and wall time of the day-ordered table's). Facts meet the spine on the integer key.
   */
  user: {
    activity: 'fact_activity_by_user',
    factColumn: 'user_key',
    spineColumn: 'user_key',
    idColumn: 'user_id',
  },
  /** Content is few (thousands, one pass): its facts are read from the table ordered by day. */
  content: {
    activity: 'fact_activity',
    factColumn: 'content_id',
    spineColumn: 'entity_id',
    idColumn: 'content_id',
  },
};

/** Day bits a UInt128 mask holds past day 0: a window of ages up to this many days fits. */
const DAY_BITS = 127;

/** How many days back a window reaches (infinite for all history). */
function windowReach(window: Window): number {
  return window === 'all' ? Infinity : window.days + (window.offsetDays ?? 0);
}

/** Features that share one id array, each by a flag bit below the id's hash (at most this many). */
const FLAG_BITS = 8;

type DistinctFeature = ActivityFeature & { measure: { fn: 'distinct'; column: string } };

/**
 * Distinct counts from one array per id column (and per FLAG_BITS features of it): each fact that
 * any of them counts adds its id's 64-bit hash shifted up past a flag per feature, set when that
 * feature counts the fact. An array per feature cost as much as all the other aggregates together
 * (bench/README.md, bench:features); one push per fact and id column costs a fraction of that. Ids
 * are counted by 56 bits of their hash (the top 8 are shifted out): a collision among a user's few thousand ids is about as
 * likely as none (n² / 2^57).
 */
function distinctCounts(features: ActivityFeature[], params: Params): Map<ActivityFeature, string> {
  const byColumn = new Map<string, DistinctFeature[]>();
  for (const feature of features)
    if (feature.measure.fn === 'distinct') {
      const column = feature.measure.column;
      byColumn.set(column, [...(byColumn.get(column) ?? []), feature as DistinctFeature]);
    }
  const counts = new Map<ActivityFeature, string>();
  for (const [column, sharing] of byColumn)
    for (let first = 0; first < sharing.length; first += FLAG_BITS) {
      const group = sharing.slice(first, first + FLAG_BITS);
      const flags = group
        .map((feature, bit) => {
          const cond = [ageWindow(feature.window, params), ...activityFilter(feature.where, params)].join(
            ' AND ',
          );
          return `bitShiftLeft(toUInt64(${cond} AND j.${column} != ''), ${bit})`;
        })
        .join(' + ');
      const ids = `groupArrayIf(bitOr(bitShiftLeft(cityHash64(j.${column}), ${FLAG_BITS}), ${flags}), ${flags} != 0)`;
      group.forEach((feature, bit) =>
        counts.set(
          feature,
          `arrayUniq(arrayMap(x -> bitShiftRight(x, ${FLAG_BITS}), arrayFilter(x -> bitTest(x, ${bit}), ${ids})))`,
        ),
      );
    }
  return counts;
}

/** A UInt128 of the days with a fact in `cond`: bit d for d days back, bit 127 for 127 or more. */
const dayMask = (cond: string) =>
  `groupBitOrIf(bitShiftLeft(toUInt128(1), least(j.day_back, ${DAY_BITS})), ${cond})`;

/**
 * Consecutive active days from the timestamp's day when it is active, else from the day before: the
 * trailing ones of the day mask from there, and past day 126 (the mask's last exact day) the days
 * further back in order, for the windows that reach them.
 */
function currentStreak(window: Window, cond: string): string {
  const mask = dayMask(cond);
  const start = `if(bitAnd(${mask}, toUInt128(1)) = 0, 1, 0)`;
  const exact = `bitShiftRight(bitAnd(${mask}, bitShiftRight(bitNot(toUInt128(0)), 1)), ${start})`;
  // x XOR (x + 1) sets the trailing ones of x and the zero above them.
  const run = `toInt64(bitCount(bitXor(${exact}, ${exact} + 1))) - 1`;
  if (windowReach(window) < DAY_BITS) return run;
  const older = `arraySort(arrayDistinct(groupArrayIf(j.day_back, ${cond} AND j.day_back >= ${DAY_BITS})))`;
  const broken = `arrayFirstIndex((x, i) -> x != ${DAY_BITS - 1} + i, ${older}, arrayEnumerate(${older}))`;
  const continued = `if(${broken} = 0, length(${older}), ${broken} - 1)`;
  return `if(${run} = ${DAY_BITS} - ${start}, ${run} + ${continued}, ${run})`;
}

function activityAggregate(
  feature: ActivityFeature,
  params: Params,
  distinct: Map<ActivityFeature, string>,
): string {
  const cond = [ageWindow(feature.window, params), ...activityFilter(feature.where, params)].join(' AND ');
  const measure = feature.measure;
  switch (measure.fn) {
    case 'count':
      return `countIf(${cond})`;
    case 'activeDays':
      // Within 128 days, a bit per day back from the timestamp's day (16 bytes, no array per row).
      return windowReach(feature.window) <= DAY_BITS
        ? `bitCount(${dayMask(cond)})`
        : `length(arrayDistinct(groupArrayIf(j.day, ${cond})))`;
    case 'distinct':
      return distinct.get(feature) as string;
    case 'sum':
      return `sumIf(j.${measure.column}, ${cond})`;
    case 'avg':
    case 'max': {
      const value =
        measure.column === 'score_ratio' ? 'j.score / j.max_score' : `toFloat64(j.${measure.column})`;
      const guard =
        measure.column === 'score_ratio' && !feature.where?.scored
          ? ' AND j.score IS NOT NULL AND j.max_score > 0'
          : '';
      return `if(countIf(${cond}${guard}) = 0, NULL, toFloat64(${measure.fn}If(${value}, ${cond}${guard})))`;
    }
    case 'daysSinceLast':
      // The newest fact before the timestamp is the one with the smallest positive age.
      return `if(countIf(${cond}) = 0, NULL, intDiv(minIf(j.age, ${cond}), ${MS_PER_DAY}))`;
    case 'currentStreak':
      return currentStreak(feature.window, cond);
  }
}

interface Part {
  /** A CTE name and its SELECT, grouped by its `row_key` column. */
  name: string;
  select: string;
  /** Expressions this part yields, by output alias. */
  columns: string[];
  /** The spine column `row_key` matches. */
  spineKey: 'row_no' | 'user_key' | 'entity_id';
}

/**
 * How a part meets the spine. A spine of many instants: the part's rows join the spine on the
 * entity and are grouped per spine row. A spine of one instant (`--as-of`, the online store): the
 * part's rows are grouped per entity against that instant alone, with no join of the facts and the
 * spine (the largest cost of the query), and the output joins each part once, on the entity.
 */
interface Meeting {
  /** The spine row's timestamp, as an expression inside a part. */
  ts: string;
  /** One instant for every row (an as-of spine): a part's source rows meet no spine rows. */
  oneInstant: boolean;
  /** `row_key` of the rows of `alias`, whose `column` is the spine's `spineColumn`, and the join it needs. */
  meet(alias: string, column: string, spineColumn: 'user_key' | 'entity_id'): MeetingJoin;
  /**
   * A condition keeping a source's rows of the spine's entities, or none: an as-of spine holds every
   * entity known by then, and the output's join leaves out the few others.
   */
  ofSpine(column: string, spineColumn: 'user_key' | 'entity_id'): string;
  /**
   * A condition keeping a source's rows of this pass's entities (see `EntityRange`), by the source's
   * entity id column: on the facts by user, whose sorting key starts with the user id, it also
   * skips the other entities' granules. A fact's user id is its user key's (dim_user_keys), so the
   * range keeps exactly the facts the pass's spine rows join.
   */
  ofPass(idColumn: string): string;
}

/** One pass's share of the spine: the entities whose id is ≥ `from` and < `below` (each when given). */
export interface EntityRange {
  from?: string;
  below?: string;
}

interface MeetingJoin {
  key: string;
  join: string;
  spineKey: Part['spineKey'];
}

function meeting(params: Params, asOf: string | undefined, entities: EntityRange): Meeting {
  const ofPass = (idColumn: string) =>
    (entities.from === undefined ? '' : ` AND ${idColumn} >= ${params.bind(entities.from, 'String')}`) +
    (entities.below === undefined ? '' : ` AND ${idColumn} < ${params.bind(entities.below, 'String')}`);
  if (asOf === undefined)
    return {
      ts: 's.ts',
      oneInstant: false,
      meet: (alias, column, spineColumn) => ({
        key: 's.row_no',
        join: `INNER JOIN spine AS s ON ${alias}.${column} = s.${spineColumn}`,
        spineKey: 'row_no',
      }),
      ofSpine: (column, spineColumn) => ` AND ${column} IN (SELECT ${spineColumn} FROM spine)`,
      ofPass,
    };
  return {
    ts: params.bind(asOf, "DateTime64(3, 'UTC')"),
    oneInstant: true,
    meet: (alias, column, spineColumn) => ({ key: `${alias}.${column}`, join: '', spineKey: spineColumn }),
    ofSpine: () => '',
    ofPass,
  };
}

/**
 * Activity features over the facts joined to the spine, fact by fact: each joined row carries its age
 * (ms from the fact to the row's timestamp) once, and every window and filter is a comparison on it.
 * The default (`method: 'facts'`), and the reference the tiles are tested against.
 */
function scannedActivityPart(
  features: ActivityFeature[],
  labels: LabelDefinition[],
  params: Params,
  pack: string,
  rows: Meeting,
  facts: EntityFacts,
): Part | undefined {
  if (features.length === 0 && labels.length === 0) return undefined;
  const distinct = distinctCounts(features, params);
  const aggregates = features.map(
    (feature) => `${activityAggregate(feature, params, distinct)} AS ${q(`b_${feature.name}`)}`,
  );
  // Labels look at and after the timestamp (age <= 0); features never do (age > 0 in each).
  for (const label of labels)
    aggregates.push(
      `toInt64(countIf(j.age <= 0 AND j.age > -${params.bind(label.days * MS_PER_DAY, 'Int64')}) = 0) AS ${q(`b_${label.name}`)}`,
    );
  const reach = features.some((feature) => feature.window === 'all')
    ? undefined
    : Math.max(
        0,
        ...features.map((f) => (f.window === 'all' ? 0 : f.window.days + (f.window.offsetDays ?? 0))),
      );
  const past =
    reach === undefined ? 'age > 0' : `age > 0 AND age <= ${params.bind(reach * MS_PER_DAY, 'Int64')}`;
  const future = `age <= 0 AND age > -${params.bind(Math.max(0, ...labels.map((label) => label.days)) * MS_PER_DAY, 'Int64')}`;
  const where = labels.length === 0 ? past : features.length === 0 ? future : `(${past}) OR (${future})`;
  const meet = rows.meet('f', facts.factColumn, facts.spineColumn);
  return {
    name: 'activity',
    select: `SELECT j.row_key AS row_key, ${aggregates.join(',\n    ')}
  FROM (SELECT ${meet.key} AS row_key, toUnixTimestamp64Milli(${rows.ts}) - toUnixTimestamp64Milli(f.ts) AS age,
          toUInt32(dateDiff('day', f.day, toDate(${rows.ts}))) AS day_back, f.day AS day, f.event_type AS event_type,
          f.user_id AS user_id, f.content_id AS content_id, f.content_type AS content_type, f.session_id AS session_id,
          f.duration_s AS duration_s, f.score AS score, f.max_score AS max_score,
          f.is_completion AS is_completion, f.value AS value
        FROM (SELECT user_key, user_id, ts, day, event_type, content_id, content_type, session_id, duration_s, score, max_score, is_completion, value
              FROM ${facts.activity} WHERE pack = ${params.bind(pack, 'String')}${rows.ofPass(facts.idColumn)}${rows.ofSpine(facts.factColumn, facts.spineColumn)}) AS f
        ${meet.join}
        WHERE ${where}) AS j
  GROUP BY j.row_key`,
    columns: [...features.map((feature) => `b_${feature.name}`), ...labels.map((label) => `b_${label.name}`)],
    spineKey: meet.spineKey,
  };
}

/** Partial aggregates of a tile, one per distinct expression (equal filters share their columns). */
class Slots {
  readonly columns: string[] = [];
  private readonly names = new Map<string, string>();
  add(expression: string): string {
    let name = this.names.get(expression);
    if (name === undefined) {
      name = `t${this.names.size}`;
      this.names.set(expression, name);
      this.columns.push(`${expression} AS ${name}`);
    }
    return name;
  }
}

/**
 * A trailing window as tiles: whole days strictly inside it, plus the part of each edge day the
 * window covers. A window of ages (lo, hi] days (facts at ts − hi days up to, not including,
 * ts − lo days) covers the early part (before the cut) of day `toDate(ts) − lo` and the late part
 * (from the cut on) of day `toDate(ts) − hi`, where the cut is the timestamp's time of day. `k` is
 * how many days a tile lies before the timestamp's day; `part` is 0 for a whole day, 1 early, 2 late.
 */
function tileWindow(lo: number, hi: number | undefined, params: Params): string {
  const low = params.bind(lo, 'Int32');
  if (hi === undefined) return `((t.part = 0 AND t.k > ${low}) OR (t.part = 1 AND t.k = ${low}))`;
  const high = params.bind(hi, 'Int32');
  return `((t.part = 0 AND t.k > ${low} AND t.k < ${high}) OR (t.part = 1 AND t.k = ${low}) OR (t.part = 2 AND t.k = ${high}))`;
}

function windowBounds(window: Window): [number, number | undefined] {
  if (window === 'all') return [0, undefined];
  const offset = window.offsetDays ?? 0;
  return [offset, window.days + offset];
}

/** One feature over tiles: its partial aggregates (slots) combined over the tiles its window covers. */
function tiledAggregate(feature: ActivityFeature, params: Params, slots: Slots): string {
  const [lo, hi] = windowBounds(feature.window);
  const cond = tileWindow(lo, hi, params);
  const filter = activityFilter(feature.where, params, '');
  const matching = filter.length === 0 ? '1' : filter.join(' AND ');
  const count = slots.add(filter.length === 0 ? 'count()' : `countIf(${matching})`);
  const measure = feature.measure;
  switch (measure.fn) {
    case 'count':
      return `sumIf(t.${count}, ${cond})`;
    case 'activeDays':
      // A window covers each day by one tile (whole, or the one part of an edge day).
      return `countIf(${cond} AND t.${count} > 0)`;
    case 'distinct':
      return `uniqExactArrayIf(t.${slots.add(`groupUniqArrayIf(cityHash64(${measure.column}), ${matching} AND ${measure.column} != '')`)}, ${cond})`;
    case 'sum':
      return `sumIf(t.${slots.add(`sumIf(${measure.column}, ${matching})`)}, ${cond})`;
    case 'avg':
    case 'max': {
      const value = measure.column === 'score_ratio' ? 'score / max_score' : `toFloat64(${measure.column})`;
      const scored =
        measure.column === 'score_ratio' && !feature.where?.scored
          ? `${matching} AND score IS NOT NULL AND max_score > 0`
          : matching;
      const n = slots.add(`countIf(${scored})`);
      const combined =
        measure.fn === 'avg'
          ? `sumIf(t.${slots.add(`sumIf(toFloat64(${value}), ${scored})`)}, ${cond}) / sumIf(t.${n}, ${cond})`
          : `maxIf(t.${slots.add(`maxIf(toFloat64(${value}), ${scored})`)}, ${cond} AND t.${n} > 0)`;
      return `if(sumIf(t.${n}, ${cond}) = 0, NULL, toFloat64(${combined}))`;
    }
    case 'daysSinceLast': {
      const last = slots.add(`maxIf(ts, ${matching})`);
      return `if(sumIf(t.${count}, ${cond}) = 0, NULL, intDiv(toUnixTimestamp64Milli(any(t.row_ts)) - toUnixTimestamp64Milli(maxIf(t.${last}, ${cond} AND t.${count} > 0)), ${MS_PER_DAY}))`;
    }
    case 'currentStreak': {
      // Days back from the timestamp's day that had activity, as in the fact scan.
      const back = `arraySort(groupUniqArrayIf(t.k, ${cond} AND t.${count} > 0))`;
      const from = `arrayFilter(x -> x >= if(has(${back}, 0), 0, 1), ${back})`;
      const start = `if(has(${back}, 0), 0, 1)`;
      const broken = `arrayFirstIndex((x, i) -> x != ${start} + i - 1, ${from}, arrayEnumerate(${from}))`;
      return `if(${broken} = 0, length(${from}), ${broken} - 1)`;
    }
  }
}

/**
 * Activity features over per-user daily tiles (partial aggregates: counts, sums, maxima, id sets
 * and the last fact's time per user and UTC day and per declared filter). A window adds up the
 * tiles of the whole days inside it and, for its two edge days, tiles of only the facts on the
 * right side of the timestamp's time of day, aggregated per spine row from those days' facts. So a
 * row reads at most its windows' days of tiles plus a few days of facts, and stays exact: a fact
 * counts only if it is strictly before the timestamp (labels: at or after it). The tiles are built
 * for the spine's users by the query itself; see the README for why they are not kept.
 */
function tiledActivityPart(
  features: ActivityFeature[],
  labels: LabelDefinition[],
  params: Params,
  pack: string,
  rows: Meeting,
): Part | undefined {
  if (features.length === 0 && labels.length === 0) return undefined;
  const slots = new Slots();
  const aggregates = features.map(
    (feature) => `${tiledAggregate(feature, params, slots)} AS ${q(`b_${feature.name}`)}`,
  );
  const any = slots.add('count()');
  // A label's window is the ages (−days, 0]: from the timestamp on, for `days` days.
  for (const label of labels) {
    const cond = `((t.part = 0 AND t.k < 0 AND t.k > ${params.bind(-label.days, 'Int32')}) OR (t.part = 2 AND t.k = 0) OR (t.part = 1 AND t.k = ${params.bind(-label.days, 'Int32')}))`;
    aggregates.push(`toInt64(sumIf(t.${any}, ${cond}) = 0) AS ${q(`b_${label.name}`)}`);
  }
  const bounds = features.map((feature) => windowBounds(feature.window));
  const edges = [
    ...new Set([
      0,
      ...bounds.flatMap(([lo, hi]) => (hi === undefined ? [lo] : [lo, hi])),
      ...labels.map((label) => -label.days),
    ]),
  ].sort((a, b) => a - b);
  // Whole-day tiles beyond every window (or before every label) are not joined.
  const farthest = bounds.some(([, hi]) => hi === undefined)
    ? undefined
    : Math.max(0, ...bounds.map(([, hi]) => hi ?? 0));
  const nearest = Math.min(0, ...labels.map((label) => -label.days));
  const reach = `k >= ${params.bind(nearest, 'Int32')}${farthest === undefined ? '' : ` AND k <= ${params.bind(farthest, 'Int32')}`}`;
  const factColumns =
    'user_key, user_id, ts, day, event_type, content_id, content_type, session_id, duration_s, score, max_score, is_completion, value';
  const facts = (where: string) =>
    `(SELECT ${factColumns} FROM ${ENTITY_FACTS.user.activity} WHERE pack = ${params.bind(pack, 'String')}${rows.ofPass('user_id')} AND ${where})`;
  const slotColumns = slots.columns.join(', ');
  // The spine rows' edge days: each row's day and the days its windows start on (or labels end on).
  const edgeDays = `(SELECT row_no AS e_row, user_key AS e_user, ts AS e_ts, k AS e_k, toDate(ts) - k AS e_day,
                  ts - toIntervalDay(k) AS e_cut
                FROM spine ARRAY JOIN ${params.bind(edges, 'Array(Int32)')} AS k)`;
  return {
    name: 'activity',
    select: `SELECT t.row_no AS row_key, ${aggregates.join(',\n    ')}
  FROM (
    SELECT s.row_no AS row_no, s.ts AS row_ts, toInt32(dateDiff('day', d.day, toDate(s.ts))) AS k, toUInt8(0) AS part, ${slots.columns.map((_, index) => `d.t${index} AS t${index}`).join(', ')}
    FROM (SELECT user_key, day, ${slotColumns} FROM ${facts('user_key IN (SELECT user_key FROM spine)')} GROUP BY user_key, day) AS d
    INNER JOIN spine AS s ON d.user_key = s.user_key
    WHERE ${reach}
    UNION ALL
    SELECT e_row AS row_no, e_ts AS row_ts, e_k AS k, toUInt8(if(ts < e_cut, 1, 2)) AS part, ${slotColumns}
    FROM ${facts(`(user_key, day) IN (SELECT e_user, e_day FROM ${edgeDays})`)} AS f
    INNER JOIN ${edgeDays} AS e ON f.user_key = e.e_user AND f.day = e.e_day
    GROUP BY e_row, e_ts, e_k, part
  ) AS t
  GROUP BY t.row_no`,
    columns: [...features.map((feature) => `b_${feature.name}`), ...labels.map((label) => `b_${label.name}`)],
    spineKey: 'row_no',
  };
}

function exposurePart(
  features: FeatureDefinition[],
  params: Params,
  pack: string,
  rows: Meeting,
): Part | undefined {
  const exposures = features.filter((feature) => feature.kind === 'exposure');
  if (exposures.length === 0) return undefined;
  const aggregates = exposures.map((feature) => {
    const experiment = params.bind(feature.experiment, 'String');
    return `if(countIf(f.experiment = ${experiment}) = 0, NULL, argMinIf(f.variant, f.exposed_at, f.experiment = ${experiment})) AS ${q(`b_${feature.name}`)}`;
  });
  const meet = rows.meet('f', 'user_key', 'user_key');
  return {
    name: 'exposure',
    select: `SELECT ${meet.key} AS row_key, ${aggregates.join(',\n    ')}
  FROM (SELECT user_key, experiment, variant, exposed_at FROM fact_exposure_events
        WHERE pack = ${params.bind(pack, 'String')}${rows.ofPass('user_id')}${rows.ofSpine('user_key', 'user_key')}) AS f
  ${meet.join}
  WHERE f.exposed_at < ${rows.ts}
  GROUP BY row_key`,
    columns: exposures.map((feature) => `b_${feature.name}`),
    spineKey: meet.spineKey,
  };
}

function ratingPart(
  features: FeatureDefinition[],
  params: Params,
  pack: string,
  rows: Meeting,
  facts: EntityFacts,
): Part | undefined {
  const ratings = features.filter((feature) => feature.kind === 'rating');
  if (ratings.length === 0) return undefined;
  // Ratings carry their day alone, so a rating counts from the day after it (never on its own day).
  const aggregates = ratings.map((feature) => {
    const cond = dayWindow(feature.window, params, rows.ts);
    return feature.measure === 'count'
      ? `countIf(${cond}) AS ${q(`b_${feature.name}`)}`
      : `if(countIf(${cond}) = 0, NULL, avgIf(toFloat64(f.rating), ${cond})) AS ${q(`b_${feature.name}`)}`;
  });
  const meet = rows.meet('f', facts.idColumn, 'entity_id');
  return {
    name: 'rating',
    select: `SELECT ${meet.key} AS row_key, ${aggregates.join(',\n    ')}
  FROM (SELECT ${facts.idColumn}, day, rating FROM fact_ratings
        WHERE pack = ${params.bind(pack, 'String')}${rows.ofPass(facts.idColumn)}${rows.ofSpine(facts.idColumn, 'entity_id')}) AS f
  ${meet.join}
  WHERE f.day < toDate(${rows.ts})
  GROUP BY row_key`,
    columns: ratings.map((feature) => `b_${feature.name}`),
    spineKey: meet.spineKey,
  };
}

function attributeParts(
  features: FeatureDefinition[],
  sources: AttributeSource[],
  sourceName: string,
  sourceKeys: Readonly<Record<string, readonly string[]>>,
  rows: Meeting,
): Part[] {
  const parts: Part[] = [];
  for (const source of sources) {
    const attributes = features.filter(
      (feature): feature is Extract<FeatureDefinition, { kind: 'attribute' }> =>
        feature.kind === 'attribute' && feature.source === source.name,
    );
    if (attributes.length === 0) continue;
    const table = quoteTable(historyTable(mirrorTable(sourceName, source.table)));
    const columns = [...new Set(attributes.map((feature) => feature.column))];
    const keyColumns = sourceKeys[source.name] ?? [];
    if (keyColumns.length === 0)
      throw new FeatureDefinitionError(`attribute source "${source.name}" has no row key in the warehouse`);
    const key = keyColumns.map(q).join(', ');
    // The latest version is the one with the greatest (valid_from, _version), packed into one Int128
    // (argMax over a tuple, key or value, takes the engine's slow generic path). As of one instant, an
    // entity's versions sorted newest first give it whole, nulls and all (versions that tie go by
    // their values, so that the pick is the same every run): the profile, account and settings parts
    // took 0.4–0.6 of argMax's CPU (bench/README.md, bench:features). Against a spine, sorting the
    // joined rows cost more than argMax, which skips null values, so whether the latest version's
    // value is null is a second argMax.
    const latest = (column: string) =>
      rows.oneInstant
        ? `h.${q(column)}`
        : `if(argMax(isNull(h.${q(column)}), h.version_key), NULL, argMax(h.${q(column)}, h.version_key))`;
    const outputs = attributes.map((feature) => {
      const value = latest(feature.column);
      const read = feature.jsonField
        ? `JSONExtractString(${value}, '${feature.jsonField.replace(/[^a-z0-9_]/gi, '')}')`
        : value;
      return `${read} AS ${q(`b_${feature.name}`)}`;
    });
    const meet = rows.meet('h', 'entity', 'entity_id');
    // A deletion carries its row's key alone and no time of the source's (its columns are empty),
    // so it is known from when it landed (_ingested_at, never before the source committed it): from
    // then on it ends every older version of its row. An entity whose one row was deleted has no
    // attributes; one with several (sessions) falls back to its latest row still there.
    parts.push({
      name: `attribute_${source.name}`,
      select: `SELECT ${meet.key} AS row_key, ${outputs.join(', ')}
  FROM (SELECT toString(v.${q(source.entityColumn)}) AS entity, toDateTime64(v.${q(source.validFrom)}, 3, 'UTC') AS valid_from,
          toInt128(toUnixTimestamp64Milli(valid_from)) * toInt128('18446744073709551616') + v._version AS version_key,
          v._version AS version, d.deletions AS deletions,
          ${columns.map((column) => `v.${q(column)} AS ${q(column)}`).join(', ')}
        FROM ${table} AS v
        LEFT JOIN (SELECT ${key}, groupArray((_version, _ingested_at)) AS deletions FROM ${table}
                   WHERE _is_deleted = 1 GROUP BY ${key}) AS d USING (${key})
        WHERE v._is_deleted = 0${rows.ofPass(`toString(v.${q(source.entityColumn)})`)}) AS h
  ${meet.join}
  WHERE h.valid_from < ${rows.ts} AND NOT arrayExists(d -> d.1 > h.version AND d.2 < ${rows.ts}, h.deletions)
  ${rows.oneInstant ? `ORDER BY row_key, h.version_key DESC, ${columns.map((column) => `h.${q(column)}`).join(', ')} LIMIT 1 BY row_key` : 'GROUP BY row_key'}`,
      columns: attributes.map((feature) => `b_${feature.name}`),
      spineKey: meet.spineKey,
    });
  }
  return parts;
}

function finalExpression(feature: FeatureDefinition): string {
  const type = clickhouseType(featureType(feature), featureNullable(feature));
  const base = q(`b_${feature.name}`);
  switch (feature.kind) {
    case 'ratio': {
      const scaled = `toFloat64(${q(feature.denominator)}) * ${feature.denominatorScale ?? 1}`;
      const denominator = feature.share ? `greatest(${scaled}, toFloat64(${q(feature.numerator)}))` : scaled;
      return `CAST(if(${denominator} > 0, toFloat64(${q(feature.numerator)}) / (${denominator}), NULL) AS ${type})`;
    }
    case 'tenure':
      return `CAST(${wholeDays('s.known_from', 's.ts')} AS ${type})`;
    default:
      return featureNullable(feature) ? `CAST(${base} AS ${type})` : `CAST(ifNull(${base}, 0) AS ${type})`;
  }
}

export interface PointInTimeOptions {
  registry: FeatureRegistry;
  /** Output features, in this order (their dependencies are computed, not output). */
  features: FeatureDefinition[];
  labels: LabelDefinition[];
  /** The facts' pack column. */
  pack: string;
  /** The capture's source name, which names the mirrors. */
  sourceName: string;
  /** Each attribute source's row key, by source name (`prepareHistory` reads them). */
  sourceKeys: Readonly<Record<string, readonly string[]>>;
  /** The spine table (SPINE_COLUMNS). */
  spineTable: string;
  /** With labels: only rows whose label window ends by then (the data's horizon). */
  labelHorizon?: string;
  /** Activity fact by fact (the default, faster on the benchmark's data) or from per-user daily tiles. */
  method?: 'tiles' | 'facts';
  /**
   * The one timestamp every spine row has (an as-of spine), as the spine's rows were given it: the
   * parts then aggregate per entity without joining the spine (see `Meeting`).
   */
  asOf?: string;
  /** Only the spine rows of these entities (one pass, see passes.ts); all of them by default. */
  entities?: EntityRange;
}

/** The point-in-time SELECT: entity id, timestamp, the features, the labels (`label_<name>`), then the spine row (`row_no`), in no order. */
export function pointInTimeQuery(options: PointInTimeOptions): FeatureQuery {
  const params = new Params();
  const all = withDependencies(
    options.registry,
    options.features.map((feature) => feature.name),
  );
  const rows = meeting(params, options.asOf, options.entities ?? {});
  const facts = ENTITY_FACTS[options.registry.entity];
  const activity = all.filter((feature): feature is ActivityFeature => feature.kind === 'activity');
  if (options.method === 'tiles' && options.registry.entity !== 'user')
    throw new FeatureDefinitionError(
      `daily tiles are per user; ${options.registry.entity} features are computed from the facts (leave out --method tiles)`,
    );
  const parts = [
    options.method === 'tiles'
      ? tiledActivityPart(activity, options.labels, params, options.pack, rows)
      : scannedActivityPart(activity, options.labels, params, options.pack, rows, facts),
    exposurePart(all, params, options.pack, rows),
    ratingPart(all, params, options.pack, rows, facts),
    ...attributeParts(all, options.registry.attributeSources, options.sourceName, options.sourceKeys, rows),
  ].filter((part): part is Part => part !== undefined);
  const joins = parts
    .map((part) => `LEFT JOIN ${part.name} ON ${part.name}.row_key = s.${part.spineKey}`)
    .join('\n');
  const base = all
    .filter((feature) => feature.kind !== 'ratio')
    .map((feature) => `${finalExpression(feature)} AS ${q(feature.name)}`);
  const labelColumns = options.labels.map(
    (label) => `CAST(ifNull(${q(`b_${label.name}`)}, 1) AS Int64) AS ${q(`label_${label.name}`)}`,
  );
  const maxLabelDays = Math.max(0, ...options.labels.map((label) => label.days));
  const complete =
    options.labels.length > 0 && options.labelHorizon !== undefined
      ? `WHERE s.ts + toIntervalDay(${params.bind(maxLabelDays, 'UInt32')}) <= ${params.bind(options.labelHorizon, "DateTime64(3, 'UTC')")}`
      : '';
  const inner = `SELECT s.row_no AS row_no, s.entity_id AS entity_id, s.ts AS ts,
    ${[...base, ...labelColumns].join(',\n    ')}
  FROM spine AS s
  ${joins}
  ${complete}`;
  const output = [
    `entity_id AS ${q(options.registry.entity + '_id')}`,
    'ts AS `timestamp`',
    ...options.features.map((feature) =>
      feature.kind === 'ratio' ? `${finalExpression(feature)} AS ${q(feature.name)}` : q(feature.name),
    ),
    ...options.labels.map((label) => q(`label_${label.name}`)),
  ];
  const ctes = [
    `spine AS (SELECT * FROM ${quoteTable(options.spineTable)} WHERE 1${rows.ofPass('entity_id')})`,
    ...parts.map((part) => `${part.name} AS (${part.select})`),
  ];
  return {
    sql: `WITH ${ctes.join(',\n')}
SELECT ${output.join(', ')}, row_no
FROM (${inner})`,
    params: params.values,
    settings: { join_use_nulls: 1 },
  };
}
