// The online store: each entity's latest feature vector in Redis, a hash per entity keyed
// `<pack>:<entity>:<id>`. Every run computes the vectors as of now in ClickHouse (the same query as
// an `--as-of now` export) with a digest per entity, and writes only the entities whose digest
// differs from the one recorded for that store: after a transform run, the users whose facts or
// attributes changed (and those whose windows rolled past a fact). The digests live in the
// warehouse; a generation stamp in Redis tells a wiped or different Redis, which gets everything.
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { z } from 'zod';
import {
  migrate,
  bookkeepingTable,
  ONLINE_DIGESTS,
  quoteIdentifier as q,
  quoteTable,
  readCheckpoint,
  writeCheckpoint,
  type Warehouse,
} from '../warehouse/index.ts';
import { selectFeatures } from './catalogue.ts';
import { FeatureExportError, featureRegistries, featureRegistryOf, prepareHistory } from './export.ts';
import { ENTITIES, type Entity } from './registry.ts';
import { ENTITIES_PER_PASS, entityRanges } from './passes.ts';
import { asOfSpine, SpineError } from './spine.ts';
import { restoresListpacks, type ListpackLimits } from './redis-dump.ts';
import { VectorSender } from './vector-sender.ts';
import { connectRedis, keyOf, OnlineFeatureReader, type OnlineVector } from './online-reader.ts';
import { parseRedisTarget } from './redis-target.ts';
import { pointInTimeQuery } from './sql.ts';

export const materializeOptionsSchema = z.object({
  pack: z.string().min(1),
  /** Whose vectors: users', or content's. */
  entity: z.enum(ENTITIES).default('user'),
  sourceName: z
    .string()
    .regex(/^[a-z][a-z0-9_]{0,40}$/)
    .optional(),
  to: z.string().min(1),
  /** Seconds each written hash lives; unset: until overwritten. */
  ttlSeconds: z.number().int().positive().optional(),
  /** Write every entity, whatever the digests say. */
  full: z.boolean().default(false),
  /**
   * The instant the features are as of (ISO-8601); unset, the warehouse's clock, as a serving store
   * wants. A fixed instant makes runs comparable: trailing windows do not move between them.
   */
  asOf: z
    .string()
    .refine((text) => !Number.isNaN(Date.parse(text)), 'must be an ISO-8601 timestamp')
    .optional(),
  /** Entities per pass (see passes.ts); ENTITIES_PER_PASS.asOf by default. */
  entitiesPerPass: z.number().int().positive().optional(),
  /** Keys per Redis DEL of entities gone since the last run. */
  batchSize: z.number().int().positive().default(5000),
});
export type MaterializeOptions = z.input<typeof materializeOptionsSchema>;

export interface MaterializeResult {
  mode: 'full' | 'incremental';
  asOf: string;
  entities: number;
  written: number;
  removed: number;
  seconds: number;
  /** Of `seconds`: the changed vectors' rows written by the engine, then sent to Redis (0 if none). */
  encodeSeconds: number;
  sendSeconds: number;
  /** The ids written (only when few: the tests and the log use it). */
  writtenIds?: string[];
}

const stateSchema = z.object({ generation: z.string() });
/** Where a store keeps the generation of an entity's vectors (never an entity's own key). */
const markerKey = (pack: string, entity: Entity) => `${pack}:_materialized:${entity}`;

async function warehouseNow(warehouse: Warehouse): Promise<string> {
  const [now] = await warehouse.query<{ now: string }>("SELECT toString(now64(3, 'UTC')) AS now");
  return now?.now ?? new Date().toISOString();
}

/**
 * The server's listpack limits when it takes hashes by RESTORE (Redis ≥ 7.0); undefined, and HSET
 * writes every hash, for an older server or one that refuses CONFIG (some hosted ones do).
 */
async function restoreLimits(redis: Redis): Promise<ListpackLimits | undefined> {
  const version = /^redis_version:(\S+)/m.exec(await redis.info('server'))?.[1];
  if (!version || !restoresListpacks(version)) return undefined;
  const setting = async (name: string) => Number(((await redis.config('GET', name)) as string[])[1]);
  try {
    const limits = {
      entries: await setting('hash-max-listpack-entries'),
      value: await setting('hash-max-listpack-value'),
    };
    return Number.isInteger(limits.entries) && Number.isInteger(limits.value) ? limits : undefined;
  } catch {
    return undefined;
  }
}

