// The "learning" source pack: a Vietnamese-learning platform's user, lesson and content tables,
// and a simulator that plays its learners.
import { readFileSync } from 'node:fs';
import type { SourcePack } from '../pack.ts';
import { learningFeatures } from './features.ts';
import { learningMapping } from './mapping.ts';
import { LEARNING_MONGO_DATABASE, learningCollections } from './mongo-collections.ts';
import { simulateLearning } from './simulator.ts';

export { simulateLearning, type LearningSimulationSummary } from './simulator.ts';

export const learningPack: SourcePack = {
  name: 'learning',
  description:
    'Vietnamese-learning platform: users, sessions, streaks and achievements; lessons, progress, activity results, reviews and bookmarks; words and paragraphs.',
  postgresSchemaSql: readFileSync(new URL('./postgres-schema.sql', import.meta.url), 'utf8'),
  mongo: { database: LEARNING_MONGO_DATABASE, collections: learningCollections },
  mapping: learningMapping,
  features: learningFeatures,
  simulate: simulateLearning,
};
