// Migration 250: the online store's record of what it wrote (features/online-store.ts) per entity as
// well as per pack and store, so that a content id never stands for a user id of the same text. A
// sorting key takes a new column only in a new table: a copy keyed by entity is filled with the rows
// (users', the one entity stored before), the two are exchanged (atomic) and the old one dropped.
import { bookkeepingTable } from './bookkeeping.ts';
import { splitTable } from './layout.ts';
import type { Warehouse } from './warehouse.ts';

/** What the online store last wrote, per pack, store, entity and id (made by migration 040). */
export const ONLINE_DIGESTS = bookkeepingTable('online_digests');

/** Safe to rerun at any point: a table already keyed by entity is kept, a copy left over is dropped. */
export async function digestsByEntity(warehouse: Warehouse): Promise<void> {
  const copy = `${ONLINE_DIGESTS}_by_entity`;
  const [keys] = await warehouse.query<{ sorting_key: string }>(
    'SELECT sorting_key FROM system.tables WHERE database = {database:String} AND name = {name:String}',
    splitTable(ONLINE_DIGESTS),
  );
  if (keys !== undefined && !keys.sorting_key.includes('entity,')) {
    await warehouse.command(`DROP TABLE IF EXISTS ${copy}`);
    await warehouse.command(
      `CREATE TABLE ${copy} (
         pack LowCardinality(String),
         store String,
         entity LowCardinality(String),
         entity_id String,
         digest UInt64,
         removed UInt8,
         written_at DateTime64(3, 'UTC')
       ) ENGINE = ReplacingMergeTree(written_at) ORDER BY (pack, store, entity, entity_id)`,
    );
    await warehouse.command(
      `INSERT INTO ${copy} SELECT pack, store, 'user', entity_id, digest, removed, written_at FROM ${ONLINE_DIGESTS}`,
    );
    await warehouse.command(`EXCHANGE TABLES ${ONLINE_DIGESTS} AND ${copy}`);
  }
  await warehouse.command(`DROP TABLE IF EXISTS ${copy}`);
}
