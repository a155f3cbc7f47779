// One transform run for a pack: facts from the raw mirrors, then the marts. Incremental by
// default: only source rows whose mirrors received a version since the last run are re-mapped, and
// only the days their facts were or are on are recomputed (plus the 27 days after each for
// WAU/MAU, and the A/B users exposed within a window of them); retention and A/B results are
// recomputed whole, from partial aggregates. `full` rebuilds all, and gives the same marts. A run
// that was interrupted, or one after the facts' layout changed, is a full one.
import type { PackMapping, PackMart } from '../packs/index.ts';
import { z } from 'zod';
import {
  layoutTables,
  migrate,
  readCheckpoint,
  WarehouseError,
  writeCheckpoint,
  type Warehouse,
} from '../warehouse/index.ts';
import {
  assignUserKeys,
  checkFactSelects,
  refreshFactsFull,
  refreshFactsIncremental,
  withUserKeys,
} from './facts.ts';
import { recomputeAbResults, refreshAbUsers } from './marts/ab-results.ts';
import { recomputeDailyActiveUsers } from './marts/active-users.ts';
import { recomputeContentPerformance } from './marts/content-performance.ts';
import { recomputeContentWeekly } from './marts/content-weekly.ts';
import { recomputeContentSegments } from './marts/content-segments.ts';
import { recomputeDailySegments, segmentChanges } from './marts/daily-segments.ts';
import { recomputeDailyUserMetrics } from './marts/daily-user-metrics.ts';
import { recomputeDau } from './marts/dau.ts';
import type { DaySelection } from './marts/partitions.ts';
import { recomputeRetention } from './marts/retention.ts';

export interface TransformOptions {
  warehouse: Warehouse;
  /** Names the facts' and marts' `pack` column. */
  pack: string;
  mapping: PackMapping;
  /** The pack's own marts, recomputed after the generic ones. */
  marts?: readonly PackMart[];
  /** The captures' mirror prefix the pack marts read (default: `pack`). */
  source?: string;
  full?: boolean;
  /**
   * How long an insert into a mirror may run: rows stamped this long before a run read may not yet
   * have been visible to it, so the next run reads them again. Default 10 s.
   */
  insertDurationBoundMs?: number;
}

export interface TransformResult {
  /** `unchanged`: no mirror the mapping reads received anything since the last run, so nothing ran. */
  mode: 'full' | 'incremental' | 'unchanged';
  /** Days of daily marts recomputed ('all' after a full run). */
  recomputedDays: DaySelection;
  seconds: number;
}

const transformStateSchema = z.object({
  /** Mirror rows ingested up to here are in the facts. */
  watermark: z.string(),
  /** The warehouse's clock when the run read the watermark (absent in states from older versions). */
  readAt: z.string().optional(),
  /** Set while a run changes facts and marts; found set at start, the last run was interrupted. */
  running: z.boolean(),
  /** The FACTS_LAYOUT the facts were built with. */
  layout: z.number().int().optional(),
  /** The mapping's mirrors that existed (a mirror appearing changes the dimensions' joins). */
  mirrors: z.array(z.string()).optional(),
});
type TransformState = z.infer<typeof transformStateSchema>;

/**
 * Raised when facts or partial aggregates gain what existing rows lack (2: user keys; 3: the A/B
 * `value` measure; 4: the dashboards' pre-aggregates, which incremental runs only patch; 5:
 * agg_daily_segments.returning_users; 6: agg_content_segments), so that a full run rebuilds them.
 */
const FACTS_LAYOUT = 6;

/** A row is stamped with its ingestion time when its insert starts, and is visible when it ends. */
const INSERT_DURATION_BOUND_MS = 10_000;

/**
 * Mirror rows ingested after this time are re-mapped: all rows after the last run's watermark, and
 * the rows that may have been in flight while it read (stamped within the bound before its read).
 * Once a run read more than the bound after the last ingestion, an idle source re-reads nothing.
 */
function rereadFrom(state: TransformState, insertDurationBoundMs: number): string {
  const watermark = parseTimestamp(state.watermark);
  const inFlightFrom = parseTimestamp(state.readAt ?? state.watermark) - insertDurationBoundMs;
  // One millisecond back, because rows are selected strictly after this time.
  return formatTimestamp(Math.min(watermark, inFlightFrom - 1));
}

const parseTimestamp = (text: string): number => Date.parse(`${text.replace(' ', 'T')}Z`);
const formatTimestamp = (ms: number): string => new Date(ms).toISOString().replace('T', ' ').replace('Z', '');