export async function materializeFeatures(
  warehouse: Warehouse,
  input: MaterializeOptions,
): Promise<MaterializeResult> {
  const startedAt = performance.now();
  const options = materializeOptionsSchema.parse(input);
  const target = parseRedisTarget(options.to);
  const registry = featureRegistryOf(options.pack, options.entity);
  const selection = selectFeatures(registry, {});
  const sourceName = options.sourceName ?? options.pack;
  const store = `${target.host}:${target.port}/${target.db}`;
  await migrate(warehouse);
  const sourceKeys = await prepareHistory(warehouse, registry, sourceName, selection);
  const redis = await connectRedis(target);
  const asOf = options.asOf
    ? new Date(Date.parse(options.asOf)).toISOString().replace('T', ' ').replace('Z', '')
    : await warehouseNow(warehouse);
  const spine = await asOfSpine(warehouse, options.pack, asOf, registry.entity);
  const id = randomUUID().replaceAll('-', '');
  /** The entities written, with their digests: recorded once Redis has them. */
  const changed = bookkeepingTable(`online_${id}_changed`);
  const dir = await mkdtemp(join(tmpdir(), 'tributary-online-'));
  let sender: VectorSender | undefined;
  try {
    // A Redis that lost its data, or another one behind the same address, has not our generation.
    const pipeline = `features:${options.pack}:${registry.entity}`;
    const state = await readCheckpoint(warehouse, pipeline, store, stateSchema);
    const generation = await redis.get(markerKey(options.pack, registry.entity));
    const full = options.full || !state || state.generation !== generation;
    const entityColumn = `${registry.entity}_id`;
    const featureColumns = selection.features.map((feature) => q(feature.name)).join(', ');
    sender = new VectorSender(warehouse, {
      target,
      keyPrefix: keyOf(options.pack, registry.entity, ''),
      entityColumn,
      features: selection.features,
      ...(options.ttlSeconds === undefined ? {} : { ttlSeconds: options.ttlSeconds }),
      limits: await restoreLimits(redis),
      dir,
    });
    await warehouse.command(
      `CREATE TABLE ${quoteTable(changed)} (entity_id String, digest UInt64) ENGINE = MergeTree ORDER BY entity_id`,
    );
    let written = 0;
    const ranges = await entityRanges(warehouse, spine, options.entitiesPerPass ?? ENTITIES_PER_PASS.asOf);
    // Pass by pass, the engine computes a range's changed vectors, and the sender writes them out
    // and sends them while the engine computes the next range.
    for (const entities of ranges) {
      const query = pointInTimeQuery({
        registry,
        features: selection.features,
        labels: [],
        pack: options.pack,
        sourceName,
        sourceKeys,
        spineTable: spine.table,
        asOf,
        entities,
      });
      const inRange = (column: string) =>
        (entities.from === undefined ? '' : ` AND ${column} >= {pass_from:String}`) +
        (entities.below === undefined ? '' : ` AND ${column} < {pass_below:String}`);
      const params = {
        ...query.params,
        pack: options.pack,
        store,
        entity: registry.entity,
        ...(entities.from === undefined ? {} : { pass_from: entities.from }),
        ...(entities.below === undefined ? {} : { pass_below: entities.below }),
      };
      const changedFilter = full
        ? '1'
        : `(${q(entityColumn)}, digest) NOT IN (SELECT entity_id, digest FROM ${ONLINE_DIGESTS} FINAL
             WHERE pack = {pack:String} AND store = {store:String} AND entity = {entity:String} AND removed = 0${inRange('entity_id')})`;
      // One range's vectors (~0.1 GB at 125k users) in memory: written once, read twice, dropped. The
      // digest hashes the values themselves (a null differs from 0 and ''): hashing each row's JSON
      // text took 14–16 CPU-s at 1M users, the tuple 0.2.
      const vectors = bookkeepingTable(`online_${id}_pass`);
      await warehouse.command(
        `CREATE TABLE ${quoteTable(vectors)} ENGINE = Memory AS
         SELECT * FROM (SELECT *, cityHash64(tuple(${featureColumns})) AS digest
                        FROM (${query.sql}))
         WHERE ${changedFilter}`,
        params,
        query.settings,
      );
      try {
        const rows = await sender.add(quoteTable(vectors));
        if (rows > 0)
          await warehouse.command(
            `INSERT INTO ${quoteTable(changed)} SELECT ${q(entityColumn)}, digest FROM ${quoteTable(vectors)}`,
          );
        written += rows;
      } finally {
        await warehouse.command(`DROP TABLE IF EXISTS ${quoteTable(vectors)}`);
      }
    }
    await sender.finish();
    const removedIds = (
      await warehouse.query<{ entity_id: string }>(
        `SELECT entity_id FROM ${ONLINE_DIGESTS} FINAL
         WHERE pack = {pack:String} AND store = {store:String} AND entity = {entity:String} AND removed = 0
           AND entity_id NOT IN (SELECT entity_id FROM ${quoteTable(spine.table)})`,
        { pack: options.pack, store, entity: registry.entity },
      )
    ).map((row) => row.entity_id);
    const writtenIds =
      written > 0 && written <= 100
        ? (await warehouse.query<{ id: string }>(`SELECT entity_id AS id FROM ${quoteTable(changed)}`)).map(
            (row) => row.id,
          )
        : [];
    if (removedIds.length > 0) {
      for (let index = 0; index < removedIds.length; index += options.batchSize)
        await redis.del(
          ...removedIds
            .slice(index, index + options.batchSize)
            .map((id) => keyOf(options.pack, registry.entity, id)),
        );
    }
    // Digests after Redis: a crash in between rewrites the same values next time, never skips them.
    if (full)
      await warehouse.command(
        `ALTER TABLE ${ONLINE_DIGESTS} DELETE WHERE pack = {pack:String} AND store = {store:String} AND entity = {entity:String}`,
        { pack: options.pack, store, entity: registry.entity },
      );
    await warehouse.command(
      `INSERT INTO ${ONLINE_DIGESTS} (pack, store, entity, entity_id, digest, removed, written_at)
       SELECT {pack:String}, {store:String}, {entity:String}, entity_id, digest, 0, now64(3) FROM ${quoteTable(changed)}
       UNION ALL SELECT {pack:String}, {store:String}, {entity:String}, arrayJoin({removed:Array(String)}), 0, 1, now64(3)`,
      { pack: options.pack, store, entity: registry.entity, removed: removedIds },
    );
    if (full) {
      const next = randomUUID();
      await redis.set(markerKey(options.pack, registry.entity), next);
      await writeCheckpoint(warehouse, pipeline, store, { generation: next });
    }
    return {
      mode: full ? 'full' : 'incremental',
      asOf,
      entities: spine.rows,
      written,
      removed: removedIds.length,
      seconds: (performance.now() - startedAt) / 1000,
      encodeSeconds: sender.encodeSeconds,
      sendSeconds: sender.sendSeconds,
      ...(written <= 100 ? { writtenIds } : {}),
    };
  } finally {
    await sender?.close();
    await rm(dir, { recursive: true, force: true });
    await warehouse.command(`DROP TABLE IF EXISTS ${quoteTable(changed)}`);
    await spine.drop();
    redis.disconnect();
  }
}

