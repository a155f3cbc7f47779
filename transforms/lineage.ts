// What each table of facts, dimensions and marts is computed from, for the data dictionary: the
// generic marts' inputs are fixed; the facts', dimensions' and pack marts' are the pack's mirrors.
import type { PackMapping, PackMart } from '../packs/index.ts';

/** The generic tables' inputs, as recomputeMarts and the facts' views read them. */
const GENERIC_INPUTS: Readonly<Record<string, readonly string[]>> = {
  fact_exposures: ['fact_exposure_events'],
  fact_activity_by_user: ['fact_activity'],
  mart_daily_user_metrics: ['fact_activity'],
  agg_daily_active_users: ['fact_activity'],
  mart_dau: ['agg_daily_active_users'],
  mart_content_performance: ['fact_activity', 'fact_ratings'],
  agg_content_weekly: ['mart_content_performance'],
  agg_daily_segments: ['dim_users', 'mart_daily_user_metrics'],
  agg_content_segments: ['dim_users', 'fact_activity'],
  agg_segment_users: ['dim_users'],
  agg_retention_days: ['agg_daily_active_users'],
  agg_retention_cohorts: ['agg_retention_days', 'dim_users'],
  mart_retention: ['agg_retention_days', 'agg_retention_cohorts'],
  agg_ab_users: ['fact_activity', 'fact_exposures'],
  mart_ab_results: ['agg_ab_users'],
  agg_ab_segments: ['agg_ab_users', 'dim_users'],
};

/** Table → the tables (and mirrors) it is computed from, for one pack captured under `source`. */
export function lineageOf(
  mapping: PackMapping,
  marts: readonly PackMart[],
  source: string,
): Map<string, string[]> {
  const mirrorsOf = (sources: { mirror: string }[]) => sources.map((entry) => entry.mirror);
  const inputs = new Map<string, string[]>(
    Object.entries(GENERIC_INPUTS).map(([table, from]) => [table, [...from]]),
  );
  const add = (table: string, from: string[]) =>
    inputs.set(table, [...new Set([...(inputs.get(table) ?? []), ...from])].sort());
  add('fact_activity', mirrorsOf(mapping.activity));
  add('fact_exposure_events', mirrorsOf(mapping.exposures));
  add('fact_ratings', mirrorsOf(mapping.ratings));
  add('dim_users', mapping.users.mirrors);
  add('dim_content', mapping.content.mirrors);
  add('mart_ab_results', mapping.experimentConfigs.mirrors);
  add('dim_experiments', mapping.experimentConfigs.mirrors);
  for (const mart of marts) add(mart.name, mart.mirrors(source));
  return inputs;
}
