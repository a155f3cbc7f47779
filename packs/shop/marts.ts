// The shop's own marts, read from the mirrors and recomputed whole on every transform run (orders,
// events and products are far fewer than facts, and whole recomputation needs no change tracking
// across the four databases):
// - mart_shop_daily_revenue: per day and currency, orders placed, paid orders, paying users, gross
//   revenue, AOV, cancellations, refunds and net revenue, by the seed's order and payment states;
// - mart_shop_funnel: per day and category (and all categories), the users and counts at each step
//   product view → add to cart → order → paid, and the step ratios;
// - mart_shop_product_performance: per product over the whole history, views, cart adds, paid
//   orders, units, revenue, conversion and the approved reviews' rating.
// Definitions (README "shop pack"): an order is paid when its payment_status is COMPLETED or, after
// a refund, REFUNDED; it counts on the day it was placed. A cancellation counts on cancelled_at's
// day (before payment, after a failed payment, or by the customer before shipping); a refund on
// the day its payment became REFUNDED (payments.updated_at), for the payment's amount.
import { quoteString, quoteTable, type Warehouse } from '../../warehouse/index.ts';
import { replacePartitions, stageOf } from '../../transforms/marts/partitions.ts';
import type { PackMart, PackMartContext } from '../pack.ts';
import { shopMirror } from './mapping.ts';

const PAID = "('COMPLETED', 'REFUNDED')";

/** The mirrors the marts read, by role. */
function mirrors(source: string) {
  return {
    orders: shopMirror(source, 'orders', 'order'),
    items: shopMirror(source, 'order_items', 'order'),
    payments: shopMirror(source, 'payments', 'payment'),
    events: shopMirror(source, 'product_events'),
    products: shopMirror(source, 'products'),
    reviews: shopMirror(source, 'reviews'),
  };
}

/** A column of a mart: name, type and the comment analysts read in the data dictionary. */
type Column = readonly [name: string, type: string, comment: string];

const PACK_COLUMN: Column = ['pack', 'LowCardinality(String)', 'The source pack (product).'];

/** A whole-recomputed mart: partitioned by pack, its one partition swapped in by each run. */
function wholeMart(
  name: string,
  comment: string,
  columns: readonly Column[],
  orderBy: string,
  reads: (keyof ReturnType<typeof mirrors>)[],
  select: (source: ReturnType<typeof mirrors>) => string,
): PackMart {
  const definitions = [PACK_COLUMN, ...columns]
    .map(([column, type, about]) => `${column} ${type} COMMENT ${quoteString(about)}`)
    .join(', ');
  return {
    name,
    ddl: [
      `CREATE TABLE IF NOT EXISTS ${name} (${definitions}) ENGINE = MergeTree PARTITION BY pack ORDER BY (${orderBy})
       COMMENT ${quoteString(comment)}`,
      // The staging twin replacePartitions swaps the new partition in from.
      `CREATE TABLE IF NOT EXISTS ${stageOf(name)} AS ${name}`,
    ],
    mirrors: (source) => reads.map((role) => mirrors(source)[role]),
    async recompute(warehouse: Warehouse, context: PackMartContext) {
      const source = mirrors(context.source);
      const existing = await warehouse.query<{ name: string }>(
        'SELECT name FROM system.tables WHERE database = currentDatabase() AND name IN {names:Array(String)}',
        { names: reads.map((role) => source[role]) },
      );
      await replacePartitions(
        warehouse,
        { table: name, pack: context.pack, where: '1' },
        async (stage, params) => {
          // Until every mirror it reads exists (a capture still starting), the mart is empty.
          if (existing.length < reads.length) return;
          await warehouse.command(`INSERT INTO ${quoteTable(stage)} ${select(source)}`, params);
        },
      );
    },
  };
}

