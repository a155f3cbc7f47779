// A captured shop dataset for the shop pack's tests: the simulator writes the four service
// databases (fresh databases on the shared test Postgres) and MongoDB (the stand-in, or
// TRIBUTARY_MONGO_URL); every database is captured as its own source and the documents under the
// pack's, into a chDB warehouse. `simulateMore` plays more days on the same servers, for tests that
// interleave changes with transform runs.
import { join } from 'node:path';
import type { Db, MongoClient } from 'mongodb';
import pg from 'pg';
import { WarehouseSink } from '../ingest/landing/warehouse-sink.ts';
import { runMongoCapture } from '../ingest/mongo/capture.ts';
import { createPiiPolicy } from '../ingest/pii.ts';
import { runPostgresCapture } from '../ingest/postgres/capture.ts';
import { databaseSource, documentFieldsOf } from '../packs/index.ts';
import type { ShopService } from '../packs/shop/context.ts';
import { shopPack } from '../packs/shop/index.ts';
import { openWarehouse, type Warehouse } from '../warehouse/index.ts';
import { connectMongo, startTestMongo, uniqueDatabaseName, type TestMongo } from './mongo.ts';
import { createTestDatabase, dropTestDatabase } from './postgres.ts';
import { scratchDir } from './scratch.ts';

export interface ShopWarehouse {
  /** One client per service database. */
  postgres: Record<ShopService, pg.Client>;
  urls: Record<ShopService, string>;
  mongo: TestMongo;
  mongoClient: MongoClient;
  db: Db;
  warehouse: Warehouse;
  /** Lands every change made since the last call in the mirrors (all sources, to caught-up). */
  capture(): Promise<void>;
  close(): Promise<void>;
}

/** The captures' prefix: mirrors are raw.shop_<service>_<table> and raw.shop_<collection>. */
export const SHOP_SOURCE = 'shop';

const pii = createPiiPolicy({
  dropFields: [],
  hashFields: [],
  hashPii: false,
  hashKey: 'shop-test-key-0123456',
});

export async function shopWarehouse(options: {
  users: number;
  days: number;
  seed: number;
  endDate?: Date;
}): Promise<ShopWarehouse> {
  const postgres: Partial<Record<ShopService, pg.Client>> = {};
  const urls: Partial<Record<ShopService, string>> = {};
  for (const { service, schemaSql } of shopPack.postgres) {
    const url = await createTestDatabase(`shop_${service}`);
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    await client.query(schemaSql);
    postgres[service as ShopService] = client;
    urls[service as ShopService] = url;
  }
  const mongo = await startTestMongo();
  const mongoClient = await connectMongo(mongo.url);
  const mongoDatabase = uniqueDatabaseName('shop');
  const db = mongoClient.db(mongoDatabase);
  const clients = postgres as Record<ShopService, pg.Client>;
  await shopPack.simulate(clients, { ...options, mongo: db });
  const warehouse = await openWarehouse({ kind: 'chdb', path: join(await scratchDir('shop'), 'warehouse') });
  const capture = async () => {
    for (const [service, url] of Object.entries(urls))
      await runPostgresCapture({
        sourceUrl: url,
        sourceName: databaseSource(shopPack, SHOP_SOURCE, service),
        tables: { kind: 'all' },
        sink: new WarehouseSink(warehouse),
        pii,
        untilCaughtUp: true,
      });
    await runMongoCapture({
      sourceUrl: mongo.url,
      sourceName: SHOP_SOURCE,
      collections: { kind: 'database', database: mongoDatabase },
      sink: new WarehouseSink(warehouse),
      pii,
      documentFields: documentFieldsOf(shopPack),
      untilCaughtUp: true,
    });
  };
  await capture();
  return {
    postgres: clients,
    urls: urls as Record<ShopService, string>,
    mongo,
    mongoClient,
    db,
    warehouse,
    capture,
    async close() {
      for (const client of Object.values(clients)) await client.end();
      for (const url of Object.values(urls)) await dropTestDatabase(url);
      await mongoClient.close();
      await mongo.stop();
      await warehouse.close();
    },
  };
}
