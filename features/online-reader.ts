// The online store's Redis: its address, a connection, and vectors read back from it, for
// `features get` (a connection per call) and the feature server (one kept open, reconnecting).
import { Redis } from 'ioredis';
import { TributaryError } from '../errors/index.ts';
import { selectFeatures } from './catalogue.ts';
import { featureRegistryOf } from './export.ts';
import { featureType, type Entity, type FeatureDefinition, type FeatureRegistry } from './registry.ts';
import {
  describeRedisTarget,
  isCredentialRefusal,
  parseRedisTarget,
  REDIS_PASSWORD_ENV,
  tlsOptions,
  type RedisTarget,
} from './redis-target.ts';

export class OnlineStoreError extends TributaryError {}

/** How long the feature server's client waits for a reply before the request gets a 503. */
const COMMAND_TIMEOUT_MS = 2000;

/** An entity's hash. */
export const keyOf = (pack: string, entity: string, id: string) => `${pack}:${entity}:${id}`;

/**
 * A connection to the store. `reconnect`: a long-lived client (the feature server) that connects
 * whenever Redis is there, at start or after a restart, while a command meanwhile fails at once
 * instead of queueing; without it, a one-off connection that fails on the first error.
 */
export async function connectRedis(
  target: RedisTarget,
  options: { reconnect?: boolean } = {},
): Promise<Redis> {
  const redis = new Redis({
    host: target.host,
    port: target.port,
    db: target.db,
    ...(target.username === undefined ? {} : { username: target.username }),
    ...(target.password === undefined ? {} : { password: target.password }),
    ...(target.tls ? { tls: tlsOptions(target) } : {}),
    lazyConnect: true,
    maxRetriesPerRequest: 1,
    // A long-lived client also bounds each command: a Redis that hangs (stopped, a network black
    // hole) fails requests within the timeout instead of holding them.
    ...(options.reconnect
      ? {
          retryStrategy: (attempt: number) => Math.min(attempt * 100, 2000),
          enableOfflineQueue: false,
          commandTimeout: COMMAND_TIMEOUT_MS,
        }
      : { retryStrategy: () => null }),
  });
  // Failures surface through the awaited commands; the client's own event would only log them twice.
  // Its first one is kept: a refused password or certificate closes the connection, and the awaited
  // connect only says it closed (or names what failed after, e.g. NOAUTH after a WRONGPASS).
  let cause: unknown;
  redis.on('error', (error: unknown) => (cause ??= error));
  try {
    await redis.connect();
    // A server that wants a password accepts the connection and refuses its first command: a
    // one-off client learns it here, before any work.
    if (!options.reconnect) await redis.ping();
  } catch (error) {
    // A long-lived client keeps trying (its commands fail meanwhile, a server's /readyz says so).
    if (options.reconnect) return redis;
    redis.disconnect();
    throw unreachable(target, cause ?? error);
  }
  return redis;
}

/** Node's codes for a server certificate it does not trust (TLS, `rediss://`). */
const UNTRUSTED_CERTIFICATE =
  /SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER|CERT_HAS_EXPIRED|CERT_NOT_YET_VALID|ERR_TLS_CERT_ALTNAME_INVALID/;

function unreachable(target: RedisTarget, error: unknown): OnlineStoreError {
  const message = (error as Error).message;
  const where = describeRedisTarget(target);
  if (isCredentialRefusal(message))
    return new OnlineStoreError(
      `Redis at ${where} refused the connection's credentials (${message}); give them in the URL (redis://USER:PASSWORD@HOST:PORT) or ${REDIS_PASSWORD_ENV}`,
      { cause: error },
    );
  if (UNTRUSTED_CERTIFICATE.test(String((error as NodeJS.ErrnoException).code ?? message)))
    return new OnlineStoreError(
      `Redis at ${where} presented a certificate this process does not trust (${message}); name its CA in NODE_EXTRA_CA_CERTS`,
      { cause: error },
    );
  return new OnlineStoreError(`cannot reach Redis at ${where}: ${message}; is redis-server running there?`, {
    retriable: true,
    cause: error,
  });
}

/** One entity's stored vector: its id (`<entity>_id`), `timestamp` (the instant it is as of), the features. */
export type OnlineVector = Record<string, string | number | null>;

