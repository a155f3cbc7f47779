// The contract every source pack fulfils: a Postgres schema plus a deterministic simulator that
// fills it with days of history through ordinary INSERT/UPDATE/DELETE statements; packs whose
// product keeps documents also declare their MongoDB collections.
import type { Db } from 'mongodb';
import type mysql from 'mysql2/promise';
import type pg from 'pg';
import type { FeatureRegistry } from '../features/index.ts';
import type { SourceChange } from '../ingest/landing/types.ts';
import type { DocumentField } from '../ingest/source-table.ts';
import type { WritebackTarget } from '../jobs/writeback/engine.ts';
import type { DaySelection } from '../transforms/marts/partitions.ts';
import type { Warehouse } from '../warehouse/index.ts';

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

/**
 * An A/B metric as the pack names it: one of the generic per-user measures over the analysis window
 * after first exposure (and over the same span before it, CUPED's covariate). `converted`: any
 * completion (binary); `active_days`: distinct active days; `events`: activity count; `value`: the
 * sum of the facts' `value` (revenue, XP, …).
 */
export interface AbMetric {
  name: string;
  measure: 'converted' | 'active_days' | 'events' | 'value';
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
  /** The experiments' metrics, in the order results list them; the first is the primary one. */
  abMetrics: readonly AbMetric[];
  /** Days after first exposure over which A/B metrics count. */
  analysisWindowDays: number;
  /** Activity types that count as viewing content. */
  viewEventTypes: string[];
  /** The activity type that starts content (the denominator of completion rate). */
  startEventType: string;
}

/** One operational Postgres database of the product (one per service where the product splits them). */
export interface PackDatabase {
  /** The service that owns it (`auth`, `order`, …); for a one-database pack, the pack's name. */
  service: string;
  /** DDL for the empty database; run once. */
  schemaSql: string;
}

/** The pack's Postgres connections, by service. */
export type PackClients = Readonly<Record<string, pg.ClientBase | pg.Pool>>;

/** One operational MySQL/MariaDB database of a product that runs on MySQL (one per service). */
export interface PackMysqlDatabase {
  /** The service that owns it (`course`, `user`, …). */
  service: string;
  /** The database's name, as the product names it; it is part of the mirrors' names. */
  database: string;
  /** DDL for the empty database (several statements); run once. */
  schemaSql: string;
}

/** The pack's MySQL connections (time zone UTC), by service. */
export type PackMysqlConnections = Readonly<Record<string, mysql.Connection>>;

/** A pack's own mart: its tables created when absent, then recomputed by every transform run. */
export interface PackMart {
  /** Its main table, e.g. `mart_shop_daily_revenue`. */
  name: string;
  /** `CREATE TABLE IF NOT EXISTS` statements: the pack owns its tables, no generic migration does. */
  ddl: readonly string[];
  /** The mirrors it reads besides the mapping's (a change in them makes the next run recompute). */
  mirrors(source: string): string[];
  /**
   * `days`: those whose facts (activity or ratings) changed in this run ('all' on a full run). A
   * mart that reads mirrors the mapping does not, or that is cheap, recomputes whole instead.
   * `source`: the captures' mirror prefix.
   */
  recompute(warehouse: Warehouse, context: PackMartContext): Promise<void>;
}

export interface PackMartContext {
  pack: string;
  source: string;
  days: DaySelection;
}

/**
 * A sync fed by the pack's captures (postbook: the denormalized names in its documents). Every
 * capture of the pack's sources hands it each batch once the batch landed (ingest/landing/tee-sink.ts),
 * in source order, and again after a crash, so following must be idempotent.
 */
export interface PackSync {
  /** What it keeps in step, for logs and the demo. */
  description: string;
  open(stores: PackSyncStores): Promise<RunningPackSync>;
}

