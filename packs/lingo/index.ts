// The "lingo" source pack (seed 004): a Duolingo-style language-learning product in one Postgres
// database — courses down to exercises, learners' progress, hearts, XP and streaks — and a
// simulator that plays its learners across time zones.
import { readFileSync } from 'node:fs';
import type pg from 'pg';
import { TributaryError } from '../../errors/index.ts';
import type { PackClients, SourcePack } from '../pack.ts';
import { lingoMapping } from './mapping.ts';
import { lingoHeadline, lingoMarts } from './marts.ts';
import { simulateLingo } from './simulator.ts';
import { LINGO_WRITTEN_TABLES, lingoTargets } from './writeback.ts';

export { simulateLingo, simulateLingoWithTruths } from './simulator.ts';
export type { LingoSimulationSummary, LingoTruths } from './simulator.ts';
export { LINGO_WRITTEN_TABLES } from './writeback.ts';

/** DDL for the lingo product's one empty database: the seed's, plus the pack's experiment tables. */
export const LINGO_SCHEMA_SQL = readFileSync(new URL('./postgres-schema.sql', import.meta.url), 'utf8');

function onlyDatabase(postgres: PackClients): pg.ClientBase | pg.Pool {
  const client = postgres.lingo;
  if (!client) throw new TributaryError('the lingo pack simulates into its one database, "lingo"');
  return client;
}

export const lingoPack: SourcePack = {
  name: 'lingo',
  description:
    'Duolingo-style language learning (seed 004): courses, sections, units, lessons and exercises; learners in many time zones with hearts, XP, daily goals and streaks.',
  postgres: [{ service: 'lingo', schemaSql: LINGO_SCHEMA_SQL }],
  mapping: lingoMapping,
  marts: lingoMarts,
  writeback: {
    collections: [],
    tables: LINGO_WRITTEN_TABLES,
    targets: ({ source, asOf, postgres }) => (postgres ? lingoTargets({ source, asOf, postgres }) : []),
  },
  headline: lingoHeadline,
  simulate: (postgres, options) => simulateLingo(onlyDatabase(postgres), options),
};