export interface OnlineRequest {
  pack: string;
  /** Whose vectors: users' by default. */
  entity?: Entity;
  ids: readonly string[];
  /** The features to read, in this order; every feature of the entity by default. */
  features?: string[];
}

const everyFeature = new WeakMap<FeatureRegistry, FeatureDefinition[]>();

export class OnlineFeatureReader {
  private constructor(
    private readonly redis: Redis,
    private readonly target: RedisTarget,
  ) {}

  /** `once`: a connection for one call (it fails rather than reconnects). */
  static async open(from: string, options: { once?: boolean } = {}): Promise<OnlineFeatureReader> {
    const target = parseRedisTarget(from);
    return new OnlineFeatureReader(await connectRedis(target, { reconnect: !options.once }), target);
  }

  /** The features a request reads, resolved against the pack's catalogue (unknown ones are an error). */
  static featuresOf(request: Omit<OnlineRequest, 'ids'>): FeatureDefinition[] {
    const registry = featureRegistryOf(request.pack, request.entity ?? 'user');
    if (request.features) return selectFeatures(registry, { features: request.features }).features;
    // Most reads want every feature: resolved once per registry (a server answers thousands a second).
    let every = everyFeature.get(registry);
    if (!every) everyFeature.set(registry, (every = selectFeatures(registry, {}).features));
    return every;
  }

  /**
   * The stored vectors of `ids`, in their order, typed by the catalogue (a feature absent from the
   * hash is null); undefined for an id with nothing stored. One round trip whatever the ids: an
   * HGETALL per id when every feature is wanted (Redis walks the hash's listpack once, where an
   * HMGET of 68 fields walked it per field: ~8 µs of Redis a vector instead of ~22, bench:feature-server),
   * else an HMGET of the chosen fields; pipelined.
   */
  async read(request: OnlineRequest): Promise<(OnlineVector | undefined)[]> {
    const entity = request.entity ?? 'user';
    const features = OnlineFeatureReader.featuresOf(request);
    if (request.ids.length === 0) return [];
    const whole = request.features === undefined;
    const fields = whole ? [] : ['_as_of', ...features.map((feature) => feature.name)];
    const pipeline = this.redis.pipeline();
    for (const id of request.ids) {
      const key = keyOf(request.pack, entity, id);
      // By `call` in capitals: ioredis turns a reply to its own `hgetall` into an object, which cost
      // more to build than reading the pairs here.
      if (whole) pipeline.call('HGETALL', key);
      else pipeline.hmget(key, ...fields);
    }
    let replies: [Error | null, unknown][];
    try {
      replies = (await pipeline.exec()) ?? [];
    } catch (error) {
      throw unreachable(this.target, error);
    }
    const idColumn = `${entity}_id`;
    return request.ids.map((id, index) => {
      const [error, values] = replies[index] ?? [new OnlineStoreError('no reply'), undefined];
      if (error) {
        if (this.redis.status !== 'ready' || error.message === 'Command timed out')
          throw unreachable(this.target, error);
        throw new OnlineStoreError(`Redis refused to read ${id}'s features: ${error.message}`);
      }
      const stored = values as (string | null)[];
      const vector: OnlineVector = { [idColumn]: id, timestamp: null };
      for (const feature of features) vector[feature.name] = null;
      if (whole)
        for (let at = 0; at + 1 < stored.length; at += 2) {
          const name = stored[at] as string;
          if (name === '_as_of') vector.timestamp = stored[at + 1] ?? null;
          // Fields the catalogue no longer has (an older vector) are not served.
          else if (name !== idColumn && name !== 'timestamp' && Object.hasOwn(vector, name))
            vector[name] = stored[at + 1] ?? null;
        }
      else {
        vector.timestamp = stored[0] ?? null;
        features.forEach((feature, at) => (vector[feature.name] = stored[at + 1] ?? null));
      }
      // Every stored vector has its instant: without one, nothing is stored for the id.
      if (vector.timestamp === null) return undefined;
      for (const feature of features) {
        const value = vector[feature.name];
        if (value !== null && featureType(feature) !== 'string') vector[feature.name] = Number(value);
      }
      return vector;
    });
  }

  /** Throws unless Redis answers. */
  async ping(): Promise<void> {
    try {
      await this.redis.ping();
    } catch (error) {
      throw unreachable(this.target, error);
    }
  }

  close(): void {
    this.redis.disconnect();
  }
}