const dailyRevenue = wholeMart(
  'mart_shop_daily_revenue',
  'Shop revenue per day and currency, by the order and payment states of the order and payment services.',
  [
    [
      'day',
      'Date',
      'The UTC day: orders by when they were placed, cancellations and refunds by when they happened.',
    ],
    [
      'currency',
      'LowCardinality(String)',
      'The currency of the orders and payments (amounts are never converted).',
    ],
    ['orders_placed', 'UInt64', 'Orders placed that day, whatever became of them.'],
    [
      'paid_orders',
      'UInt64',
      'Orders placed that day whose payment went through (payment_status COMPLETED, or REFUNDED later).',
    ],
    ['paying_users', 'UInt64', 'Distinct users with a paid order placed that day.'],
    [
      'gross_revenue',
      'Decimal(18, 2)',
      'Sum of the paid orders’ totals (items, tax and shipping, less discounts).',
    ],
    [
      'aov',
      'Nullable(Float64)',
      'Average order value: gross_revenue / paid_orders (NULL without paid orders).',
    ],
    [
      'cancelled_orders',
      'UInt64',
      'Orders cancelled that day (by cancelled_at): before payment, after a failed payment, or by the customer before shipping.',
    ],
    [
      'refunded_orders',
      'UInt64',
      'Payments refunded that day (status REFUNDED, by the payment’s updated_at).',
    ],
    ['refunds', 'Decimal(18, 2)', 'Amount of the payments refunded that day.'],
    ['net_revenue', 'Decimal(18, 2)', 'gross_revenue − refunds of the same day.'],
  ],
  'pack, day, currency',
  ['orders', 'payments'],
  // Mirror columns are Nullable: the amounts are taken as not null (they are NOT NULL at the
  // source), so a day without refunds sums to 0, not NULL.
  (m) => `
    SELECT {pack:String} AS pack, day, currency, countIf(kind = 'placed') AS orders_placed,
        countIf(kind = 'paid') AS paid_orders, uniqExactIf(user_id, kind = 'paid') AS paying_users,
        sumIf(amount, kind = 'paid') AS gross_revenue,
        if(paid_orders = 0, NULL, toFloat64(gross_revenue) / paid_orders) AS aov,
        countIf(kind = 'cancelled') AS cancelled_orders, countIf(kind = 'refunded') AS refunded_orders,
        sumIf(amount, kind = 'refunded') AS refunds, gross_revenue - refunds AS net_revenue
    FROM (
      SELECT toDate(created_at) AS day, currency, 'placed' AS kind, toString(user_id) AS user_id,
        assumeNotNull(total) AS amount
      FROM ${m.orders} FINAL WHERE _is_deleted = 0
      UNION ALL
      SELECT toDate(created_at), currency, 'paid', toString(user_id), assumeNotNull(total)
      FROM ${m.orders} FINAL WHERE _is_deleted = 0 AND payment_status IN ${PAID}
      UNION ALL
      SELECT toDate(assumeNotNull(cancelled_at)), currency, 'cancelled', toString(user_id), assumeNotNull(total)
      FROM ${m.orders} FINAL WHERE _is_deleted = 0 AND status = 'CANCELLED' AND cancelled_at IS NOT NULL
      UNION ALL
      SELECT toDate(updated_at), currency, 'refunded', toString(user_id), assumeNotNull(amount)
      FROM ${m.payments} FINAL WHERE _is_deleted = 0 AND status = 'REFUNDED'
    )
    GROUP BY day, currency`,
);

/** Each product's current category (products keep theirs; a removed product keeps its last). */
const productCategories = (m: ReturnType<typeof mirrors>) => `
  SELECT JSONExtractString(doc, '_id') AS product_id, JSONExtractString(doc, 'category', 'id') AS category_id,
    JSONExtractString(doc, 'category', 'name') AS category_name
  FROM ${m.products} FINAL WHERE _is_deleted = 0`;

/** One row per funnel step taken: day, product, user, step, and the order for the order steps. */
const funnelSteps = (m: ReturnType<typeof mirrors>) => `
  SELECT toDate(assumeNotNull(timestamp)) AS day, assumeNotNull(aggregateId) AS product_id,
    assumeNotNull(userId) AS user_id, if(eventType = 'ProductViewedEvent', 'view', 'cart') AS step, '' AS order_id
  FROM ${m.events} FINAL
  WHERE _is_deleted = 0 AND eventType IN ('ProductViewedEvent', 'ProductAddedToCartEvent')
    AND timestamp IS NOT NULL AND userId IS NOT NULL AND aggregateId IS NOT NULL
  UNION ALL
  SELECT toDate(o.created_at), toString(i.product_id), toString(o.user_id), step, toString(o.id)
  FROM (SELECT id, user_id, created_at, payment_status IN ${PAID} AS paid FROM ${m.orders} FINAL WHERE _is_deleted = 0) AS o
  INNER JOIN (SELECT order_id, product_id FROM ${m.items} FINAL WHERE _is_deleted = 0) AS i ON i.order_id = o.id
  ARRAY JOIN if(o.paid, ['order', 'paid'], ['order']) AS step`;

