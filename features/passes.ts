// A spine's rows computed a range of entity ids at a time into a scratch table ordered by spine row,
// so the engine holds one range's aggregation states and joins, not every entity's. The export
// writes its file from that table read in order; the online store writes each range to Redis as it
// goes (online-store.ts).
import { quoteTable, type Warehouse } from '../warehouse/index.ts';
import type { Spine } from './spine.ts';
import type { EntityRange, FeatureQuery } from './sql.ts';

/**
 * Entities per pass by default: as of one instant, about 0.5 GB of the engine's memory for the
 * learning pack's features. A spine's rows each have an instant of their own, and a pass of as many
 * took twice the memory (bench:features, 1M users, one row each: +1,153 MB above the idle engine at
 * 125k a pass, +803 MB at 62.5k, for 12% more CPU).
 */
export const ENTITIES_PER_PASS = { asOf: 125_000, spine: 62_500 } as const;

/** The spine's entities cut into ranges of at most `entitiesPerPass` ids each, in id order. */
export async function entityRanges(
  warehouse: Warehouse,
  spine: Spine,
  entitiesPerPass: number,
): Promise<EntityRange[]> {
  // A spine's rows are at least its entities: one pass when they fit, without a look at the ids.
  if (spine.rows <= entitiesPerPass) return [{}];
  // Rows numbered in id order, one per entity, hold the bounds at every `size`th row: no sort of every
  // id (at 1M users 0.02 CPU-s instead of 0.7–0.9 in one thread, and +0 MB instead of +260).
  const [row] = await warehouse.query<{ bounds: string[] }>(
    spine.entityOrdered
      ? `SELECT arraySort(groupArray(entity_id)) AS bounds FROM ${quoteTable(spine.table)}
         WHERE row_no > 0 AND row_no % {size:UInt64} = 0`
      : `SELECT arrayMap(i -> ids[i], range(1 + {size:UInt64}, length(ids) + 1, {size:UInt64})) AS bounds
         FROM (SELECT arraySort(groupUniqArray(entity_id)) AS ids FROM ${quoteTable(spine.table)})`,
    { size: entitiesPerPass },
  );
  const bounds = row?.bounds ?? [];
  return [undefined, ...bounds].map((from, index) => ({
    ...(from === undefined ? {} : { from }),
    ...(index < bounds.length ? { below: bounds[index] } : {}),
  }));
}

export interface PassesOptions {
  /** The scratch table to create, ordered by `row_no`. */
  table: string;
  spine: Spine;
  entitiesPerPass: number;
  /** The point-in-time query of one range of entities. */
  queryOf: (entities: EntityRange) => FeatureQuery;
}

/**
 * The scratch table is written once a pass and read once in order, so merging its parts is mostly
 * wasted work (at 1M users a background merge of 6 parts cost 1.7 CPU-s during (a)'s 7th pass,
 * bench:features), but reading it in order costs ~15 MB of memory per part. Parts merge only a dozen
 * at a time: up to a dozen parts (a pass writes one or more; 1M users in 8 passes wrote 8) are never
 * merged, and more stay bounded.
 */
const MERGE_PARTS_AT_ONCE = 12;

/** Creates `table` and fills it with the rows of each range of the spine's entities in turn. */
export async function computeInPasses(warehouse: Warehouse, options: PassesOptions): Promise<void> {
  const ranges = await entityRanges(warehouse, options.spine, options.entitiesPerPass);
  for (const [index, entities] of ranges.entries()) {
    const query = options.queryOf(entities);
    const rows = `SELECT * FROM (${query.sql})`;
    await warehouse.command(
      index === 0
        ? `CREATE TABLE ${quoteTable(options.table)} ENGINE = MergeTree ORDER BY row_no SETTINGS min_parts_to_merge_at_once = ${MERGE_PARTS_AT_ONCE} AS ${rows}`
        : `INSERT INTO ${quoteTable(options.table)} ${rows}`,
      query.params,
      query.settings,
    );
  }
}
