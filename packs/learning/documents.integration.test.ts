// The learning pack's MongoDB side, written into the mongo-java-server stand-in (or the real server
// at TRIBUTARY_MONGO_URL): every collection of seed 000's Media, Analytics and Notification services
// gets documents shaped as in the seed, users carry their experiment assignments, and the Postgres
// history is the same whether or not documents are written.
import pg from 'pg';
import type { Document, MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  connectMongo,
  MONGO_SERVER,
  startTestMongo,
  uniqueDatabaseName,
  type TestMongo,
} from '../../test/mongo.ts';
import { createTestDatabase } from '../../test/postgres.ts';
import { EXPERIMENTS } from './experiments.ts';
import { LEARNING_SCHEMA_SQL, learningPack } from './index.ts';
import { learningCollections } from './mongo-collections.ts';

let mongo: TestMongo;
let client: MongoClient;
const pgClients: pg.Client[] = [];

beforeAll(async () => {
  mongo = await startTestMongo();
  client = await connectMongo(mongo.url);
});
afterAll(async () => {
  await Promise.all(pgClients.map((pgClient) => pgClient.end()));
  await client?.close();
  await mongo?.stop();
});

async function freshDatabase(): Promise<pg.Client> {
  const pgClient = new pg.Client({ connectionString: await createTestDatabase('documents') });
  await pgClient.connect();
  pgClients.push(pgClient);
  await pgClient.query(LEARNING_SCHEMA_SQL);
  return pgClient;
}

/** Every table's rows as text, in a stable order. */
async function dumpPostgres(pgClient: pg.Client): Promise<string[]> {
  const tables = await pgClient.query<{ name: string }>(
    `SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1`,
  );
  const dump: string[] = [];
  for (const { name } of tables.rows) {
    const rows = await pgClient.query<{ row: string }>(`SELECT t::text AS row FROM "${name}" t ORDER BY 1`);
    dump.push(`${name}: ${rows.rows.map((row) => row.row).join('\n')}`);
  }
  return dump;
}

describe(`learning pack, MongoDB side (${MONGO_SERVER})`, () => {
  it('writes every collection, with seed-shaped interactions carrying the experiments, and leaves Postgres as without it', async () => {
    const database = uniqueDatabaseName('learning');
    const db = client.db(database);
    const withDocuments = await freshDatabase();
    const withoutDocuments = await freshDatabase();
    const options = { users: 60, days: 8, seed: 5 };
    await learningPack.simulate({ learning: withDocuments }, { ...options, mongo: db });
    await learningPack.simulate({ learning: withoutDocuments }, options);
    expect(await dumpPostgres(withDocuments)).toEqual(await dumpPostgres(withoutDocuments));

    for (const spec of learningCollections) {
      expect({
        collection: spec.name,
        empty: (await db.collection(spec.name).countDocuments()) === 0,
      }).toEqual({
        collection: spec.name,
        empty: false,
      });
    }
    const interactions = db.collection<Document>('user_interactions');
    const lessonStart = await interactions.findOne({ event_type: 'lesson_start' });
    expect(Object.keys(lessonStart ?? {})).toEqual(
      expect.arrayContaining([
        'user_id',
        'session_id',
        'event_type',
        'content_info',
        'interaction_data',
        'user_context',
        'experiments',
        'timestamp',
      ]),
    );
    // Onboarding is shown at the first session; the other two from a third of the period on.
    expect((lessonStart?.experiments as { experiment_name: string }[])[0]?.experiment_name).toBe(
      'exp_onboarding_v2',
    );
    const exposedTo = (await interactions.distinct('experiments.experiment_name')) as string[];
    expect(exposedTo.sort()).toEqual(EXPERIMENTS.map((experiment) => experiment.experiment_name).sort());
    // Every user's interactions name one variant per experiment, the same in every event.
    const variantsPerUser = await interactions
      .aggregate<{ variants: number }>([
        { $unwind: '$experiments' },
        {
          $group: {
            _id: { user: '$user_id', experiment: '$experiments.experiment_name' },
            variants: { $addToSet: '$experiments.variant' },
          },
        },
        { $project: { variants: { $size: '$variants' } } },
        { $match: { variants: { $ne: 1 } } },
      ])
      .toArray();
    expect(variantsPerUser).toEqual([]);
    const configured = await db
      .collection('experiments')
      .find({}, { projection: { _id: 0, experiment_name: 1, variants: 1 } })
      .toArray();
    expect(configured).toHaveLength(3);
    const srm = configured.find((entry) => entry.experiment_name === 'exp_srm_broken');
    // Through JSON: this client keeps BSON Doubles as objects.
    expect(JSON.parse(JSON.stringify(srm?.variants))).toEqual([
      { name: 'control', configured_share: 0.5 },
      { name: 'treatment', configured_share: 0.5 },
    ]);
  });
});