const funnel = wholeMart(
  'mart_shop_funnel',
  'The shop funnel per day and product category: product view → add to cart → order → paid.',
  [
    ['day', 'Date', 'The UTC day of the step (orders: when placed).'],
    ['category_id', 'String', 'The product’s current category; empty for all categories together.'],
    ['category_name', 'String', 'The category’s name; "All categories" for the total row.'],
    ['viewers', 'UInt64', 'Distinct users who viewed a product page.'],
    ['cart_users', 'UInt64', 'Distinct users who added a product to the cart.'],
    ['ordering_users', 'UInt64', 'Distinct users who placed an order with a line in the category.'],
    [
      'paying_users',
      'UInt64',
      'Distinct users whose such order was paid (payment_status COMPLETED or REFUNDED).',
    ],
    ['views', 'UInt64', 'Product page views.'],
    ['cart_adds', 'UInt64', 'Cart additions.'],
    ['orders', 'UInt64', 'Orders placed (an order counts in every category it has a line in).'],
    ['paid_orders', 'UInt64', 'Of those, the paid ones.'],
    [
      'view_to_cart',
      'Nullable(Float64)',
      'cart_users / viewers: a ratio of the day’s step users, not a strict sequence.',
    ],
    ['cart_to_order', 'Nullable(Float64)', 'ordering_users / cart_users.'],
    ['order_to_paid', 'Nullable(Float64)', 'paying_users / ordering_users.'],
    ['view_to_paid', 'Nullable(Float64)', 'paying_users / viewers.'],
  ],
  'pack, day, category_id',
  ['events', 'orders', 'items', 'products'],
  (m) => `
    SELECT {pack:String} AS pack, day, category_id, category_name,
        uniqExactIf(user_id, step = 'view') AS viewers, uniqExactIf(user_id, step = 'cart') AS cart_users,
        uniqExactIf(user_id, step = 'order') AS ordering_users, uniqExactIf(user_id, step = 'paid') AS paying_users,
        countIf(step = 'view') AS views, countIf(step = 'cart') AS cart_adds,
        uniqExactIf(order_id, step = 'order') AS orders, uniqExactIf(order_id, step = 'paid') AS paid_orders,
        if(viewers = 0, NULL, cart_users / viewers) AS view_to_cart,
        if(cart_users = 0, NULL, ordering_users / cart_users) AS cart_to_order,
        if(ordering_users = 0, NULL, paying_users / ordering_users) AS order_to_paid,
        if(viewers = 0, NULL, paying_users / viewers) AS view_to_paid
    FROM (
      -- Every step twice: under its product's category, and under '' (all categories).
      SELECT day, user_id, step, order_id, arrayJoin([(p.category_id, p.category_name), ('', 'All categories')]) AS category,
        tupleElement(category, 1) AS category_id, tupleElement(category, 2) AS category_name
      FROM (${funnelSteps(m)}) AS s INNER JOIN (${productCategories(m)}) AS p ON p.product_id = s.product_id
    )
    GROUP BY day, category_id, category_name`,
);

