// The "learning" source pack: a Vietnamese-learning platform's user, lesson and content tables,
// and a simulator that plays its learners.
import { readFileSync } from 'node:fs';
import type pg from 'pg';
import { TributaryError } from '../../errors/index.ts';
import type { PackClients, SourcePack } from '../pack.ts';
import { learningContentFeatures, learningFeatures } from './features.ts';
import { learningMapping } from './mapping.ts';
import { LEARNING_WRITEBACK_COLLECTIONS, learningTargets } from './writeback.ts';
import { LEARNING_MONGO_DATABASE, learningCollections } from './mongo-collections.ts';
import { simulateLearning } from './simulator.ts';

/** The learning product keeps one database. */
function onlyDatabase(postgres: PackClients): pg.ClientBase | pg.Pool {
  const client = postgres.learning;
  if (!client) throw new TributaryError('the learning pack simulates into its one database, "learning"');
  return client;
}

export { simulateLearning, type LearningSimulationSummary } from './simulator.ts';

/** DDL for the learning product's one empty database. */
export const LEARNING_SCHEMA_SQL = readFileSync(new URL('./postgres-schema.sql', import.meta.url), 'utf8');

export const learningPack: SourcePack = {
  name: 'learning',
  description:
    'Vietnamese-learning platform: users, sessions, streaks and achievements; lessons, progress, activity results, reviews and bookmarks; words and paragraphs.',
  postgres: [{ service: 'learning', schemaSql: LEARNING_SCHEMA_SQL }],
  mongo: { database: LEARNING_MONGO_DATABASE, collections: learningCollections },
  mapping: learningMapping,
  features: [learningFeatures, learningContentFeatures],
  writeback: { collections: LEARNING_WRITEBACK_COLLECTIONS, targets: learningTargets },
  simulate: (postgres, options) => simulateLearning(onlyDatabase(postgres), options),
};