/** One entity's part of `materializePack`: its run, or why its vectors were left out. */
export type PackMaterialization =
  { entity: Entity; result: MaterializeResult } | { entity: Entity; skipped: string };

/**
 * Every entity the pack declares, in its order (after a transform run). An entity other than users
 * whose sources this deployment does not capture (no content dimension, no lessons history) is
 * left out with the reason; users' vectors never are: a failure there is the run's.
 */
export async function materializePack(
  warehouse: Warehouse,
  options: Omit<MaterializeOptions, 'entity'>,
): Promise<PackMaterialization[]> {
  const runs: PackMaterialization[] = [];
  for (const { entity } of featureRegistries(options.pack)) {
    try {
      runs.push({ entity, result: await materializeFeatures(warehouse, { ...options, entity }) });
    } catch (error) {
      if (entity === 'user' || !(error instanceof SpineError || error instanceof FeatureExportError))
        throw error;
      runs.push({ entity, skipped: error.message });
    }
  }
  return runs;
}

/**
 * The stored vectors of `ids`, in their order (see `OnlineFeatureReader.read`), over a connection of
 * their own: `features get`.
 */
export async function getOnlineFeatures(options: {
  pack: string;
  /** Whose vectors: users' by default. */
  entity?: Entity;
  from: string;
  ids: readonly string[];
  features?: string[];
}): Promise<(OnlineVector | undefined)[]> {
  const { from, ...request } = options;
  // Unknown features are the caller's mistake, said before Redis is asked anything.
  OnlineFeatureReader.featuresOf(request);
  const reader = await OnlineFeatureReader.open(from, { once: true });
  try {
    return await reader.read(request);
  } finally {
    reader.close();
  }
}
