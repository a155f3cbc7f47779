// Incremental = full for the shop: after every round of random changes at the four databases and
// the documents, the same mirrors are transformed incrementally (pack "inc", state carried from
// round to round) and from scratch (pack "full"), and every generic and shop mart must come out
// byte for byte the same. Rounds copy orders (with their lines) onto old and new days, move orders
// between days, refund and delete them, edit, move, copy and delete product events and reviews,
// move exposures, and replay mirror batches.
import type { Document } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MONGO_SERVER } from '../../test/mongo.ts';
import { SHOP_SOURCE, shopWarehouse, type ShopWarehouse } from '../../test/shop-warehouse.ts';
import { runTransforms, type TransformResult } from '../../transforms/index.ts';
import { Random } from '../common/random.ts';
import { shopPack } from './index.ts';

const MARTS = [
  'mart_daily_user_metrics',
  'mart_dau',
  'mart_content_performance',
  'mart_retention',
  'mart_ab_results',
  ...(shopPack.marts ?? []).map((mart) => mart.name),
];
let data: ShopWarehouse;

beforeAll(async () => {
  data = await shopWarehouse({ users: 40, days: 12, seed: 17 });
}, 600_000);
afterAll(async () => {
  await data?.close();
});

async function transformBoth(): Promise<TransformResult> {
  const options = {
    warehouse: data.warehouse,
    mapping: shopPack.mapping(SHOP_SOURCE),
    marts: shopPack.marts,
    source: SHOP_SOURCE,
  };
  const incremental = await runTransforms({ ...options, pack: 'inc' });
  await runTransforms({ ...options, pack: 'full', full: true });
  return incremental;
}

async function martText(mart: string, pack: string): Promise<string> {
  const bytes = await data.warehouse.queryBytes(
    `SELECT * EXCEPT (pack) FROM ${mart} WHERE pack = {pack:String} ORDER BY ALL`,
    'TabSeparated',
    { pack },
  );
  return bytes.toString('utf8');
}

/** Up to `count` documents of a collection, picked by `random` (the stand-in cannot $sample). */
async function pick(collection: string, count: number, random: Random): Promise<Document[]> {
  const all = await data.db.collection<Document>(collection).find({}).toArray();
  const indexes = [...new Set(Array.from({ length: count }, () => random.int(0, all.length - 1)))];
  return indexes.flatMap((index) => all.slice(index, index + 1));
}

async function changeSources(random: Random): Promise<void> {
  const { order, payment } = data.postgres;
  const shift = () => `${random.int(-3, 2)} * interval '1 day' + ${random.int(0, 23)} * interval '1 hour'`;
  // Copies of orders with their lines (one transaction, as the order service writes them), on old
  // days and on the day after the data.
  for (const when of [`o.created_at + ${shift()}`, `(SELECT max(created_at) FROM orders) + interval '1 day'`])
    await order.query(`BEGIN;
      CREATE TEMP TABLE copies AS SELECT id AS old_id, gen_random_uuid() AS new_id FROM orders ORDER BY random() LIMIT ${random.int(2, 8)};
      INSERT INTO orders SELECT (jsonb_populate_record(o, jsonb_build_object('id', c.new_id,
          'order_number', 'COPY-' || c.new_id, 'created_at', ${when}))).*
        FROM orders o JOIN copies c ON c.old_id = o.id;
      INSERT INTO order_items SELECT (jsonb_populate_record(i, jsonb_build_object('id', gen_random_uuid(), 'order_id', c.new_id))).*
        FROM order_items i JOIN copies c ON c.old_id = i.order_id;
      DROP TABLE copies;
      COMMIT`);
  // Orders moved in time, refunded (order and payment, as the services would), deleted.
  await order.query(`UPDATE orders SET created_at = created_at + ${shift()}
    WHERE id IN (SELECT id FROM orders ORDER BY random() LIMIT ${random.int(2, 10)})`);
  const refunded = await order.query<{ id: string }>(`UPDATE orders SET payment_status = 'REFUNDED'
    WHERE id IN (SELECT id FROM orders WHERE payment_status = 'COMPLETED' ORDER BY random() LIMIT ${random.int(1, 5)}) RETURNING id::text`);
  await payment.query(
    `UPDATE payments SET status = 'REFUNDED', updated_at = updated_at + interval '2 days' WHERE order_id = ANY($1::uuid[])`,
    [refunded.rows.map((row) => row.id)],
  );
  await order.query(
    `DELETE FROM orders WHERE id IN (SELECT id FROM orders ORDER BY random() LIMIT ${random.int(1, 4)})`,
  );
  // Product events deleted, moved and copied; reviews re-rated, rejected and deleted; exposures moved.
  const events = data.db.collection<Document>('product_events');
  for (const [index, document] of (await pick('product_events', 45, random)).entries()) {
    if (index % 3 === 0) await events.deleteOne({ _id: document._id });
    else if (index % 3 === 1)
      await events.updateOne(
        { _id: document._id },
        {
          $set: {
            timestamp: new Date((document.timestamp as Date).getTime() + random.int(-2, 2) * 86_400_000),
          },
        },
      );
    else {
      const copy: Document = { ...document };
      delete copy._id;
      await events.insertOne({ ...copy, version: 100_000 + random.int(0, 1_000_000) });
    }
  }
  const reviews = data.db.collection<Document>('reviews');
  for (const [index, document] of (await pick('reviews', 6, random)).entries()) {
    if (index % 3 === 0) await reviews.deleteOne({ _id: document._id });
    else if (index % 3 === 1)
      await reviews.updateOne({ _id: document._id }, { $set: { rating: random.int(1, 5) } });
    else
      await reviews.updateOne(
        { _id: document._id },
        { $set: { status: document.status === 'APPROVED' ? 'REJECTED' : 'APPROVED' } },
      );
  }
  for (const document of await pick('experiment_assignments', 5, random))
    await data.db.collection('experiment_assignments').updateOne(
      { _id: document._id },
      {
        $set: {
          exposedAt: new Date((document.exposedAt as Date).getTime() - random.int(1, 3) * 86_400_000),
        },
      },
    );
  await data.capture();
  // A replayed batch: versions the mirrors already hold, landing again.
  await data.warehouse.command(
    `INSERT INTO raw.${SHOP_SOURCE}_order_orders SELECT * EXCEPT (_ingested_at), now64(3) FROM raw.${SHOP_SOURCE}_order_orders LIMIT 50`,
  );
}

describe(`shop: incremental transforms equal a full recompute (documents on the ${MONGO_SERVER})`, () => {
  it('after every round of new, moved, refunded and deleted orders, events and reviews, byte for byte', async () => {
    const random = new Random(23);
    await transformBoth();
    for (let round = 0; round < 3; round++) {
      await changeSources(random);
      const incremental = await transformBoth();
      expect(incremental.mode).toBe('incremental');
      expect(incremental.recomputedDays).not.toBe('all');
      for (const mart of MARTS) {
        const full = await martText(mart, 'full');
        expect(full.length, `${mart} is empty`).toBeGreaterThan(0);
        expect({ round, mart, text: await martText(mart, 'inc') }).toEqual({ round, mart, text: full });
      }
    }
  });
});