export interface PackSyncStores {
  /** The pack's MongoDB database. */
  mongo: Db;
  /** The pack's Postgres databases, by service. */
  postgres: PackClients;
  /** Where the sync's domain events go besides: Kafka brokers, a RabbitMQ URL. */
  kafkaBrokers?: readonly string[];
  amqpUrl?: string;
}

export interface RunningPackSync {
  follow(changes: readonly SourceChange[]): Promise<void>;
  /** The periodic repair of what drifted anyway (e.g. written from a stale cache); returns the fixes. */
  reconcile(): Promise<number>;
  /** Checks every copy against its truth now: how many were checked, and each one that differs. */
  verify(): Promise<{ checked: number; drifted: string[] }>;
  close(): Promise<void>;
}

/** What a pack writes back into its operational stores (DESIGN §6). */
export interface PackWriteback {
  /** Mongo collections Tributary writes: capture leaves them out, so a write-back never feeds back. */
  collections: readonly string[];
  /** Postgres tables Tributary writes (`table` or `schema.table`): capture of `all` leaves them out. */
  tables?: readonly string[];
  targets(context: PackWritebackContext): WritebackTarget[];
}

export interface PackWritebackContext {
  pack: string;
  /** The capture's mirror prefix. */
  source: string;
  /** Results as of this instant (the job's scheduled time). */
  asOf: Date;
  /** The pack's Mongo database, when the job names a Mongo source. */
  mongo?: Db;
  /** The Postgres database the job names. */
  postgres?: pg.ClientBase;
  /** The pack's MySQL databases, by service, for a pack that declares `mysql`. */
  mysql?: PackMysqlConnections;
}

export interface SourcePack {
  name: string;
  description: string;
  /** The product's Postgres databases; each is captured as its own source (see databaseSource). */
  postgres: readonly PackDatabase[];
  /**
   * The product's MySQL/MariaDB databases, for a product that runs on MySQL (then `postgres` may be
   * empty); each is captured natively as its own source (see databaseSource), so its mirrors are
   * `raw.${databaseSource}_${database}_${table}`.
   */
  mysql?: { databases: readonly PackMysqlDatabase[] };
  /** Facts from the mirrors of the captures prefixed `source` (by default the pack's name). */
  mapping(source: string): PackMapping;
  /** The pack's own marts, recomputed after the generic ones. */
  marts?: readonly PackMart[];
  /** What the pack writes back into its stores. */
  writeback?: PackWriteback;
  /** What the pack keeps in step in its own stores from its captured changes (demo and `run`). */
  sync?: PackSync;
  /** The pack's headline table for the demo: a SELECT with a `{pack:String}` parameter. */
  headline?: { title: string; sql: string };
  /** The pack's features for ML export and the online store (features/): a registry per entity. */
  features?: readonly FeatureRegistry[];
  /** The pack's MongoDB database and collections, when its product keeps documents. */
  mongo?: { database: string; collections: MongoCollectionSpec[] };
  /**
   * Plays the product. With `mongo`, the document side (interactions, notifications, …) is written
   * there as the same simulated users act. A MySQL product gets its connections as `mysql`.
   */
  simulate(
    postgres: PackClients,
    options: SimulationOptions & { mongo?: Db; mysql?: PackMysqlConnections },
  ): Promise<SimulationSummary>;
}

/**
 * The capture source (mirror prefix) of one of a pack's databases, Postgres or MySQL: `source`
 * itself for a pack with one database, else `${source}_${service}`. Mongo collections are captured
 * under `source`.
 */
export function databaseSource(pack: SourcePack, source: string, service: string): string {
  const databases = pack.postgres.length + (pack.mysql?.databases.length ?? 0);
  return databases === 1 ? source : `${source}_${service}`;
}

/** The typed fields a pack declares for a collection (none for collections it does not know). */
export function documentFieldsOf(
  pack: SourcePack,
): (database: string, collection: string) => DocumentField[] {
  return (_database, collection) =>
    pack.mongo?.collections.find((spec) => spec.name === collection)?.fields ?? [];
}
