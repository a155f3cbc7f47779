// The shop's write-back (seed 002, DESIGN §6): each product's `averageRating` and `reviewCount`,
// from its approved reviews (fact_ratings), set on the product document and nothing else. Products
// stay captured: the two fields Tributary writes reach the products mirror, which no fact or mart
// reads them from, so a write-back changes no mart (the write-back test shows it).
import { Double, Int32 } from 'mongodb';
import type { WritebackTarget } from '../../jobs/writeback/engine.ts';
import { mongoTarget } from '../../jobs/writeback/mongo-target.ts';
import type { PackWriteback, PackWritebackContext } from '../pack.ts';
import { shopMirror } from './mapping.ts';

export function shopTargets({ source, mongo }: PackWritebackContext): WritebackTarget[] {
  if (!mongo) return [];
  return [
    mongoTarget({
      collection: mongo.collection('products'),
      // Every live product document, reviewed or not (an unreviewed one has 0 and 0, as created).
      sql: `SELECT p.product_id AS natural_key, p.product_id AS product_id,
          ifNull(r.review_count, 0) AS review_count, ifNull(round(r.average_rating, 2), 0) AS average_rating
        FROM (SELECT JSONExtractString(doc, '_id') AS product_id FROM ${shopMirror(source, 'products')} FINAL
              WHERE _is_deleted = 0) AS p
        LEFT JOIN (SELECT content_id, count() AS review_count, avg(rating) AS average_rating FROM fact_ratings
                   WHERE pack = {pack:String} AND content_type = 'product' GROUP BY content_id) AS r
          ON r.content_id = p.product_id`,
      valueColumns: ['review_count', 'average_rating'],
      filter: (row) => ({ _id: row.product_id }),
      // All products are read once per run (ids only), then written by _id.
      scope: () => ({}),
      fields: (row) => ({
        // Typed as the application writes them, so a written document looks like any other.
        averageRating: new Double(Number(row.average_rating)),
        reviewCount: new Int32(Number(row.review_count)),
      }),
      indexes: [{ key: { _id: 1 } }],
    }),
  ];
}

export const shopWriteback: PackWriteback = {
  // Nothing is left out of capture: products must be captured, and the marts never read the fields.
  collections: [],
  targets: shopTargets,
};
