// The "postbook" source pack (seed 001): a social network whose Auth service keeps accounts in
// Postgres and whose profiles, posts, comments, reactions, hashtags, chat, media and notifications
// are MongoDB documents; a simulator that plays its members.
import { readFileSync } from 'node:fs';
import type { SourcePack } from '../pack.ts';
import { POSTBOOK_MONGO_DATABASE, postbookCollections } from './collections.ts';
import { postbookMapping } from './mapping.ts';
import { simulatePostbook } from './simulator.ts';

export { simulatePostbook, type PostbookSimulationSummary } from './simulator.ts';

export const postbookPack: SourcePack = {
  name: 'postbook',
  description:
    'PostBook social network: Auth (users, sessions, logins) on Postgres; profiles, follows, posts, comments, reactions, shares, hashtags, chat, media and notifications on MongoDB.',
  postgresSchemaSql: readFileSync(new URL('./auth-schema.sql', import.meta.url), 'utf8'),
  mongo: { database: POSTBOOK_MONGO_DATABASE, collections: postbookCollections },
  mapping: postbookMapping,
  simulate: simulatePostbook,
};
