// The shop's write-back against real servers: products get averageRating and reviewCount from their
// approved reviews and nothing else changes; a second run writes nothing; a write-back captured
// back (products stay captured) changes no mart; one review's new rating changes exactly its
// product's document.
import type { Document } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runTarget, type TargetReport } from '../../jobs/writeback/index.ts';
import { MONGO_SERVER } from '../../test/mongo.ts';
import { SHOP_SOURCE, shopWarehouse, type ShopWarehouse } from '../../test/shop-warehouse.ts';
import { runTransforms } from '../../transforms/index.ts';
import { shopPack } from './index.ts';

const PACK = 'shop';
let data: ShopWarehouse;

beforeAll(async () => {
  data = await shopWarehouse({ users: 90, days: 21, seed: 13 });
  await transform(true);
}, 600_000);
afterAll(async () => {
  await data?.close();
});

async function transform(full = false): Promise<void> {
  await runTransforms({
    warehouse: data.warehouse,
    pack: PACK,
    mapping: shopPack.mapping(SHOP_SOURCE),
    marts: shopPack.marts,
    source: SHOP_SOURCE,
    full,
  });
}

async function writeBack(): Promise<TargetReport[]> {
  const targets =
    shopPack.writeback?.targets({ pack: PACK, source: SHOP_SOURCE, asOf: new Date(), mongo: data.db }) ?? [];
  expect(targets.map((target) => target.name)).toEqual([`mongo:${data.db.databaseName}.products`]);
  const reports: TargetReport[] = [];
  for (const target of targets)
    reports.push(await runTarget(data.warehouse, target, { pack: PACK }, { dryRun: false, batchSize: 200 }));
  return reports;
}

async function products(): Promise<Map<string, Document>> {
  const documents = await data.db.collection<Document>('products').find({}).toArray();
  return new Map(documents.map((document) => [String(document._id), document]));
}

/** Every mart the transforms fill for the pack, as sorted JSON rows. */
async function marts(): Promise<Record<string, string[]>> {
  const tables = [
    'mart_daily_user_metrics',
    'mart_dau',
    'mart_content_performance',
    'mart_retention',
    'mart_ab_results',
    ...(shopPack.marts ?? []).map((mart) => mart.name),
  ];
  const result: Record<string, string[]> = {};
  for (const table of tables) {
    const rows = await data.warehouse.query<Record<string, unknown>>(
      // computed_at says when, not what: A/B results carry the time of their newest fact.
      `SELECT * ${table === 'mart_ab_results' ? 'EXCEPT (computed_at)' : ''} FROM ${table} WHERE pack = {pack:String}`,
      { pack: PACK },
    );
    result[table] = rows.map((row) => JSON.stringify(row)).sort();
  }
  return result;
}

/** What a product's fields should be, from the review documents themselves. */
async function expectedRatings(): Promise<Map<string, { averageRating: number; reviewCount: number }>> {
  const reviews = await data.db.collection<Document>('reviews').find({ status: 'APPROVED' }).toArray();
  const byProduct = new Map<string, number[]>();
  for (const review of reviews)
    byProduct.set(String(review.productId), [
      ...(byProduct.get(String(review.productId)) ?? []),
      Number(review.rating),
    ]);
  return new Map(
    [...byProduct].map(([id, ratings]) => [
      id,
      {
        averageRating:
          Math.round((ratings.reduce((sum, rating) => sum + rating, 0) / ratings.length) * 100) / 100,
        reviewCount: ratings.length,
      },
    ]),
  );
}

/** The fields of `after` that differ from `before`, by product. */
function changedFields(before: Map<string, Document>, after: Map<string, Document>): Map<string, string[]> {
  const changed = new Map<string, string[]>();
  for (const [id, document] of after) {
    const old = before.get(id) ?? {};
    const fields = [...new Set([...Object.keys(old), ...Object.keys(document)])].filter(
      (field) => JSON.stringify(old[field]) !== JSON.stringify(document[field]),
    );
    if (fields.length > 0) changed.set(id, fields.sort());
  }
  return changed;
}

describe(`shop write-back of product ratings (documents on the ${MONGO_SERVER})`, () => {
  it('leaves no collection out of capture: products, which it writes, stay captured', () => {
    expect(shopPack.writeback?.collections).toEqual([]);
  });

  it('sets averageRating and reviewCount from the approved reviews, and no other field', async () => {
    const before = await products();
    const marked = await marts();
    const [first] = await writeBack();
    const after = await products();
    const expected = await expectedRatings();
    expect(expected.size).toBeGreaterThan(0);
    for (const [id, document] of after) {
      const want = expected.get(id) ?? { averageRating: 0, reviewCount: 0 };
      expect(
        { averageRating: Number(document.averageRating), reviewCount: Number(document.reviewCount) },
        id,
      ).toEqual(want);
    }
    // Every product was a candidate; only the reviewed ones changed (the others held 0 and 0). The
    // documents are compared, not the report's updated count: the stand-in reports none modified.
    expect(first?.candidates).toBe(after.size);
    const changed = changedFields(before, after);
    expect([...changed.keys()].sort()).toEqual([...expected.keys()].sort());
    for (const fields of changed.values()) expect(fields).toEqual(['averageRating', 'reviewCount']);

    // A second run finds nothing to write and changes nothing.
    const [second] = await writeBack();
    expect({ inserted: second?.inserted, updated: second?.updated, candidates: second?.candidates }).toEqual({
      inserted: 0,
      updated: 0,
      candidates: 0,
    });
    expect(changedFields(after, await products()).size).toBe(0);

    // The written fields come back through capture (products stay captured) and change no mart.
    await data.capture();
    await transform();
    expect(await marts()).toEqual(marked);
  });

  it("one review's new rating changes exactly its product's document", async () => {
    const review = await data.db.collection<Document>('reviews').findOne({ status: 'APPROVED' });
    if (!review) throw new Error('the simulation left no approved review');
    const rating = Number(review.rating) === 1 ? 5 : 1;
    await data.db
      .collection('reviews')
      .updateOne({ _id: review._id }, { $set: { rating, updatedAt: new Date() } });
    const before = await products();
    await data.capture();
    await transform();
    const [report] = await writeBack();
    expect(report?.candidates).toBe(1);
    const changed = changedFields(before, await products());
    expect([...changed]).toEqual([[String(review.productId), ['averageRating']]]);
    expect(Number((await products()).get(String(review.productId))?.averageRating)).toBe(
      (await expectedRatings()).get(String(review.productId))?.averageRating,
    );
  });
});
