// The shop pack's oracle test: every generic mart and each of the pack's marts computed a second
// time, independently — plain SQL in Postgres over copies of the four service databases' tables
// and of the documents read with the driver — and compared with what the transforms built in
// ClickHouse: counts exactly, rates and means to 1e-9.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  abResultsOracle,
  contentPerformanceOracle,
  DAU_ORACLE,
  dailyUserMetricsOracle,
  expectSameRows,
  retentionOracle,
  type Row,
} from '../../test/mart-oracle.ts';
import { MONGO_SERVER } from '../../test/mongo.ts';
import { shopOracle, type ShopOracle } from '../../test/shop-oracle.ts';
import { SHOP_SOURCE, shopWarehouse, type ShopWarehouse } from '../../test/shop-warehouse.ts';
import { runTransforms } from '../../transforms/index.ts';
import { shopPack } from './index.ts';

const PACK = 'shop';
const mapping = shopPack.mapping(SHOP_SOURCE);
let data: ShopWarehouse;
let oracleDb: ShopOracle;

beforeAll(async () => {
  data = await shopWarehouse({ users: 150, days: 28, seed: 5 });
  await runTransforms({
    warehouse: data.warehouse,
    pack: PACK,
    mapping,
    marts: shopPack.marts,
    source: SHOP_SOURCE,
    full: true,
  });
  oracleDb = await shopOracle(data);
}, 600_000);
afterAll(async () => {
  await oracleDb?.close();
  await data?.close();
});

async function oracle(sql: string): Promise<Row[]> {
  return (await oracleDb.client.query(sql)).rows as Row[];
}

async function mart(sql: string): Promise<Row[]> {
  return data.warehouse.query<Row>(sql, { pack: PACK });
}

const PAID = "('COMPLETED', 'REFUNDED')";

