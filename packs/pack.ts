// The contract every source pack fulfils: a Postgres schema plus a deterministic simulator that
// fills it with days of history through ordinary INSERT/UPDATE/DELETE statements; packs whose
// product keeps documents also declare their MongoDB collections.
import type { Db } from 'mongodb';
import type pg from 'pg';
import type { FeatureRegistry } from '../features/index.ts';
import type { DocumentField } from '../ingest/source-table.ts';

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

export interface MongoIndexSpec {
  /** 1 / -1 ascending or descending; `text` and `2dsphere` where a seed asks for search or geo indexes. */
  key: Record<string, 1 | -1 | 'text' | '2dsphere'>;
  unique?: boolean;
  sparse?: boolean;
  /** Case-insensitive uniqueness (`{ locale: 'en', strength: 2 }`). */
  collation?: { locale: string; strength: number };
  expireAfterSeconds?: number;
}

export interface MongoCollectionSpec {
  name: string;
  indexes: MongoIndexSpec[];
  /** Top-level fields mirrored as typed columns besides the whole document. */
  fields: DocumentField[];
}

/** Where one kind of fact comes from: a mirror and a SELECT over it (`{mirror}` is replaced). */
export interface FactSource {
  mirror: string;
  /** The fact's `source_key` as an expression over the mirror's columns. */
  sourceKey: string;
  /** The fact's columns but pack and source_key, from `{mirror} FINAL` live rows. */
  select: string;
}

/** A dimension rebuilt whole on every run, from these mirrors. */
export interface DimensionSource {
  mirrors: string[];
  select: string;
}

/** The declarative mapping from a pack's raw mirrors to the canonical facts (DESIGN §4). */
export interface PackMapping {
  activity: FactSource[];
  exposures: FactSource[];
  ratings: FactSource[];
  users: DimensionSource;
  content: DimensionSource;
  /**
   * Configured experiment splits: a SELECT of (experiment, variant, share) and optionally
   * planned_n (users per arm planned for); `mirror` must exist.
   */
  experimentConfigs: DimensionSource;
  /** Days after first exposure over which A/B metrics count. */
  analysisWindowDays: number;
  /** Activity types that count as viewing content. */
  viewEventTypes: string[];
  /** The activity type that starts content (the denominator of completion rate). */
  startEventType: string;
}

export interface SourcePack {
  name: string;
  description: string;
  /** DDL for an empty database; run once. */
  postgresSchemaSql: string;
  /** Facts from the mirrors of a capture named `source` (by default the pack's name). */
  mapping(source: string): PackMapping;
  /** The pack's features for ML export and the online store (features/). */
  features?: FeatureRegistry;
  /** The pack's MongoDB database and collections, when its product keeps documents. */
  mongo?: { database: string; collections: MongoCollectionSpec[] };
  /**
   * Plays the product. With `mongo`, the document side (interactions, notifications, …) is written
   * there as the same simulated users act.
   */
  simulate(
    client: pg.ClientBase | pg.Pool,
    options: SimulationOptions & { mongo?: Db },
  ): Promise<SimulationSummary>;
}

/** The typed fields a pack declares for a collection (none for collections it does not know). */
export function documentFieldsOf(
  pack: SourcePack,
): (database: string, collection: string) => DocumentField[] {
  return (_database, collection) =>
    pack.mongo?.collections.find((spec) => spec.name === collection)?.fields ?? [];
}