const productPerformance = wholeMart(
  'mart_shop_product_performance',
  'Each product over the whole history: views, cart adds, paid orders, units, revenue, conversion and rating.',
  [
    ['product_id', 'String', 'The product (its document _id, a UUID).'],
    ['name', 'String', 'The product’s current name.'],
    ['category_id', 'String', 'The product’s current category.'],
    ['category_name', 'String', 'The category’s name.'],
    ['price', 'Nullable(Float64)', 'The current price, in the product’s currency.'],
    ['status', 'String', 'The product’s status (ACTIVE, or DELETED once withdrawn).'],
    ['views', 'UInt64', 'Product page views.'],
    ['viewers', 'UInt64', 'Distinct users who viewed the product.'],
    ['cart_adds', 'UInt64', 'Cart additions.'],
    ['paid_orders', 'UInt64', 'Paid orders with a line of the product.'],
    ['buyers', 'UInt64', 'Distinct users with such an order.'],
    ['units_sold', 'Int64', 'Units in paid orders.'],
    ['revenue', 'Decimal(18, 2)', 'Line totals of the paid orders not refunded.'],
    ['conversion_rate', 'Nullable(Float64)', 'buyers / viewers (NULL when nobody viewed it).'],
    ['rating_avg', 'Nullable(Float64)', 'Mean rating of its approved reviews.'],
    ['rating_count', 'UInt64', 'Approved reviews.'],
  ],
  'pack, product_id',
  ['events', 'orders', 'items', 'products', 'reviews'],
  // Revenue is net: the lines of paid orders not refunded. Conversion = buyers / viewers.
  (m) => `
    SELECT {pack:String} AS pack, p.product_id AS product_id, p.name AS name, p.category_id AS category_id,
        p.category_name AS category_name, p.price AS price, p.status AS status,
        ifNull(e.views, 0) AS views, ifNull(e.viewers, 0) AS viewers, ifNull(e.cart_adds, 0) AS cart_adds,
        ifNull(s.paid_orders, 0) AS paid_orders, ifNull(s.buyers, 0) AS buyers, ifNull(s.units_sold, 0) AS units_sold,
        ifNull(s.revenue, toDecimal128(0, 2)) AS revenue,
        if(ifNull(e.viewers, 0) = 0, NULL, ifNull(s.buyers, 0) / e.viewers) AS conversion_rate,
        r.rating_avg AS rating_avg, ifNull(r.rating_count, 0) AS rating_count
    FROM (
      SELECT JSONExtractString(doc, '_id') AS product_id, coalesce(name, '') AS name,
        JSONExtractString(doc, 'category', 'id') AS category_id, JSONExtractString(doc, 'category', 'name') AS category_name,
        price, coalesce(status, '') AS status
      FROM ${m.products} FINAL WHERE _is_deleted = 0
    ) AS p
    LEFT JOIN (
      SELECT aggregateId AS product_id, countIf(eventType = 'ProductViewedEvent') AS views,
        uniqExactIf(userId, eventType = 'ProductViewedEvent') AS viewers,
        countIf(eventType = 'ProductAddedToCartEvent') AS cart_adds
      FROM ${m.events} FINAL
      WHERE _is_deleted = 0 AND eventType IN ('ProductViewedEvent', 'ProductAddedToCartEvent') AND userId IS NOT NULL
      GROUP BY product_id
    ) AS e ON e.product_id = p.product_id
    LEFT JOIN (
      SELECT toString(i.product_id) AS product_id, uniqExact(o.id) AS paid_orders, uniqExact(o.user_id) AS buyers,
        sum(i.quantity) AS units_sold, sumIf(i.total_price, o.payment_status = 'COMPLETED') AS revenue
      FROM (SELECT id, user_id, payment_status FROM ${m.orders} FINAL WHERE _is_deleted = 0 AND payment_status IN ${PAID}) AS o
      INNER JOIN (SELECT order_id, product_id, quantity, total_price FROM ${m.items} FINAL WHERE _is_deleted = 0) AS i
        ON i.order_id = o.id
      GROUP BY product_id
    ) AS s ON s.product_id = p.product_id
    LEFT JOIN (
      SELECT productId AS product_id, avg(rating) AS rating_avg, count() AS rating_count
      FROM ${m.reviews} FINAL WHERE _is_deleted = 0 AND status = 'APPROVED' AND rating IS NOT NULL
      GROUP BY product_id
    ) AS r ON r.product_id = p.product_id
    SETTINGS join_use_nulls = 1`,
);

export const shopMarts: readonly PackMart[] = [dailyRevenue, funnel, productPerformance];

/** The demo's headline: the last 7 days of the shop (the days up to the newest day with orders). */
export const shopHeadline = {
  title: 'shop, last 7 days',
  sql: `WITH (SELECT max(day) FROM mart_shop_daily_revenue WHERE pack = {pack:String}) AS last_day
    SELECT r.currency AS currency, r.orders AS orders, r.paid_orders AS paid_orders, r.revenue AS revenue,
        r.refunds AS refunds, r.net_revenue AS net_revenue, round(r.revenue / nullIf(r.paid_orders, 0), 2) AS aov,
        a.paying_users AS paying_users, a.visitors AS visitors,
        round(a.paying_users / nullIf(a.visitors, 0), 4) AS conversion
    FROM (
      SELECT currency, sum(orders_placed) AS orders, sum(paid_orders) AS paid_orders, sum(gross_revenue) AS revenue,
        sum(refunds) AS refunds, sum(net_revenue) AS net_revenue
      FROM mart_shop_daily_revenue WHERE pack = {pack:String} AND day > last_day - 7 GROUP BY currency
    ) AS r
    CROSS JOIN (
      -- Users over the week, not a sum of days: a shopper active on three days counts once.
      SELECT uniqExactIf(user_id, event_type = 'purchase') AS paying_users, uniqExact(user_id) AS visitors
      FROM fact_activity WHERE pack = {pack:String} AND day > last_day - 7
    ) AS a
    ORDER BY currency`,
};
