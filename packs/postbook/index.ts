// The "postbook" source pack (seed 001): a social network whose Auth service keeps accounts in
// Postgres and whose profiles, posts, comments, reactions, hashtags, chat, media and notifications
// are MongoDB documents; a simulator that plays its members, its own marts and write-back.
import { readFileSync } from 'node:fs';
import type pg from 'pg';
import { TributaryError } from '../../errors/index.ts';
import type { PackClients, SourcePack } from '../pack.ts';
import { POSTBOOK_MONGO_DATABASE, postbookCollections } from './collections.ts';
import { postbookMapping } from './mapping.ts';
import { postbookHeadline, postbookMarts } from './marts.ts';
import { simulatePostbook } from './simulator.ts';
import { postbookSync } from './sync.ts';
import { postbookWriteback } from './writeback.ts';

export { simulatePostbook, type PostbookSimulationSummary } from './simulator.ts';

/** The seed's one Postgres database belongs to the Auth service. */
export const POSTBOOK_SERVICE = 'auth';

/** DDL for the Auth service's empty database (AuthServiceDB). */
export const POSTBOOK_AUTH_SCHEMA_SQL = readFileSync(new URL('./auth-schema.sql', import.meta.url), 'utf8');

function authDatabase(postgres: PackClients): pg.ClientBase | pg.Pool {
  const client = postgres[POSTBOOK_SERVICE];
  if (!client)
    throw new TributaryError(`the postbook pack simulates into its "${POSTBOOK_SERVICE}" database`);
  return client;
}

export const postbookPack: SourcePack = {
  name: 'postbook',
  description:
    'PostBook social network: Auth (users, sessions, logins) on Postgres; profiles, follows, posts, comments, reactions, shares, hashtags, chat, media and notifications on MongoDB.',
  postgres: [{ service: POSTBOOK_SERVICE, schemaSql: POSTBOOK_AUTH_SCHEMA_SQL }],
  mongo: { database: POSTBOOK_MONGO_DATABASE, collections: postbookCollections },
  mapping: postbookMapping,
  marts: postbookMarts,
  writeback: postbookWriteback,
  sync: postbookSync,
  headline: postbookHeadline,
  simulate: (postgres, options) => simulatePostbook(authDatabase(postgres), options),
};
