// A captured lingo dataset for the pack's tests: the simulator writes a fresh database on the
// shared test Postgres, its capture — every table but those Tributary writes back — lands in a
// chDB warehouse, and the test gets both, with what the simulator planted.
import { join } from 'node:path';
import pg from 'pg';
import { WarehouseSink } from '../ingest/landing/warehouse-sink.ts';
import { createPiiPolicy } from '../ingest/pii.ts';
import { runPostgresCapture } from '../ingest/postgres/capture.ts';
import {
  LINGO_SCHEMA_SQL,
  LINGO_WRITTEN_TABLES,
  simulateLingoWithTruths,
  type LingoSimulationSummary,
  type LingoTruths,
} from '../packs/lingo/index.ts';
import { openWarehouse, type Warehouse } from '../warehouse/index.ts';
import { createTestDatabase, dropTestDatabase } from './postgres.ts';
import { scratchDir } from './scratch.ts';

export interface LingoWarehouse {
  postgres: pg.Client;
  warehouse: Warehouse;
  summary: LingoSimulationSummary;
  truths: LingoTruths;
  /** The simulated period's end: write-backs run as of it. */
  endDate: Date;
  /** Lands every change made since the last call in the mirrors. */
  capture(): Promise<void>;
  close(): Promise<void>;
}

/** The capture's source name, which names the mirrors (`raw.lingo_…`). */
export const LINGO_SOURCE = 'lingo';
export const LINGO_END_DATE = new Date('2026-11-01T00:00:00Z');

const pii = createPiiPolicy({
  dropFields: [],
  hashFields: [],
  hashPii: false,
  hashKey: 'lingo-test-key-0123',
});

export async function lingoWarehouse(options: {
  users: number;
  days: number;
  seed: number;
}): Promise<LingoWarehouse> {
  const postgresUrl = await createTestDatabase('lingo');
  const postgres = new pg.Client({ connectionString: postgresUrl });
  await postgres.connect();
  await postgres.query(LINGO_SCHEMA_SQL);
  const { summary, truths } = await simulateLingoWithTruths(postgres, {
    ...options,
    endDate: LINGO_END_DATE,
  });
  const warehouse = await openWarehouse({ kind: 'chdb', path: join(await scratchDir('lingo'), 'warehouse') });
  const capture = async () => {
    await runPostgresCapture({
      sourceUrl: postgresUrl,
      sourceName: LINGO_SOURCE,
      tables: { kind: 'all', exclude: LINGO_WRITTEN_TABLES },
      sink: new WarehouseSink(warehouse),
      pii,
      untilCaughtUp: true,
    });
  };
  await capture();
  return {
    postgres,
    warehouse,
    summary,
    truths,
    endDate: LINGO_END_DATE,
    capture,
    async close() {
      await postgres.end();
      await warehouse.close();
      await dropTestDatabase(postgresUrl);
    },
  };
}
