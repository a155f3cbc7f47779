// Runs the shop pack against real servers: the four service schemas apply to four databases, a
// short simulation leaves history in every table and collection through inserts, updates and
// deletes, orders only ever take the seed's states, and the seed alone decides the data.
import type { MongoClient } from 'mongodb';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  connectMongo,
  MONGO_SERVER,
  startTestMongo,
  uniqueDatabaseName,
  type TestMongo,
} from '../../test/mongo.ts';
import { createTestDatabase, dropTestDatabase } from '../../test/postgres.ts';
import { SHOP_SERVICES, type ShopService } from './context.ts';
import { shopDatabases } from './schema.ts';
import { simulateShop, type ShopSimulationSummary } from './simulator.ts';

const urls: string[] = [];
const clients: pg.Client[] = [];
let mongo: TestMongo;
let mongoClient: MongoClient;

async function freshDatabases(): Promise<Record<ShopService, pg.Client>> {
  const opened: Partial<Record<ShopService, pg.Client>> = {};
  for (const { service, schemaSql } of shopDatabases) {
    const url = await createTestDatabase(`shop_${service}`);
    urls.push(url);
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    clients.push(client);
    await client.query(schemaSql);
    opened[service] = client;
  }
  return opened as Record<ShopService, pg.Client>;
}

async function rows(client: pg.Client, sql: string): Promise<Record<string, unknown>[]> {
  return (await client.query(sql)).rows as Record<string, unknown>[];
}

const options = { users: 80, days: 14, seed: 7 };
let databases: Record<ShopService, pg.Client>;
let summary: ShopSimulationSummary;
let mongoDatabase: string;

beforeAll(async () => {
  mongo = await startTestMongo();
  mongoClient = await connectMongo(mongo.url);
  mongoDatabase = uniqueDatabaseName('shop');
  databases = await freshDatabases();
  summary = await simulateShop(databases, { ...options, mongo: mongoClient.db(mongoDatabase) });
}, 300_000);

afterAll(async () => {
  await Promise.all(clients.map((client) => client.end()));
  for (const url of urls) await dropTestDatabase(url);
  await mongoClient?.close();
  await mongo?.stop();
});

describe(`the shop simulator (documents on the ${MONGO_SERVER})`, () => {
  it('fills every table of the four service databases and every collection', async () => {
    for (const service of SHOP_SERVICES) {
      const tables = await rows(
        databases[service],
        "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename",
      );
      for (const { tablename } of tables) {
        const [counted] = await rows(
          databases[service],
          `SELECT count(*)::int AS n FROM ${String(tablename)}`,
        );
        // API keys are rare (a few power users): the only table a small run may leave empty.
        if (tablename !== 'api_keys')
          expect(counted?.n, `${service}.${String(tablename)}`).toBeGreaterThan(0);
      }
    }
    const db = mongoClient.db(mongoDatabase);
    for (const name of [
      'products',
      'product_events',
      'categories',
      'reviews',
      'notifications',
      'experiments',
      'experiment_assignments',
    ])
      expect(Number(await db.collection(name).countDocuments()), name).toBeGreaterThan(0);
    expect(summary.usersCreated).toBe(options.users);
    expect(summary.usersDeleted).toBeGreaterThan(0);
    expect(summary.ordersPaid).toBeGreaterThan(0);
    expect(summary.refunds + summary.ordersCancelled).toBeGreaterThan(0);
  });

  it("orders only take the seed's states, and each order's payment agrees with it", async () => {
    const orders = await rows(
      databases.order,
      `SELECT id::text, status, payment_status, completed_at IS NOT NULL AS completed, cancelled_at IS NOT NULL AS cancelled FROM orders`,
    );
    const payments = new Map(
      (await rows(databases.payment, 'SELECT order_id::text, status FROM payments')).map((row) => [
        row.order_id,
        row.status,
      ]),
    );
    const allowed = new Set([
      'CANCELLED/PENDING', // backed out before paying: no payment row
      'CANCELLED/FAILED',
      'CONFIRMED/COMPLETED',
      'PROCESSING/COMPLETED',
      'SHIPPED/COMPLETED',
      'DELIVERED/COMPLETED',
      'CANCELLED/REFUNDED',
      'DELIVERED/REFUNDED',
    ]);
    const seen = new Set<string>();
    for (const order of orders) {
      const state = `${String(order.status)}/${String(order.payment_status)}`;
      seen.add(state);
      expect(allowed.has(state), state).toBe(true);
      expect(payments.get(order.id) ?? 'PENDING').toBe(order.payment_status);
      expect(order.completed).toBe(order.status === 'DELIVERED');
      expect(order.cancelled).toBe(order.status === 'CANCELLED');
    }
    for (const state of ['DELIVERED/COMPLETED', 'SHIPPED/COMPLETED']) expect(seen).toContain(state);
  });

  it('the seed alone decides the Postgres history, with or without the documents', async () => {
    const small = { users: 25, days: 6, seed: 11 };
    const dump = async (opened: Record<ShopService, pg.Client>) =>
      JSON.stringify([
        await rows(opened.auth, 'SELECT * FROM users ORDER BY id'),
        await rows(opened.order, 'SELECT * FROM orders ORDER BY id'),
        await rows(opened.payment, 'SELECT * FROM payments ORDER BY id'),
      ]);
    const withDocuments = await freshDatabases();
    await simulateShop(withDocuments, { ...small, mongo: mongoClient.db(uniqueDatabaseName('shop')) });
    const without = await freshDatabases();
    await simulateShop(without, small);
    expect(await dump(without)).toEqual(await dump(withDocuments));
  });
});
