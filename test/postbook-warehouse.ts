// A captured PostBook dataset for the pack's integration tests: the simulator writes the Auth
// database (the shared test Postgres) and the document services (the Mongo stand-in, or
// TRIBUTARY_MONGO_URL), both captures land it in a chDB warehouse (the write-back's collections
// left out, as the service does), and the test gets clients on all three.
import { join } from 'node:path';
import type { Db, MongoClient } from 'mongodb';
import pg from 'pg';
import { WarehouseSink } from '../ingest/landing/warehouse-sink.ts';
import { runMongoCapture } from '../ingest/mongo/capture.ts';
import { createPiiPolicy } from '../ingest/pii.ts';
import { runPostgresCapture } from '../ingest/postgres/capture.ts';
import { documentFieldsOf } from '../packs/index.ts';
import { POSTBOOK_AUTH_SCHEMA_SQL, POSTBOOK_SERVICE, postbookPack } from '../packs/postbook/index.ts';
import { runTransforms, type TransformResult } from '../transforms/index.ts';
import { openWarehouse, type Warehouse } from '../warehouse/index.ts';
import { connectMongo, startTestMongo, uniqueDatabaseName, type TestMongo } from './mongo.ts';
import { createTestDatabase, dropTestDatabase } from './postgres.ts';
import { scratchDir } from './scratch.ts';

export interface PostbookWarehouse {
  postgres: pg.Client;
  postgresUrl: string;
  mongo: TestMongo;
  mongoClient: MongoClient;
  db: Db;
  warehouse: Warehouse;
  /** Lands every change made since the last call in the mirrors (both sources, to caught-up). */
  capture(): Promise<void>;
  /** The pack's transforms (generic marts and its own). */
  transform(full?: boolean): Promise<TransformResult>;
  close(): Promise<void>;
}

/** The captures' source name, which names the mirrors (`raw.postbook_…`). */
export const POSTBOOK_SOURCE = 'postbook';
export const POSTBOOK_PACK = postbookPack.name;

const pii = createPiiPolicy({
  dropFields: [],
  hashFields: [],
  hashPii: false,
  hashKey: 'postbook-test-key-0123',
});

export async function postbookWarehouse(options: {
  users: number;
  days: number;
  seed: number;
  /** Warehouse path: a second warehouse over the same sources gets its own. */
  warehousePrefix?: string;
}): Promise<PostbookWarehouse> {
  const postgresUrl = await createTestDatabase('postbook');
  const postgres = new pg.Client({ connectionString: postgresUrl });
  await postgres.connect();
  await postgres.query(POSTBOOK_AUTH_SCHEMA_SQL);
  const mongo = await startTestMongo();
  const mongoClient = await connectMongo(mongo.url);
  const db = mongoClient.db(uniqueDatabaseName('postbook'));
  await postbookPack.simulate({ [POSTBOOK_SERVICE]: postgres }, { ...options, mongo: db });
  const warehouse = await openWarehouse({
    kind: 'chdb',
    path: join(await scratchDir(options.warehousePrefix ?? 'postbook'), 'warehouse'),
  });
  const capture = async () => {
    await runPostgresCapture({
      sourceUrl: postgresUrl,
      sourceName: POSTBOOK_SOURCE,
      tables: { kind: 'all' },
      sink: new WarehouseSink(warehouse),
      pii,
      untilCaughtUp: true,
    });
    await runMongoCapture({
      sourceUrl: mongo.url,
      sourceName: POSTBOOK_SOURCE,
      collections: {
        kind: 'database',
        database: db.databaseName,
        exclude: [...(postbookPack.writeback?.collections ?? [])],
      },
      sink: new WarehouseSink(warehouse),
      pii,
      documentFields: documentFieldsOf(postbookPack),
      untilCaughtUp: true,
    });
  };
  await capture();
  return {
    postgres,
    postgresUrl,
    mongo,
    mongoClient,
    db,
    warehouse,
    capture,
    transform: (full) =>
      runTransforms({
        warehouse,
        pack: POSTBOOK_PACK,
        source: POSTBOOK_SOURCE,
        mapping: postbookPack.mapping(POSTBOOK_SOURCE),
        marts: postbookPack.marts,
        full,
      }),
    async close() {
      await postgres.end();
      await dropTestDatabase(postgresUrl);
      await mongoClient.close();
      await mongo.stop();
      await warehouse.close();
    },
  };
}
