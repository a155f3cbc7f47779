// One transform run for a pack: facts from the raw mirrors, then the marts. Incremental by
// default: only source rows whose mirrors received a version since the last run are re-mapped, and
// only the days their facts were or are on are recomputed (plus the 27 days after each for
// WAU/MAU); retention and A/B results are recomputed whole, from the facts. `full` rebuilds all,
// and gives the same marts. A run that was interrupted is followed by a full one.
import type { PackMapping } from '../packs/index.ts';
import { migrate, readCheckpoint, writeCheckpoint, type Warehouse } from '../warehouse/index.ts';
import { refreshFactsFull, refreshFactsIncremental } from './facts.ts';
import { recomputeAbResults } from './marts/ab-results.ts';
import { recomputeContentPerformance } from './marts/content-performance.ts';
import { recomputeDailyUserMetrics } from './marts/daily-user-metrics.ts';
import { recomputeDau } from './marts/dau.ts';
import type { DaySelection } from './marts/partitions.ts';
import { recomputeRetention } from './marts/retention.ts';

export interface TransformOptions {
  warehouse: Warehouse;
  /** Names the facts' and marts' `pack` column. */
  pack: string;
  mapping: PackMapping;
  full?: boolean;
}

export interface TransformResult {
  mode: 'full' | 'incremental';
  /** Days of daily marts recomputed ('all' after a full run). */
  recomputedDays: DaySelection;
  seconds: number;
}

interface TransformState {
  /** Mirror rows ingested up to here are in the facts. */
  watermark: string;
  /** Set while a run changes facts and marts; found set at start, the last run was interrupted. */
  running: boolean;
}

/** Rows landing while a run reads can carry an earlier ingestion time: read this far back again. */
const WATERMARK_OVERLAP_MS = 10_000;

export async function runTransforms(options: TransformOptions): Promise<TransformResult> {
  const { warehouse, pack, mapping } = options;
  const startedAt = performance.now();
  await migrate(warehouse);
  const pipeline = `transform:${pack}`;
  const state = await readCheckpoint<TransformState>(warehouse, pipeline, 'state');
  const existing = await existingTables(warehouse);
  const watermark = await newestIngestion(warehouse, mapping, existing);
  const full = options.full === true || !state || state.running;
  await writeCheckpoint(warehouse, pipeline, 'state', {
    watermark: state?.watermark ?? watermark,
    running: true,
  } satisfies TransformState);

  await rebuildDimensions(warehouse, pack, mapping, existing);
  let activityDays: DaySelection = 'all';
  let ratingDays: DaySelection = 'all';
  if (full) await refreshFactsFull(warehouse, pack, mapping, existing);
  else {
    const since = new Date(Date.parse(`${state.watermark.replace(' ', 'T')}Z`) - WATERMARK_OVERLAP_MS)
      .toISOString()
      .replace('T', ' ')
      .replace('Z', '');
    const changed = await refreshFactsIncremental(warehouse, pack, mapping, existing, since);
    activityDays = [...changed.activity].sort();
    ratingDays = [...changed.ratings].sort();
  }
  const contentDays = await recomputeMarts(warehouse, pack, mapping, existing, { activityDays, ratingDays });

  await writeCheckpoint(warehouse, pipeline, 'state', { watermark, running: false } satisfies TransformState);
  return {
    mode: full ? 'full' : 'incremental',
    recomputedDays: contentDays,
    seconds: (performance.now() - startedAt) / 1000,
  };
}

/**
 * The marts from the facts: the daily ones for the days whose activity (or ratings) changed, the
 * rest whole. Returns the days recomputed.
 */
export async function recomputeMarts(
  warehouse: Warehouse,
  pack: string,
  mapping: PackMapping,
  existing: Set<string>,
  changed: { activityDays: DaySelection; ratingDays: DaySelection },
): Promise<DaySelection> {
  const { activityDays, ratingDays } = changed;
  const contentDays: DaySelection =
    activityDays === 'all' || ratingDays === 'all'
      ? 'all'
      : [...new Set([...activityDays, ...ratingDays])].sort();
  await recomputeDailyUserMetrics(warehouse, pack, mapping, activityDays);
  await recomputeDau(warehouse, pack, activityDays);
  await recomputeContentPerformance(warehouse, pack, mapping, contentDays);
  await recomputeRetention(warehouse, pack);
  await recomputeAbResults(warehouse, pack, mapping, existing);
  return contentDays;
}

export async function existingTables(warehouse: Warehouse): Promise<Set<string>> {
  const rows = await warehouse.query<{ name: string }>(
    'SELECT name FROM system.tables WHERE database = currentDatabase()',
  );
  return new Set(rows.map((row) => row.name));
}

/** The newest ingestion time over the mirrors the mapping reads. */
async function newestIngestion(
  warehouse: Warehouse,
  mapping: PackMapping,
  existing: Set<string>,
): Promise<string> {
  const mirrors = new Set(
    [...mapping.activity, ...mapping.exposures, ...mapping.ratings].map((source) => source.mirror),
  );
  let newest = '1970-01-01 00:00:00.000';
  for (const mirror of mirrors) {
    if (!existing.has(mirror)) continue;
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
    { table: 'dim_users', source: mapping.users, columns: 'user_id, signup_at, country, timezone, status' },
    { table: 'dim_content', source: mapping.content, columns: 'content_id, content_type, title, created_at' },
  ];
  for (const { table, source, columns } of dimensions) {
    await warehouse.command(`DELETE FROM ${table} WHERE pack = {pack:String}`, { pack });
    if (!source.mirrors.every((mirror) => existing.has(mirror))) continue;
    await warehouse.command(
      `INSERT INTO ${table} (pack, ${columns}) SELECT {pack:String}, ${columns} FROM (${source.select})`,
      { pack },
    );
  }
}
