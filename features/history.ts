// The change history point-in-time attributes need. A raw mirror keeps only a row's latest version
// once ClickHouse merges it, so each mirror a feature reads attributes from gets an append-only twin,
// `raw.hist_<source>_<table>`, fed by a materialized view on the mirror's inserts: every version ever
// landed stays, keyed by (row key, _version) so a replayed batch is one version, not two.
// Enabling it on an existing mirror backfills the versions the mirror still holds.
import {
  historyFeed,
  historyTable,
  mirrorTable,
  presentTables,
  quoteTable as q,
  splitTable,
  type Warehouse,
} from '../warehouse/index.ts';
import type { FeatureRegistry } from './registry.ts';

export type HistoryState = 'created' | 'present' | 'no-mirror';

export async function ensureMirrorHistory(warehouse: Warehouse, mirror: string): Promise<HistoryState> {
  const present = await presentTables(warehouse, [mirror, historyTable(mirror), historyFeed(mirror)]);
  if (!present.has(mirror)) return 'no-mirror';
  if (present.size === 3) return 'present';
  const [source] = await warehouse.query<{ sorting_key: string }>(
    'SELECT sorting_key FROM system.tables WHERE database = {database:String} AND name = {name:String}',
    splitTable(mirror),
  );
  if (!source) return 'no-mirror';
  const history = historyTable(mirror);
  await warehouse.command(
    `CREATE TABLE IF NOT EXISTS ${q(history)} AS ${q(mirror)}
     ENGINE = ReplacingMergeTree ORDER BY (${source.sorting_key}, _version)`,
  );
  // The view first, then the backfill: a version landing in between is in both, and one in the end.
  await warehouse.command(
    `CREATE MATERIALIZED VIEW IF NOT EXISTS ${q(historyFeed(mirror))} TO ${q(history)} AS SELECT * FROM ${q(mirror)}`,
  );
  await warehouse.command(`INSERT INTO ${q(history)} SELECT * FROM ${q(mirror)}`);
  return 'created';
}

/** The mirrors a registry's attributes read, named for a capture's source name. */
export function historyMirrors(registry: FeatureRegistry, sourceName: string): string[] {
  return registry.attributeSources.map((source) => mirrorTable(sourceName, source.table));
}

/**
 * Each attribute source's row key, by source name: its history's sorting key without `_version`.
 * A deletion carries only its row's key (Postgres without REPLICA IDENTITY FULL, a truncate's
 * tombstones), so the key alone says which versions it ends.
 */
export async function historyKeys(
  warehouse: Warehouse,
  registry: FeatureRegistry,
  sourceName: string,
): Promise<Record<string, string[]>> {
  const keys: Record<string, string[]> = {};
  for (const source of registry.attributeSources) {
    const rows = await warehouse.query<{ name: string }>(
      `SELECT name FROM system.columns WHERE database = {database:String} AND table = {name:String}
         AND is_in_sorting_key AND name != '_version' ORDER BY position`,
      splitTable(historyTable(mirrorTable(sourceName, source.table))),
    );
    keys[source.name] = rows.map((row) => row.name);
  }
  return keys;
}

/** Keeps history for every mirror the registry's attributes read; returns those created now. */
export async function ensureFeatureHistory(
  warehouse: Warehouse,
  registry: FeatureRegistry,
  sourceName: string,
): Promise<string[]> {
  const created: string[] = [];
  for (const mirror of historyMirrors(registry, sourceName))
    if ((await ensureMirrorHistory(warehouse, mirror)) === 'created') created.push(mirror);
  return created;
}
