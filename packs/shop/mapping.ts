// How the shop's raw mirrors become canonical facts (DESIGN §4), as declarative SQL:
// - product page views and cart adds are events of the product streams (MongoDB product_events);
// - a purchase is one fact per line of an order whose payment went through (payment_status
//   COMPLETED, or REFUNDED later), at the time the order was placed; it is the completion, and its
//   value is the line's revenue in cents (0 once refunded, so revenue is net of refunds);
// - approved reviews are the ratings; experiment_assignments carry the exposures.
// Mirrors: `raw.<source>_<service>_<table>` for the four Postgres databases, `raw.<source>_<collection>`
// for the documents (packs/pack.ts databaseSource).
import { mirrorTable } from '../../warehouse/index.ts';
import type { AbMetric, PackMapping } from '../pack.ts';

/** The shop's A/B metrics; the first (made a paid order within 7 days) is the primary one. */
export const SHOP_AB_METRICS = [
  { name: 'purchased_7d', measure: 'converted' },
  { name: 'revenue_7d', measure: 'value' },
  { name: 'active_days_7d', measure: 'active_days' },
] as const satisfies readonly AbMetric[];

/** The mirror of `table` in `service`'s database, or of a collection when `service` is undefined. */
export function shopMirror(source: string, table: string, service?: string): string {
  return service === undefined ? mirrorTable(source, table) : mirrorTable(source, service, table);
}

export function shopMapping(source: string): PackMapping {
  const mirror = (table: string, service?: string) => shopMirror(source, table, service);
  return {
    activity: [
      {
        mirror: mirror('product_events'),
        sourceKey: "concat('product_events:', _id)",
        select: `SELECT coalesce(userId, '') AS user_id, toDateTime64(timestamp, 3, 'UTC') AS ts,
            if(eventType = 'ProductViewedEvent', 'product_view', 'add_to_cart') AS event_type,
            coalesce(aggregateId, '') AS content_id, 'product' AS content_type,
            JSONExtractString(doc, 'data', 'sessionId') AS session_id,
            toInt64OrZero(JSONExtractString(doc, 'data', 'durationSeconds', '$numberInt')) AS duration_s,
            CAST(NULL AS Nullable(Int64)) AS score, CAST(NULL AS Nullable(Int64)) AS max_score,
            toUInt8(0) AS is_completion, toInt64(0) AS value
          FROM {mirror} FINAL WHERE _is_deleted = 0 AND timestamp IS NOT NULL AND userId IS NOT NULL
            AND eventType IN ('ProductViewedEvent', 'ProductAddedToCartEvent')`,
      },
      {
        // Keyed by the order: a payment status change re-maps all its lines. The lines are written
        // in the order's transaction and never change, so they land with it.
        mirror: mirror('orders', 'order'),
        sourceKey: "concat('orders:', toString(id))",
        select: `SELECT toString(user_id) AS user_id, toDateTime64(created_at, 3, 'UTC') AS ts, 'purchase' AS event_type,
            toString(product_id) AS content_id, 'product' AS content_type, '' AS session_id, toInt64(0) AS duration_s,
            CAST(NULL AS Nullable(Int64)) AS score, CAST(NULL AS Nullable(Int64)) AS max_score, toUInt8(1) AS is_completion,
            toInt64(if(payment_status = 'REFUNDED', 0, round(total_price * 100))) AS value
          FROM (SELECT id, user_id, created_at, payment_status FROM {mirror} FINAL
                WHERE _is_deleted = 0 AND payment_status IN ('COMPLETED', 'REFUNDED')) AS o
          INNER JOIN (SELECT order_id, product_id, total_price FROM ${mirror('order_items', 'order')} FINAL
                      WHERE _is_deleted = 0) AS i ON i.order_id = o.id`,
      },
    ],
    exposures: [
      {
        mirror: mirror('experiment_assignments'),
        sourceKey: "concat('experiment_assignments:', _id)",
        select: `SELECT coalesce(experiment, '') AS experiment, coalesce(variant, '') AS variant,
            coalesce(userId, '') AS user_id, toDateTime64(exposedAt, 3, 'UTC') AS exposed_at
          FROM {mirror} FINAL WHERE _is_deleted = 0 AND userId IS NOT NULL AND exposedAt IS NOT NULL`,
      },
    ],
    ratings: [
      {
        mirror: mirror('reviews'),
        sourceKey: "concat('reviews:', _id)",
        select: `SELECT coalesce(userId, '') AS user_id, coalesce(productId, '') AS content_id, 'product' AS content_type,
            toDate(createdAt) AS day, toInt64(rating) AS rating
          FROM {mirror} FINAL WHERE _is_deleted = 0 AND status = 'APPROVED' AND rating IS NOT NULL
            AND productId IS NOT NULL AND createdAt IS NOT NULL`,
      },
    ],
    users: {
      mirrors: [
        mirror('users', 'auth'),
        mirror('user_profiles', 'user'),
        mirror('addresses', 'user'),
        mirror('user_preferences', 'user'),
      ],
      // The auth service owns the account; the user service the country (default address) and
      // time zone (preferences), joined through the profile's user_id. No service records the
      // platform a user comes from (seed 002 has no device or session table): it stays empty.
      select: `SELECT toString(u.id) AS user_id, toDateTime64(u.created_at, 3, 'UTC') AS signup_at,
          coalesce(a.country, '') AS country, '' AS platform, coalesce(pr.timezone, '') AS timezone,
          coalesce(u.status, '') AS status
        FROM (SELECT id, created_at, status FROM ${mirror('users', 'auth')} FINAL WHERE _is_deleted = 0) AS u
        LEFT JOIN (SELECT id, user_id FROM ${mirror('user_profiles', 'user')} FINAL WHERE _is_deleted = 0) AS p
          ON p.user_id = u.id
        LEFT JOIN (SELECT user_profile_id, any(country) AS country FROM ${mirror('addresses', 'user')} FINAL
                   WHERE _is_deleted = 0 AND is_default GROUP BY user_profile_id) AS a ON a.user_profile_id = p.id
        LEFT JOIN (SELECT user_profile_id, timezone FROM ${mirror('user_preferences', 'user')} FINAL
                   WHERE _is_deleted = 0) AS pr ON pr.user_profile_id = p.id`,
    },
    content: {
      mirrors: [mirror('products')],
      // Product ids are UUID strings (what order_items.product_id and reviews.productId hold).
      select: `SELECT JSONExtractString(doc, '_id') AS content_id, 'product' AS content_type, coalesce(name, '') AS title,
          toDateTime64(createdAt, 3, 'UTC') AS created_at
        FROM ${mirror('products')} FINAL WHERE _is_deleted = 0`,
    },
    experimentConfigs: {
      mirrors: [mirror('experiments')],
      select: `SELECT coalesce(name, '') AS experiment, JSONExtractString(arm, 'name') AS variant,
          coalesce(toFloat64OrNull(JSONExtractString(arm, 'share', '$numberDouble')),
            toFloat64OrNull(JSONExtractString(arm, 'share', '$numberInt'))) AS share
        FROM ${mirror('experiments')} FINAL ARRAY JOIN JSONExtractArrayRaw(ifNull(doc, ''), 'variants') AS arm
        WHERE _is_deleted = 0`,
    },
    abMetrics: SHOP_AB_METRICS,
    analysisWindowDays: 7,
    viewEventTypes: ['product_view'],
    // Content performance's completion rate is then buyers / (cart adders or buyers) per product.
    startEventType: 'add_to_cart',
  };
}