async function warehouseNow(warehouse: Warehouse): Promise<string> {
  const [row] = await warehouse.query<{ now: string }>("SELECT toString(now64(3, 'UTC')) AS now");
  if (!row) throw new WarehouseError('the warehouse did not tell its time', { retriable: true });
  return row.now;
}

/**
 * What a pack's facts were last transformed up to: it changes with every run that changed them (in
 * this process or another, by the service's loop, a scheduled job or the CLI), and never otherwise;
 * undefined before the first.
 */
export async function transformVersion(warehouse: Warehouse, pack: string): Promise<string | undefined> {
  const state = await readCheckpoint(warehouse, `transform:${pack}`, 'state', transformStateSchema);
  return state && `${state.watermark}|${state.readAt ?? ''}`;
}

export async function runTransforms(options: TransformOptions): Promise<TransformResult> {
  const { warehouse, pack, mapping } = options;
  const startedAt = performance.now();
  await migrate(warehouse);
  const pipeline = `transform:${pack}`;
  const state = await readCheckpoint(warehouse, pipeline, 'state', transformStateSchema);
  const existing = await existingTables(warehouse);
  await checkFactSelects(warehouse, mapping, existing);
  const source = options.source ?? pack;
  const packMarts = options.marts ?? [];
  const mirrors = [
    ...new Set([...mirrorsRead(mapping), ...packMarts.flatMap((mart) => mart.mirrors(source))]),
  ]
    .sort()
    .filter((mirror) => existing.has(mirror));
  // Read before the watermark, so that every read of this run comes after it.
  const readAt = await warehouseNow(warehouse);
  const watermark = await newestIngestion(warehouse, mirrors);
  const full = options.full === true || !state || state.running || state.layout !== FACTS_LAYOUT;
  const since = state && rereadFrom(state, options.insertDurationBoundMs ?? INSERT_DURATION_BOUND_MS);
  // The marts are a function of the mirrors alone: with none of them changed, neither are they.
  if (
    !full &&
    since !== undefined &&
    state.mirrors?.join() === mirrors.join() &&
    parseTimestamp(watermark) <= parseTimestamp(since)
  )
    return { mode: 'unchanged', recomputedDays: [], seconds: (performance.now() - startedAt) / 1000 };
  await writeCheckpoint(warehouse, pipeline, 'state', {
    ...(state ?? { watermark }),
    running: true,
  } satisfies TransformState);

  await rebuildDimensions(warehouse, pack, mapping, existing);
  let activityDays: DaySelection = 'all';
  let ratingDays: DaySelection = 'all';
  let exposuresChanged = true;
  if (full) await refreshFactsFull(warehouse, pack, mapping, existing);
  else {
    const changed = await refreshFactsIncremental(warehouse, pack, mapping, existing, since ?? watermark);
    activityDays = [...changed.activity].sort();
    ratingDays = [...changed.ratings].sort();
    exposuresChanged = changed.exposures;
  }
  const contentDays = await recomputeMarts(warehouse, pack, mapping, existing, {
    activityDays,
    ratingDays,
    exposuresChanged,
  });
  for (const mart of packMarts) {
    for (const statement of mart.ddl) await warehouse.command(statement);
    await mart.recompute(warehouse, { pack, source, days: contentDays });
  }

  await writeCheckpoint(warehouse, pipeline, 'state', {
    watermark,
    readAt,
    running: false,
    layout: FACTS_LAYOUT,
    mirrors,
  } satisfies TransformState);
  return {
    mode: full ? 'full' : 'incremental',
    recomputedDays: contentDays,
    seconds: (performance.now() - startedAt) / 1000,
  };
}

export interface ChangedFacts {
  activityDays: DaySelection;
  ratingDays: DaySelection;
  exposuresChanged: boolean;
}

/**
 * The marts from the facts: the daily ones and the partial aggregates for the days whose activity
 * (or ratings) changed, A/B users exposed within a window of those days (all of them when exposures
 * changed), retention and A/B results whole from the partial aggregates. Returns the days recomputed.
 */
