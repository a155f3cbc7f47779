// Reading the oplog's bounds, where the server lets us (a replica set member with the privilege, or
// the test stand-in): they tell where a new stream may start and whether a stored position is
// still covered. Without access, callers fall back on what the change stream itself reports.
import type { MongoClient, Timestamp } from 'mongodb';

const OPLOG = { database: 'local', collection: 'oplog.rs' };

/** The newest entry's time; undefined when the oplog is empty or cannot be read. */
export async function newestOplogTime(client: MongoClient): Promise<Timestamp | undefined> {
  return (await oplogEnd(client, -1)) ?? undefined;
}

/** The oldest entry's time; null when the oplog is readable but empty, undefined when unreadable. */
export async function oldestOplogTime(client: MongoClient): Promise<Timestamp | null | undefined> {
  return oplogEnd(client, 1);
}

async function oplogEnd(client: MongoClient, direction: 1 | -1): Promise<Timestamp | null | undefined> {
  try {
    const entry = await client
      .db(OPLOG.database)
      .collection<{ ts: Timestamp }>(OPLOG.collection)
      // $natural: the oplog's insertion order, read without an index.
      .find({}, { projection: { ts: 1 }, sort: { $natural: direction }, limit: 1 })
      .next();
    return entry?.ts ?? null;
  } catch {
    return undefined;
  }
}