describe(`shop marts against an independent Postgres oracle (documents from the ${MONGO_SERVER})`, () => {
  it('mart_daily_user_metrics', async () => {
    expectSameRows(
      await mart(`SELECT toString(day) AS day, user_id, events, sessions, active_seconds, content_views, completions,
          score_sum, score_count, value FROM mart_daily_user_metrics WHERE pack = {pack:String}`),
      await oracle(dailyUserMetricsOracle(mapping.viewEventTypes)),
      ['day', 'user_id'],
    );
  });

  it('mart_dau', async () => {
    expectSameRows(
      await mart(
        `SELECT toString(day) AS day, dau, wau, mau, stickiness FROM mart_dau WHERE pack = {pack:String}`,
      ),
      await oracle(DAU_ORACLE),
      ['day'],
    );
  });

  it('mart_content_performance (content = products; completion = bought, start = added to cart)', async () => {
    expectSameRows(
      await mart(`SELECT toString(day) AS day, content_id, content_type, unique_users, views, completions, completion_rate,
          avg_time_spent_s, avg_score, pass_rate, bounce_rate, rating_avg, rating_count, starters, completers, scorers, passers
        FROM mart_content_performance WHERE pack = {pack:String}`),
      await oracle(
        contentPerformanceOracle(
          mapping.viewEventTypes,
          mapping.startEventType,
          `SELECT created_at::date AS day, product_id AS content_id, 'product' AS content_type,
             count(*) AS rating_count, sum(rating) AS rating_sum
           FROM reviews WHERE status = 'APPROVED' AND rating IS NOT NULL AND product_id IS NOT NULL GROUP BY 1, 2, 3`,
        ),
      ),
      ['day', 'content_id', 'content_type'],
    );
  });

  it('mart_retention, by first activity and by signup, daily and weekly', async () => {
    const [firstActivity, signup] = retentionOracle(
      'SELECT id::text AS user_id, created_at::date AS cohort_day FROM users',
    );
    expectSameRows(
      await mart(`SELECT cohort_kind, grain, toString(cohort_start) AS cohort_start, period, cohort_size, retained,
          retention_rate, unbounded_retained, unbounded_rate FROM mart_retention WHERE pack = {pack:String}`),
      [...(await oracle(firstActivity ?? '')), ...(await oracle(signup ?? ''))],
      ['cohort_kind', 'grain', 'cohort_start', 'period'],
    );
  });

  it("mart_ab_results: n, mean and variance per experiment, variant and the pack's metrics", async () => {
    expect(mapping.abMetrics.map((metric) => metric.name)).toContain('revenue_7d');
    expectSameRows(
      await mart(
        `SELECT experiment, variant, metric, n, mean, variance FROM mart_ab_results WHERE pack = {pack:String}`,
      ),
      await oracle(
        abResultsOracle(
          'SELECT experiment, variant, user_id, exposed_at AS started_at FROM exposures',
          mapping.abMetrics,
          mapping.analysisWindowDays,
        ),
      ),
      ['experiment', 'variant', 'metric'],
    );
  });

  it('mart_shop_daily_revenue: orders, paid orders, paying users, revenue, AOV, cancellations, refunds', async () => {
    expectSameRows(
      await mart(`SELECT toString(day) AS day, currency, orders_placed, paid_orders, paying_users, gross_revenue, aov,
          cancelled_orders, refunded_orders, refunds, net_revenue FROM mart_shop_daily_revenue WHERE pack = {pack:String}`),
      await oracle(`WITH steps AS (
          SELECT created_at::date AS day, currency, 'placed' AS kind, user_id, total AS amount FROM orders
          UNION ALL SELECT created_at::date, currency, 'paid', user_id, total FROM orders WHERE payment_status IN ${PAID}
          UNION ALL SELECT cancelled_at::date, currency, 'cancelled', user_id, total FROM orders
            WHERE status = 'CANCELLED' AND cancelled_at IS NOT NULL
          UNION ALL SELECT updated_at::date, currency, 'refunded', user_id, amount FROM payments WHERE status = 'REFUNDED')
        SELECT day::text AS day, currency, count(*) FILTER (WHERE kind = 'placed') AS orders_placed,
          count(*) FILTER (WHERE kind = 'paid') AS paid_orders,
          count(DISTINCT user_id) FILTER (WHERE kind = 'paid') AS paying_users,
          coalesce(sum(amount) FILTER (WHERE kind = 'paid'), 0) AS gross_revenue,
          sum(amount) FILTER (WHERE kind = 'paid') / nullif(count(*) FILTER (WHERE kind = 'paid'), 0) AS aov,
          count(*) FILTER (WHERE kind = 'cancelled') AS cancelled_orders,
          count(*) FILTER (WHERE kind = 'refunded') AS refunded_orders,
          coalesce(sum(amount) FILTER (WHERE kind = 'refunded'), 0) AS refunds,
          coalesce(sum(amount) FILTER (WHERE kind = 'paid'), 0) - coalesce(sum(amount) FILTER (WHERE kind = 'refunded'), 0) AS net_revenue
        FROM steps GROUP BY 1, 2`),
      ['day', 'currency'],
    );
    // Not vacuous: the period has cancellations and refunds.
    const [totals] = await mart(
      'SELECT sum(cancelled_orders) AS cancelled, sum(refunded_orders) AS refunded FROM mart_shop_daily_revenue WHERE pack = {pack:String}',
    );
    expect(Number(totals?.cancelled)).toBeGreaterThan(0);
    expect(Number(totals?.refunded)).toBeGreaterThan(0);
  });

  it('mart_shop_funnel: view → cart → order → paid per day, per category and overall', async () => {
    expectSameRows(
      await mart(`SELECT toString(day) AS day, category_id, category_name, viewers, cart_users, ordering_users, paying_users,
          views, cart_adds, orders, paid_orders, view_to_cart, cart_to_order, order_to_paid, view_to_paid
        FROM mart_shop_funnel WHERE pack = {pack:String}`),
      await oracle(`WITH steps AS (
          SELECT ts::date AS day, product_id, user_id,
            CASE WHEN event_type = 'ProductViewedEvent' THEN 'view' ELSE 'cart' END AS step, NULL AS order_id
          FROM product_events WHERE event_type IN ('ProductViewedEvent', 'ProductAddedToCartEvent') AND user_id IS NOT NULL
          UNION ALL SELECT o.created_at::date, i.product_id::text, o.user_id::text, 'order', o.id::text
          FROM orders o JOIN order_items i ON i.order_id = o.id
          UNION ALL SELECT o.created_at::date, i.product_id::text, o.user_id::text, 'paid', o.id::text
          FROM orders o JOIN order_items i ON i.order_id = o.id WHERE o.payment_status IN ${PAID}),
        placed AS (
          SELECT s.*, p.category_id, p.category_name FROM steps s JOIN products p ON p.id = s.product_id
          UNION ALL SELECT s.*, '', 'All categories' FROM steps s JOIN products p ON p.id = s.product_id),
        counted AS (
          SELECT day, category_id, category_name,
            count(DISTINCT user_id) FILTER (WHERE step = 'view') AS viewers,
            count(DISTINCT user_id) FILTER (WHERE step = 'cart') AS cart_users,
            count(DISTINCT user_id) FILTER (WHERE step = 'order') AS ordering_users,
            count(DISTINCT user_id) FILTER (WHERE step = 'paid') AS paying_users,
            count(*) FILTER (WHERE step = 'view') AS views, count(*) FILTER (WHERE step = 'cart') AS cart_adds,
            count(DISTINCT order_id) FILTER (WHERE step = 'order') AS orders,
            count(DISTINCT order_id) FILTER (WHERE step = 'paid') AS paid_orders
          FROM placed GROUP BY 1, 2, 3)
        SELECT day::text AS day, category_id, category_name, viewers, cart_users, ordering_users, paying_users, views,
          cart_adds, orders, paid_orders, cart_users::float8 / nullif(viewers, 0) AS view_to_cart,
          ordering_users::float8 / nullif(cart_users, 0) AS cart_to_order,
          paying_users::float8 / nullif(ordering_users, 0) AS order_to_paid,
          paying_users::float8 / nullif(viewers, 0) AS view_to_paid
        FROM counted`),
      ['day', 'category_id', 'category_name'],
    );
  });

  it('mart_shop_product_performance: views, conversion, units, revenue and rating per product', async () => {
    expectSameRows(
      await mart(`SELECT product_id, price, views, viewers, cart_adds, paid_orders, buyers, units_sold, revenue,
          conversion_rate, rating_avg, rating_count FROM mart_shop_product_performance WHERE pack = {pack:String}`),
      await oracle(`WITH events AS (
          SELECT product_id, count(*) FILTER (WHERE event_type = 'ProductViewedEvent') AS views,
            count(DISTINCT user_id) FILTER (WHERE event_type = 'ProductViewedEvent') AS viewers,
            count(*) FILTER (WHERE event_type = 'ProductAddedToCartEvent') AS cart_adds
          FROM product_events WHERE event_type IN ('ProductViewedEvent', 'ProductAddedToCartEvent') AND user_id IS NOT NULL
          GROUP BY 1),
        sales AS (
          SELECT i.product_id::text AS product_id, count(DISTINCT o.id) AS paid_orders, count(DISTINCT o.user_id) AS buyers,
            sum(i.quantity) AS units_sold, coalesce(sum(i.total_price) FILTER (WHERE o.payment_status = 'COMPLETED'), 0) AS revenue
          FROM orders o JOIN order_items i ON i.order_id = o.id WHERE o.payment_status IN ${PAID} GROUP BY 1),
        rated AS (
          SELECT product_id, avg(rating) AS rating_avg, count(*) AS rating_count FROM reviews
          WHERE status = 'APPROVED' AND rating IS NOT NULL GROUP BY 1)
        SELECT p.id AS product_id, p.price, coalesce(e.views, 0) AS views, coalesce(e.viewers, 0) AS viewers,
          coalesce(e.cart_adds, 0) AS cart_adds, coalesce(s.paid_orders, 0) AS paid_orders, coalesce(s.buyers, 0) AS buyers,
          coalesce(s.units_sold, 0) AS units_sold, coalesce(s.revenue, 0) AS revenue,
          coalesce(s.buyers, 0)::float8 / nullif(e.viewers, 0) AS conversion_rate,
          r.rating_avg::float8 AS rating_avg, coalesce(r.rating_count, 0) AS rating_count
        FROM products p LEFT JOIN events e ON e.product_id = p.id LEFT JOIN sales s ON s.product_id = p.id
          LEFT JOIN rated r ON r.product_id = p.id`),
      ['product_id'],
    );
  });
});
