// A captured learning dataset for the transform tests: the pack's simulator writes Postgres (the
// shared test server) and MongoDB (the stand-in, or TRIBUTARY_MONGO_URL), both captures land it in
// a chDB warehouse, and the test gets clients on all three.
import { join } from 'node:path';
import type { MongoClient } from 'mongodb';
import pg from 'pg';
import { WarehouseSink } from '../ingest/landing/warehouse-sink.ts';
import { runMongoCapture } from '../ingest/mongo/capture.ts';
import { createPiiPolicy } from '../ingest/pii.ts';
import { runPostgresCapture } from '../ingest/postgres/capture.ts';
import { documentFieldsOf } from '../packs/index.ts';
import { LEARNING_SCHEMA_SQL, learningPack } from '../packs/learning/index.ts';
import { openWarehouse, type Warehouse } from '../warehouse/index.ts';
import { connectMongo, startTestMongo, uniqueDatabaseName, type TestMongo } from './mongo.ts';
import { createTestDatabase } from './postgres.ts';
import { scratchDir } from './scratch.ts';

export interface LearningWarehouse {
  postgres: pg.Client;
  postgresUrl: string;
  mongo: TestMongo;
  mongoClient: MongoClient;
  /** The MongoDB database the pack's collections are in. */
  mongoDatabase: string;
  warehouse: Warehouse;
  /** The warehouse's directory (a CLI can open it once `warehouse` is closed). */
  warehousePath: string;
  /** Lands every change made since the last call in the mirrors (both sources, to caught-up). */
  capture(): Promise<void>;
  close(): Promise<void>;
}

/** The capture's source name, which names the mirrors (`raw.learning_…`). */
export const SOURCE = 'learning';

const pii = createPiiPolicy({
  dropFields: [],
  hashFields: [],
  hashPii: false,
  hashKey: 'transform-test-key-0123',
});

export async function learningWarehouse(options: {
  users: number;
  days: number;
  seed: number;
}): Promise<LearningWarehouse> {
  const postgresUrl = await createTestDatabase('marts');
  const postgres = new pg.Client({ connectionString: postgresUrl });
  await postgres.connect();
  await postgres.query(LEARNING_SCHEMA_SQL);
  const mongo = await startTestMongo();
  const mongoClient = await connectMongo(mongo.url);
  const mongoDatabase = uniqueDatabaseName('learning');
  await learningPack.simulate({ learning: postgres }, { ...options, mongo: mongoClient.db(mongoDatabase) });
  const warehousePath = join(await scratchDir('marts'), 'warehouse');
  const warehouse = await openWarehouse({ kind: 'chdb', path: warehousePath });
  const capture = async () => {
    await runPostgresCapture({
      sourceUrl: postgresUrl,
      sourceName: SOURCE,
      tables: { kind: 'all' },
      sink: new WarehouseSink(warehouse),
      pii,
      untilCaughtUp: true,
    });
    await runMongoCapture({
      sourceUrl: mongo.url,
      sourceName: SOURCE,
      collections: { kind: 'database', database: mongoDatabase },
      sink: new WarehouseSink(warehouse),
      pii,
      documentFields: documentFieldsOf(learningPack),
      untilCaughtUp: true,
    });
  };
  await capture();
  return {
    postgres,
    postgresUrl,
    mongo,
    mongoClient,
    mongoDatabase,
    warehouse,
    warehousePath,
    capture,
    async close() {
      await postgres.end();
      await mongoClient.close();
      await mongo.stop();
      await warehouse.close();
    },
  };
}