export async function recomputeMarts(
  warehouse: Warehouse,
  pack: string,
  mapping: PackMapping,
  existing: Set<string>,
  changed: ChangedFacts,
  /** Told each table's recompute time, in seconds. */
  onStep?: (table: string, seconds: number) => void,
): Promise<DaySelection> {
  const { activityDays, ratingDays } = changed;
  const contentDays: DaySelection =
    activityDays === 'all' || ratingDays === 'all'
      ? 'all'
      : [...new Set([...activityDays, ...ratingDays])].sort();
  const exposureDays: DaySelection =
    activityDays === 'all' || changed.exposuresChanged
      ? 'all'
      : daysAround(activityDays, mapping.analysisWindowDays);
  // Both segment pre-aggregates recompute the days of users whose segment changed; agg_daily_segments
  // then records the new segments, so the changes are found once, before either runs.
  const changes = activityDays === 'all' ? undefined : await segmentChanges(warehouse, pack);
  const segmentDays: DaySelection =
    activityDays === 'all' ? 'all' : [...new Set([...activityDays, ...(changes?.days ?? [])])].sort();
  const steps: [string, () => Promise<void>][] = [
    ['mart_daily_user_metrics', () => recomputeDailyUserMetrics(warehouse, pack, mapping, activityDays)],
    ['agg_daily_active_users', () => recomputeDailyActiveUsers(warehouse, pack, activityDays)],
    ['mart_dau', () => recomputeDau(warehouse, pack, activityDays)],
    ['agg_content_segments', () => recomputeContentSegments(warehouse, pack, mapping, segmentDays)],
    ['agg_daily_segments', () => recomputeDailySegments(warehouse, pack, activityDays, changes)],
    ['mart_content_performance', () => recomputeContentPerformance(warehouse, pack, mapping, contentDays)],
    ['agg_content_weekly', () => recomputeContentWeekly(warehouse, pack, contentDays)],
    ['mart_retention', () => recomputeRetention(warehouse, pack, activityDays)],
    ['agg_ab_users', () => refreshAbUsers(warehouse, pack, mapping.analysisWindowDays, exposureDays)],
    ['mart_ab_results', () => recomputeAbResults(warehouse, pack, mapping, existing)],
  ];
  for (const [table, step] of steps) {
    const startedAt = performance.now();
    await step();
    onStep?.(table, (performance.now() - startedAt) / 1000);
  }
  return contentDays;
}

/** The days within `reach` days of any of `days`, sorted. */
function daysAround(days: string[], reach: number): string[] {
  const around = new Set<string>();
  for (const day of days) {
    const at = Date.parse(`${day}T00:00:00Z`);
    for (let offset = -reach; offset <= reach; offset++)
      around.add(new Date(at + offset * 86_400_000).toISOString().slice(0, 10));
  }
  return [...around].sort();
}

/** The facts, marts and mirrors present, named as layout.ts names them. */
export function existingTables(warehouse: Warehouse): Promise<Set<string>> {
  return layoutTables(warehouse);
}

/** Every mirror the mapping reads, for facts and for dimensions, sorted. */
function mirrorsRead(mapping: PackMapping): string[] {
  const facts = [...mapping.activity, ...mapping.exposures, ...mapping.ratings].map(
    (source) => source.mirror,
  );
  const dimensions = [mapping.users, mapping.content, mapping.experimentConfigs].flatMap(
    (source) => source.mirrors,
  );
  return [...new Set([...facts, ...dimensions])].sort();
}

/** The newest ingestion time over `mirrors`. */
async function newestIngestion(warehouse: Warehouse, mirrors: string[]): Promise<string> {
  let newest = '1970-01-01 00:00:00.000';
  for (const mirror of mirrors) {
    const [row] = await warehouse.query<{ newest: string }>(
      `SELECT toString(max(_ingested_at)) AS newest FROM ${mirror}`,
    );
    if (row && row.newest > newest) newest = row.newest;
  }
  return newest;
}

async function rebuildDimensions(
  warehouse: Warehouse,
  pack: string,
  mapping: PackMapping,
  existing: Set<string>,
): Promise<void> {
  const dimensions = [
    {
      table: 'dim_users',
      source: mapping.users,
      columns: 'user_id, signup_at, country, platform, timezone, status',
      userKeys: true,
    },
    {
      table: 'dim_content',
      source: mapping.content,
      columns: 'content_id, content_type, title, created_at',
      userKeys: false,
    },
  ];
  for (const { table, source, columns, userKeys } of dimensions) {
    await warehouse.command(`DELETE FROM ${table} WHERE pack = {pack:String}`, { pack });
    if (!source.mirrors.every((mirror) => existing.has(mirror))) continue;
    if (userKeys) await assignUserKeys(warehouse, pack, source.select);
    await warehouse.command(
      userKeys
        ? `INSERT INTO ${table} (pack, ${columns}, user_key) SELECT {pack:String}, ${columns}, user_key FROM (${withUserKeys(source.select)})`
        : `INSERT INTO ${table} (pack, ${columns}) SELECT {pack:String}, ${columns} FROM (${source.select})`,
      { pack },
    );
  }
}
