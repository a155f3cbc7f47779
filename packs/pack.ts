// The contract every source pack fulfils: a Postgres schema plus a deterministic simulator that
// fills it with days of history through ordinary INSERT/UPDATE/DELETE statements.
import type pg from 'pg';

export interface SimulationOptions {
  users: number;
  days: number;
  seed: number;
  /** Last simulated instant; defaults to 2026-11-01T00:00:00Z so runs are reproducible. */
  endDate?: Date;
  /** Called after each simulated day. */
  onProgress?: (done: number, total: number) => void;
}

export interface SimulationSummary {
  /** SQL statements executed, of every kind. */
  statements: number;
  usersCreated: number;
  usersDeleted: number;
  /** Pack-specific counters. */
  [counter: string]: number;
}

export interface SourcePack {
  name: string;
  description: string;
  /** DDL for an empty database; run once. */
  postgresSchemaSql: string;
  simulate(client: pg.ClientBase | pg.Pool, options: SimulationOptions): Promise<SimulationSummary>;
}
