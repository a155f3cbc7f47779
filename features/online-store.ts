// The online store: each entity's latest feature vector in Redis, a hash per entity keyed
// `<pack>:<entity>:<id>`. Every run computes the vectors as of now in ClickHouse (the same query as
// an `--as-of now` export) with a digest per entity, and writes only the entities whose digest
// differs from the one recorded for that store: after a transform run, the users whose facts or
// attributes changed (and those whose windows rolled past a fact). The digests live in the
// warehouse; a generation stamp in Redis tells a wiped or different Redis, which gets everything.
import { randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { z } from 'zod';
import { TributaryError } from '../errors/index.ts';
import {
  migrate,
  bookkeepingTable,
  quoteIdentifier as q,
  quoteString,
  quoteTable,
  readCheckpoint,
  writeCheckpoint,
  type Warehouse,
} from '../warehouse/index.ts';
import { selectFeatures } from './catalogue.ts';
import { featureRegistryOf, prepareHistory } from './export.ts';
import { featureNullable, featureType, type FeatureDefinition, type FeatureRegistry } from './registry.ts';
import { ENTITIES_PER_PASS, entityRanges } from './passes.ts';
import { asOfSpine } from './spine.ts';
import {
  restoreCommands,
  restoreRowsSql,
  restoresListpacks,
  type DumpField,
  type ListpackLimits,
} from './redis-dump.ts';
import { RespWriter } from './resp-writer.ts';
import { pointInTimeQuery } from './sql.ts';

export class OnlineStoreError extends TributaryError {}

/** What each store last holds per entity (migration 040). */
const DIGESTS = bookkeepingTable('online_digests');

export interface RedisTarget {
  host: string;
  port: number;
  db: number;
}

/** `redis://HOST:PORT[/DB]`. */
export function parseRedisTarget(url: string): RedisTarget {
  const match = /^redis:\/\/([^:/\s]+):(\d{1,5})(?:\/(\d{1,2}))?\/?$/.exec(url);
  if (!match) throw new OnlineStoreError(`"${url}" is not a Redis URL of the form redis://HOST:PORT[/DB]`);
  return { host: match[1] as string, port: Number(match[2]), db: Number(match[3] ?? 0) };
}

export const materializeOptionsSchema = z.object({
  pack: z.string().min(1),
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
const keyOf = (pack: string, entity: string, id: string) => `${pack}:${entity}:${id}`;
const markerKey = (pack: string) => `${pack}:_materialized`;

async function connect(target: RedisTarget): Promise<Redis> {
  const redis = new Redis({
    host: target.host,
    port: target.port,
    db: target.db,
    lazyConnect: true,
    maxRetriesPerRequest: 1,
    retryStrategy: () => null,
  });
  // Failures surface through the awaited commands; the client's own event would only log them twice.
  redis.on('error', () => undefined);
  try {
    await redis.connect();
  } catch (error) {
    redis.disconnect();
    throw new OnlineStoreError(
      `cannot reach Redis at ${target.host}:${target.port}: ${(error as Error).message}; is redis-server running there?`,
      { retriable: true, cause: error },
    );
  }
  return redis;
}

/** A constant as RESP text, encoded here once (lengths in bytes, as RESP counts them). */
const bulk = (text: string) => `$${Buffer.byteLength(text)}\r\n${text}\r\n`;
/** Arguments of `concat` encoding the SQL String `value` as one RESP bulk string after `prefix`. */
const bulkArgs = (prefix: string, value: string) => [
  quoteString(`${prefix}$`),
  `toString(length(${value}))`,
  "'\\r\\n'",
  value,
  "'\\r\\n'",
];

/**
 * The Redis commands writing one vector, as one SQL expression over a row of the as-of query (its
 * `<entity>_id`, `timestamp` and feature columns): HSET of `_as_of` and the non-null features, HDEL
 * of the null ones, EXPIRE with a ttl. The engine encodes every row's RESP itself, in one `concat`
 * per row, so the vectors reach Redis as the engine's bytes with no JavaScript value per row or
 * field. `commands` counts the commands in each row's text (the replies to wait for). The
 * benchmark's floor sends the same bytes.
 */
export function vectorRespSql(
  keyPrefix: string,
  entityColumn: string,
  features: readonly FeatureDefinition[],
  ttlSeconds?: number,
): { resp: string; commands: string } {
  const key = `concat(${quoteString(keyPrefix)}, ${q(entityColumn)})`;
  const nullable = features.filter(featureNullable);
  const nulls =
    nullable.length === 0 ? '0' : `(${nullable.map((f) => `toUInt32(isNull(${q(f.name)}))`).join(' + ')})`;
  // Values as the engine prints them (toString), which is how a TabSeparated export shows them.
  const value = (feature: FeatureDefinition) => `toString(assumeNotNull(${q(feature.name)}))`;
  const hset = [
    "'*'",
    `toString(${4 + 2 * features.length} - 2 * ${nulls})`,
    quoteString(`\r\n${bulk('HSET')}`),
    ...bulkArgs('', key),
    ...bulkArgs(bulk('_as_of'), 'toString(timestamp)'),
    ...features.map((feature) =>
      featureNullable(feature)
        ? `if(isNull(${q(feature.name)}), '', concat(${bulkArgs(bulk(feature.name), value(feature)).join(', ')}))`
        : bulkArgs(bulk(feature.name), value(feature)).join(', '),
    ),
  ];
  const hdel =
    nullable.length === 0
      ? "''"
      : `if(${nulls} = 0, '', concat('*', toString(2 + ${nulls}), ${quoteString(`\r\n${bulk('HDEL')}`)}, ${bulkArgs('', key).join(', ')}, ${nullable
          .map((feature) => `if(isNull(${q(feature.name)}), ${quoteString(bulk(feature.name))}, '')`)
          .join(', ')}))`;
  const expire = ttlSeconds
    ? `concat(${quoteString(`*3\r\n${bulk('EXPIRE')}`)}, ${bulkArgs('', key).join(', ')}, ${quoteString(bulk(String(ttlSeconds)))})`
    : "''";
  return {
    resp: `concat(${[...hset, hdel, expire].join(', ')})`,
    commands: `toUInt64(1 + (${nulls} > 0) + ${ttlSeconds ? 1 : 0})`,
  };
}

/** The hash of a vector (a row of the as-of query) as RESTORE writes it: the same fields and texts as HSET. */
export function dumpFields(features: readonly FeatureDefinition[]): DumpField[] {
  return [
    { name: '_as_of', sql: 'toString(timestamp)', integer: false, nullable: false },
    ...features.map((feature) => {
      const integer = featureType(feature) === 'int64';
      return {
        name: feature.name,
        sql: integer ? q(feature.name) : `toString(${q(feature.name)})`,
        integer,
        nullable: featureNullable(feature),
      };
    }),
  ];
}

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
  const registry = featureRegistryOf(options.pack);
  const selection = selectFeatures(registry, {});
  const sourceName = options.sourceName ?? options.pack;
  const store = `${target.host}:${target.port}/${target.db}`;
  await migrate(warehouse);
  await prepareHistory(warehouse, registry, sourceName, selection);
  const redis = await connect(target);
  const asOf = options.asOf
    ? new Date(Date.parse(options.asOf)).toISOString().replace('T', ' ').replace('Z', '')
    : await warehouseNow(warehouse);
  const spine = await asOfSpine(warehouse, options.pack, asOf);
  const id = randomUUID().replaceAll('-', '');
  /** The entities written, with their digests: recorded once Redis has them. */
  const changed = bookkeepingTable(`online_${id}_changed`);
  const dir = await mkdtemp(join(tmpdir(), 'tributary-online-'));
  let sending: Promise<void> = Promise.resolve();
  let writer: RespWriter | undefined;
  try {
    // A Redis that lost its data, or another one behind the same address, has not our generation.
    const pipeline = `features:${options.pack}`;
    const state = await readCheckpoint(warehouse, pipeline, store, stateSchema);
    const generation = await redis.get(markerKey(options.pack));
    const full = options.full || !state || state.generation !== generation;
    const entityColumn = `${registry.entity}_id`;
    const featureColumns = selection.features.map((feature) => q(feature.name)).join(', ');
    const vector = vectorRespSql(
      keyOf(options.pack, registry.entity, ''),
      entityColumn,
      selection.features,
      options.ttlSeconds,
    );
    // Hashes that fit the server's listpack limits go whole by RESTORE, the others by HSET.
    const fields = dumpFields(selection.features);
    const limits = await restoreLimits(redis);
    const ttlMs = (options.ttlSeconds ?? 0) * 1000;
    await warehouse.command(
      `CREATE TABLE ${quoteTable(changed)} (entity_id String, digest UInt64) ENGINE = MergeTree ORDER BY entity_id`,
    );
    let written = 0;
    let encodeSeconds = 0;
    let sendSeconds = 0;
    const ranges = await entityRanges(warehouse, spine, options.entitiesPerPass ?? ENTITIES_PER_PASS.asOf);
    // Pass by pass, the engine computes a range's changed vectors and writes them out (RowBinary:
    // the key, the HSET fallback's RESP, the values) while this process encodes the range before as
    // RESTORE commands and the fallbacks' bytes (see redis-dump.ts) and sends them: the engine's
    // threads and this one work at once. Reading a result through the embedded engine's client cost
    // more than the file.
    for (const [index, entities] of ranges.entries()) {
      const query = pointInTimeQuery({
        registry,
        features: selection.features,
        labels: [],
        pack: options.pack,
        sourceName,
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
        ...(entities.from === undefined ? {} : { pass_from: entities.from }),
        ...(entities.below === undefined ? {} : { pass_below: entities.below }),
      };
      const changedFilter = full
        ? '1'
        : `(${q(entityColumn)}, digest) NOT IN (SELECT entity_id, digest FROM ${DIGESTS} FINAL
             WHERE pack = {pack:String} AND store = {store:String} AND removed = 0${inRange('entity_id')})`;
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
        const restore = restoreRowsSql({
          from: quoteTable(vectors),
          key: `concat(${quoteString(keyOf(options.pack, registry.entity, ''))}, ${q(entityColumn)})`,
          fields,
          fallback: vector.resp,
          limits,
        });
        const [counts] = await warehouse.query<{ n: string; commands: string }>(
          `SELECT toString(count()) AS n, toString(sum(if(${restore.fits}, 1, ${vector.commands}))) AS commands
           FROM ${quoteTable(vectors)}`,
        );
        const rows = Number(counts?.n ?? 0);
        if (rows > 0) {
          const file = join(dir, `vectors-${index}.bin`);
          const encodeStart = performance.now();
          await warehouse.exportToFile(restore.sql, 'RowBinary', file);
          encodeSeconds += (performance.now() - encodeStart) / 1000;
          await warehouse.command(
            `INSERT INTO ${quoteTable(changed)} SELECT ${q(entityColumn)}, digest FROM ${quoteTable(vectors)}`,
          );
          await sending;
          writer ??= await RespWriter.connect(target.host, target.port, target.db);
          const to = writer;
          sending = (async () => {
            const sendStart = performance.now();
            await to.sendEncoded(
              restoreCommands(createReadStream(file, { highWaterMark: 1 << 20 }), fields, ttlMs),
              Number(counts?.commands),
            );
            await to.flush();
            sendSeconds += (performance.now() - sendStart) / 1000;
            await rm(file, { force: true });
          })();
          // Its failure surfaces where it is awaited, before the next range is sent.
          sending.catch(() => undefined);
          written += rows;
        }
      } finally {
        await warehouse.command(`DROP TABLE IF EXISTS ${quoteTable(vectors)}`);
      }
    }
    await sending;
    const removedIds = (
      await warehouse.query<{ entity_id: string }>(
        `SELECT entity_id FROM ${DIGESTS} FINAL
         WHERE pack = {pack:String} AND store = {store:String} AND removed = 0
           AND entity_id NOT IN (SELECT entity_id FROM ${quoteTable(spine.table)})`,
        { pack: options.pack, store },
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
        `ALTER TABLE ${DIGESTS} DELETE WHERE pack = {pack:String} AND store = {store:String}`,
        { pack: options.pack, store },
      );
    await warehouse.command(
      `INSERT INTO ${DIGESTS} (pack, store, entity_id, digest, removed, written_at)
       SELECT {pack:String}, {store:String}, entity_id, digest, 0, now64(3) FROM ${quoteTable(changed)}
       UNION ALL SELECT {pack:String}, {store:String}, arrayJoin({removed:Array(String)}), 0, 1, now64(3)`,
      { pack: options.pack, store, removed: removedIds },
    );
    if (full) {
      const next = randomUUID();
      await redis.set(markerKey(options.pack), next);
      await writeCheckpoint(warehouse, pipeline, store, { generation: next });
    }
    return {
      mode: full ? 'full' : 'incremental',
      asOf,
      entities: spine.rows,
      written,
      removed: removedIds.length,
      seconds: (performance.now() - startedAt) / 1000,
      encodeSeconds,
      sendSeconds,
      ...(written <= 100 ? { writtenIds } : {}),
    };
  } finally {
    await sending.catch(() => undefined);
    writer?.close();
    await rm(dir, { recursive: true, force: true });
    await warehouse.command(`DROP TABLE IF EXISTS ${quoteTable(changed)}`);
    await spine.drop();
    redis.disconnect();
  }
}

/** One entity's stored vector, typed by the catalogue (absent features are null); undefined if none. */
export async function getOnlineFeatures(options: {
  pack: string;
  from: string;
  id: string;
}): Promise<Record<string, string | number | null> | undefined> {
  const registry: FeatureRegistry = featureRegistryOf(options.pack);
  const redis = await connect(parseRedisTarget(options.from));
  try {
    const hash = await redis.hgetall(keyOf(options.pack, registry.entity, options.id));
    if (Object.keys(hash).length === 0) return undefined;
    const vector: Record<string, string | number | null> = {
      [`${registry.entity}_id`]: options.id,
      timestamp: hash._as_of ?? null,
    };
    for (const feature of registry.features) {
      const value = hash[feature.name];
      vector[feature.name] =
        value === undefined ? null : featureType(feature) === 'string' ? value : Number(value);
    }
    return vector;
  } finally {
    redis.disconnect();
  }
}
