// The tables of a pack's own marts, and the marts small enough to recompute whole on every transform
// run: one table partitioned by pack, whose partition is rebuilt in its staging twin and swapped in
// (transforms/marts/partitions.ts), so a reader sees the old rows or the new ones, never a mix.
import { insertInto, replacePartitions } from '../../transforms/marts/partitions.ts';
import {
  presentTables,
  quoteIdentifier as q,
  quoteString,
  quoteTable,
  stagingTable,
  type Warehouse,
} from '../../warehouse/index.ts';
import type { PackMart, PackMartContext } from '../pack.ts';

/** A column of a mart: name, type and the comment analysts read in the data dictionary. */
export type MartColumn = readonly [name: string, type: string, comment: string];

const PACK_COLUMN: MartColumn = ['pack', 'LowCardinality(String)', 'The source pack (product).'];

export interface MartTable {
  name: string;
  /** What a row is, what is counted, over which window and in which time zone. */
  comment: string;
  /** The columns after `pack`, which every pack mart starts with. */
  columns: readonly MartColumn[];
  /** The sorting key after `pack`. */
  orderBy: string;
  /** Default `pack`: one partition per pack, rebuilt whole. */
  partitionBy?: string;
}

/** The CREATE statements of a mart and of the staging twin its partitions are swapped in from. */
export function martTableDdl(table: MartTable): string[] {
  const definitions = [PACK_COLUMN, ...table.columns]
    .map(([column, type, about]) => `${q(column)} ${type} COMMENT ${quoteString(about)}`)
    .join(', ');
  return [
    `CREATE TABLE IF NOT EXISTS ${q(table.name)} (${definitions})
     ENGINE = MergeTree PARTITION BY ${table.partitionBy ?? 'pack'} ORDER BY (pack, ${table.orderBy})
     COMMENT ${quoteString(table.comment)}`,
    `CREATE TABLE IF NOT EXISTS ${quoteTable(stagingTable(table.name))} AS ${q(table.name)}`,
  ];
}

export interface WholeMart extends Omit<MartTable, 'partitionBy'> {
  /** The mirrors it reads: until every one exists (a capture still starting), the mart is empty. */
  reads(source: string): string[];
  /** The rows, `pack` (bound as `{pack:String}`) first and then the columns in order. */
  select(source: string): string;
}

/** A mart recomputed whole by every run: its pack's partition rebuilt and swapped in. */
export function wholeMart(mart: WholeMart): PackMart {
  return {
    name: mart.name,
    ddl: martTableDdl(mart),
    mirrors: (source) => mart.reads(source),
    async recompute(warehouse: Warehouse, { pack, source }: PackMartContext) {
      const reads = mart.reads(source);
      const present = await presentTables(warehouse, reads);
      const complete = present.size === new Set(reads).size;
      await replacePartitions(warehouse, { table: mart.name, pack, where: '1' }, async (stage, params) => {
        if (complete) await insertInto(warehouse, stage, mart.select(source), params);
      });
    },
  };
}
