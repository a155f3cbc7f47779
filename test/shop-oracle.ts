// The shop's sources as an oracle sees them: the rows of the four service databases and the
// documents (read with the driver) copied into one fresh Postgres database, where plain SQL can
// join them, and the view `oracle_facts`, DESIGN §4's fact_activity as the shop pack defines it,
// written against those copies. The shop's oracle tests compute every mart from here,
// independently of the warehouse.
import type { Document } from 'mongodb';
import pg from 'pg';
import { insertRows } from './learning-oracle.ts';
import { createTestDatabase, dropTestDatabase } from './postgres.ts';
import type { ShopWarehouse } from './shop-warehouse.ts';

/** Source tables copied, by service: columns (read as text) and their types in the copy. */
const COPIED = {
  order: {
    orders:
      'id uuid, user_id uuid, status text, payment_status text, total numeric, currency text, created_at timestamp, cancelled_at timestamp',
    order_items: 'order_id uuid, product_id uuid, quantity int, total_price numeric',
  },
  payment: {
    payments: 'order_id uuid, user_id uuid, amount numeric, currency text, status text, updated_at timestamp',
  },
  auth: { users: 'id uuid, created_at timestamp, status text' },
  user: {
    user_profiles: 'id uuid, user_id uuid',
    addresses: 'user_profile_id uuid, country text, is_default boolean',
    user_preferences: 'user_profile_id uuid, timezone text',
  },
} as const;

export interface ShopOracle {
  client: pg.Client;
  /** Copies the sources again (after they changed). */
  reload(): Promise<void>;
  close(): Promise<void>;
}

export async function shopOracle(data: ShopWarehouse): Promise<ShopOracle> {
  const url = await createTestDatabase('shop_oracle');
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const reload = async () => {
    await client.query('DROP SCHEMA public CASCADE; CREATE SCHEMA public');
    for (const [service, tables] of Object.entries(COPIED))
      for (const [table, columns] of Object.entries(tables)) {
        await client.query(`CREATE TABLE ${table} (${columns})`);
        const names = columns.split(', ').map((column) => column.split(' ')[0]);
        const source = data.postgres[service as keyof typeof COPIED];
        const rows = await source.query<Record<string, string | null>>(
          `SELECT ${names.map((name) => `${name}::text`).join(', ')} FROM ${table}`,
        );
        await insertRows(
          client,
          table,
          names.length,
          rows.rows.map((row) => names.map((name) => row[name ?? ''] ?? null)),
        );
      }
    await loadDocuments(data, client);
    await client.query(`CREATE VIEW oracle_facts AS
      SELECT user_id, ts, CASE WHEN event_type = 'ProductViewedEvent' THEN 'product_view' ELSE 'add_to_cart' END AS event_type,
        product_id AS content_id, 'product' AS content_type, session_id, duration_s, NULL::bigint AS score,
        NULL::bigint AS max_score, 0 AS is_completion, 0::bigint AS value
      FROM product_events WHERE event_type IN ('ProductViewedEvent', 'ProductAddedToCartEvent') AND user_id IS NOT NULL
      UNION ALL
      SELECT o.user_id::text, o.created_at, 'purchase', i.product_id::text, 'product', '', 0, NULL, NULL, 1,
        CASE WHEN o.payment_status = 'REFUNDED' THEN 0 ELSE round(i.total_price * 100)::bigint END
      FROM orders o JOIN order_items i ON i.order_id = o.id WHERE o.payment_status IN ('COMPLETED', 'REFUNDED')`);
  };
  await reload();
  return {
    client,
    reload,
    async close() {
      await client.end();
      await dropTestDatabase(url);
    },
  };
}

/** The documents the marts read, as tables: product events, products, reviews, exposures, configs. */
async function loadDocuments({ db }: ShopWarehouse, client: pg.Client): Promise<void> {
  await client.query(`CREATE TABLE product_events (event_type text, product_id text, user_id text, ts timestamp,
    session_id text, duration_s bigint)`);
  await client.query(`CREATE TABLE products (id text, name text, category_id text, category_name text,
    price double precision, status text, created_at timestamp, average_rating double precision, review_count int)`);
  await client.query(
    'CREATE TABLE reviews (id text, product_id text, user_id text, rating int, status text, created_at timestamp)',
  );
  await client.query(
    'CREATE TABLE exposures (experiment text, variant text, user_id text, exposed_at timestamp)',
  );
  await client.query('CREATE TABLE experiments (experiment text, variant text, share double precision)');
  const all = (name: string) => db.collection<Document>(name).find({}).toArray();
  await insertRows(
    client,
    'product_events',
    6,
    (await all('product_events')).map((doc) => {
      const data = (doc.data ?? {}) as Document;
      return [
        doc.eventType,
        doc.aggregateId,
        doc.userId,
        doc.timestamp,
        data.sessionId ?? '',
        Number(data.durationSeconds ?? 0),
      ];
    }),
  );
  await insertRows(
    client,
    'products',
    9,
    (await all('products')).map((doc) => {
      const category = (doc.category ?? {}) as Document;
      return [
        doc._id,
        doc.name,
        category.id,
        category.name,
        Number(doc.price),
        doc.status,
        doc.createdAt,
        Number(doc.averageRating),
        Number(doc.reviewCount),
      ];
    }),
  );
  await insertRows(
    client,
    'reviews',
    6,
    (await all('reviews')).map((doc) => [
      String(doc._id),
      doc.productId,
      doc.userId,
      Number(doc.rating),
      doc.status,
      doc.createdAt,
    ]),
  );
  await insertRows(
    client,
    'exposures',
    4,
    (await all('experiment_assignments')).map((doc) => [
      doc.experiment,
      doc.variant,
      doc.userId,
      doc.exposedAt,
    ]),
  );
  await insertRows(
    client,
    'experiments',
    3,
    (await all('experiments')).flatMap((doc) =>
      (doc.variants as Document[]).map((variant) => [doc.name, variant.name, Number(variant.share)]),
    ),
  );
}
