// A spine's rows computed a range of entity ids at a time into a scratch table ordered by spine row,
// so the engine holds a few ranges' aggregation states and joins, not every entity's. The export
// writes its file from that table read in order; the online store writes Redis from it.
import { quoteTable, type Warehouse } from '../warehouse/index.ts';
import type { Spine } from './spine.ts';
import type { EntityRange, FeatureQuery } from './sql.ts';

/**
 * Spine rows per range by default (an as-of spine has one per entity): two ranges side by side take
 * about 0.7 GB of the engine's memory for the learning pack's features.
 */
export const ROWS_PER_RANGE = 100_000;

/** Ranges computed side by side in one statement, a thread each (the machine's 2 cores). */
const RANGES_PER_STATEMENT = 2;

/**
 * The spine's entities cut into ranges of about `rowsPerRange` rows each, in id order: the memory
 * goes with a range's spine rows, and an entity's rows stay in one range.
 */
export async function entityRanges(
  warehouse: Warehouse,
  spine: Spine,
  rowsPerRange: number,
): Promise<EntityRange[]> {
  if (spine.rows <= rowsPerRange) return [{}];
  // Rows numbered in id order hold the bounds at every `size`th row, without sorting the ids.
  const [row] = await warehouse.query<{ bounds: string[] }>(
    spine.entityOrdered
      ? `SELECT arraySort(groupArray(entity_id)) AS bounds FROM ${quoteTable(spine.table)}
         WHERE row_no > 0 AND row_no % {size:UInt64} = 0`
      : `SELECT arrayDistinct(arrayMap(i -> ids[i], range(1 + {size:UInt64}, length(ids) + 1, {size:UInt64}))) AS bounds
         FROM (SELECT arraySort(groupArray(entity_id)) AS ids FROM ${quoteTable(spine.table)})`,
    { size: rowsPerRange },
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
  rowsPerRange: number;
  /** The point-in-time query of ranges of entities, computed side by side. */
  queryOf: (entities: EntityRange[]) => FeatureQuery;
  /** Columns computed from each row besides the query's (`expression AS name`). */
  extraColumns?: string[];
}

/** Creates `table` and fills it with the rows of the spine's entities, a few ranges at a time. */
export async function computeInPasses(warehouse: Warehouse, options: PassesOptions): Promise<void> {
  const ranges = await entityRanges(warehouse, options.spine, options.rowsPerRange);
  const columns = ['*', ...(options.extraColumns ?? [])].join(', ');
  for (let index = 0; index < ranges.length; index += RANGES_PER_STATEMENT) {
    const query = options.queryOf(ranges.slice(index, index + RANGES_PER_STATEMENT));
    const rows = `SELECT ${columns} FROM (${query.sql})`;
    await warehouse.command(
      index === 0
        ? `CREATE TABLE ${quoteTable(options.table)} ENGINE = MergeTree ORDER BY row_no AS ${rows}`
        : `INSERT INTO ${quoteTable(options.table)} ${rows}`,
      query.params,
      query.settings,
    );
  }
}
