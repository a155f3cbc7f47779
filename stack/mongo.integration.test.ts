// The MongoDB stand-in's secondary indexes (stack/java/MongoStandIn.java): an equality query the
// index answers returns what a scan of the collection returns, through inserts, updates that move
// a document to another key, deletes, arrays and numbers of other types; and it is answered by the
// index, not by a scan.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Int32, Long, MongoClient, ObjectId, type Collection, type Document } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMongoStandIn, type RunningMongo } from './index.ts';

let dir: string;
let server: RunningMongo;
let client: MongoClient;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tributary-mongo-standin-'));
  server = await startMongoStandIn({ dataDir: dir });
  client = new MongoClient(server.url);
  await client.connect();
});
afterAll(async () => {
  await client?.close();
  await server?.stop();
  await rm(dir, { recursive: true, force: true });
});

/**
 * What the index answers against what a scan of an unindexed copy answers, in the same order (the
 * documents without _id: an upsert gives each collection's document an id of its own).
 */
async function expectSameAnswers(indexed: Collection, scanned: Collection, queries: Document[]) {
  for (const query of queries) {
    const found = (collection: Collection) => collection.find(query, { projection: { _id: 0 } }).toArray();
    expect(await found(indexed), JSON.stringify(query)).toEqual(await found(scanned));
  }
}

describe('the stand-in with secondary indexes', () => {
  it('answers equality queries as a scan does, through inserts, updates, deletes and arrays', async () => {
    const db = client.db('secondary_index_answers');
    const indexed = db.collection('indexed');
    const scanned = db.collection('scanned');
    const day = (n: number) => new Date(Date.UTC(2026, 8, n));
    const documents: Document[] = [
      { _id: new ObjectId(), user_id: 'u1', date: day(1), n: 1 },
      { _id: new ObjectId(), user_id: 'u2', date: day(1), n: 1.0 },
      { _id: new ObjectId(), user_id: 'u1', date: day(2), n: new Long(1) },
      { _id: new ObjectId(), user_id: 'u3', date: [day(2), day(3)], n: new Int32(2) },
      { _id: new ObjectId(), user_id: 'u4', n: 2 },
      { _id: new ObjectId(), user_id: 'u5', date: null, n: 3 },
      { _id: new ObjectId(), user_id: ['u6', 'u7'], date: day(3), n: [1, 2] },
      { _id: 'a text id', user_id: 'u8', date: day(1), meta: { tag: 'a' } },
    ];
    // Part of the documents exist before the indexes: building an index files them too.
    await indexed.insertMany(documents.slice(0, 3));
    await indexed.createIndexes([
      { key: { date: -1 } },
      { key: { user_id: 1, date: -1 } },
      { key: { n: 1 } },
    ]);
    await indexed.createIndex({ 'meta.tag': 1 });
    await indexed.insertMany(documents.slice(3));
    await scanned.insertMany(documents);
    const queries = [
      { date: day(1) },
      { date: day(2) },
      { date: day(3) },
      { date: day(4) },
      { user_id: 'u1', date: day(2) },
      { user_id: 'u7', date: day(3) },
      { user_id: 'u1', date: day(9) },
      { n: 1 },
      { n: 2 },
      { n: new Long(1) },
      { 'meta.tag': 'a' },
      // Not answered by an index (null, operators, arrays, a key's prefix): a scan, as before.
      { date: null },
      { date: { $gte: day(2) } },
      { date: [day(2), day(3)] },
      { user_id: 'u1' },
    ];
    await expectSameAnswers(indexed, scanned, queries);
    for (const collection of [indexed, scanned]) {
      await collection.updateOne({ user_id: 'u1', date: day(1) }, { $set: { date: day(4) } });
      await collection.updateMany({ date: day(2) }, { $set: { n: 5 } });
      await collection.updateOne({ user_id: 'u3' }, { $set: { date: day(1) } });
      await collection.updateOne({ user_id: 'u8' }, { $unset: { 'meta.tag': '' } });
      await collection.deleteOne({ user_id: 'u2' });
      await collection.updateOne({ user_id: 'u9', date: day(2) }, { $set: { n: 1 } }, { upsert: true });
    }
    await expectSameAnswers(indexed, scanned, [...queries, { n: 5 }, { user_id: 'u9', date: day(2) }]);
    await indexed.dropIndex('date_-1');
    await expectSameAnswers(indexed, scanned, queries);
  });

  it('answers an equality query from the index, not by scanning the collection', async () => {
    const collection = client.db('secondary_index_speed').collection('metrics');
    const count = 50_000;
    const day = (n: number) => new Date(Date.UTC(2026, 8, 1 + (n % 10)));
    for (let start = 0; start < count; start += 10_000)
      await collection.insertMany(
        Array.from({ length: 10_000 }, (_, offset) => ({
          user_id: `u${start + offset}`,
          date: day(start + offset),
        })),
      );
    const fastest = async (query: Document) => {
      let best = Infinity;
      for (let round = 0; round < 3; round++) {
        const started = performance.now();
        await collection.find(query).toArray();
        best = Math.min(best, performance.now() - started);
      }
      return best;
    };
    // A day with no document yet: before the index the query scans the 50k documents.
    const newDay = { date: new Date(Date.UTC(2026, 9, 1)) };
    const scan = await fastest(newDay);
    await collection.createIndex({ date: -1 });
    const indexed = await fastest(newDay);
    expect(indexed * 10, `scan ${scan.toFixed(1)} ms, indexed ${indexed.toFixed(1)} ms`).toBeLessThan(scan);
    expect(await collection.countDocuments({ date: day(3) })).toBe(count / 10);
  });
});
