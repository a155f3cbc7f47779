// The feature server: the online store's vectors over HTTP for models serving predictions (what
// Feast's `feature_server` does), and the catalogue for tools. JSON in and out, every request checked
// by a zod schema (a 400 names the bad field); ids only ever become Redis keys under their pack and
// entity. Beyond loopback it needs a token. /metrics: requests by route and status, vectors served.
import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';
import { Counter, Histogram, Registry } from 'prom-client';
import { z } from 'zod';
import { bearerToken, isLoopback, tokenMatches } from '../access/index.ts';
import { TributaryError } from '../errors/index.ts';
import { catalogue, FeatureSelectionError } from './catalogue.ts';
import { FeatureExportError, featureRegistries } from './export.ts';
import { OnlineFeatureReader, OnlineStoreError, type OnlineVector } from './online-reader.ts';
import { ENTITIES, FeatureDefinitionError } from './registry.ts';
import { redisUrlSchema } from './redis-target.ts';

export class FeatureServerError extends TributaryError {}

/** Ids per request: one round trip to Redis each, so a bound keeps one caller from stalling the rest. */
export const MAX_IDS_PER_REQUEST = 1000;

export const featureServerOptionsSchema = z.object({
  /** The online store's URL (REDIS_URL_FORM). */
  from: redisUrlSchema,
  host: z.string().min(1).default('127.0.0.1'),
  /** 0 picks a free port; 6566 is Feast's feature server's. */
  port: z.number().int().min(0).max(65_535).default(6566),
  /** Required beyond loopback (Authorization: Bearer …). */
  token: z.string().min(8, 'must be 8 characters or more').optional(),
});
export type FeatureServerOptions = z.input<typeof featureServerOptionsSchema>;

export interface RunningFeatureServer {
  url: string;
  close(): Promise<void>;
}

/** An entity id as stored: printable, bounded. */
const idSchema = z
  .string()
  .min(1)
  .max(256)
  .regex(/^[^\p{Cc}]+$/u, 'must hold no control characters');
const featureNameSchema = z.string().regex(/^[a-z][a-z0-9_]{0,99}$/, 'is not a feature name');
const entitySchema = z.enum(ENTITIES);

const onlineRequestSchema = z.strictObject({
  entity: entitySchema.default('user'),
  ids: z.array(idSchema).min(1).max(MAX_IDS_PER_REQUEST),
  features: z.array(featureNameSchema).min(1).max(500).optional(),
});

const packParamsSchema = z.object({ pack: z.string().regex(/^[a-z][a-z0-9_]{0,40}$/, 'is not a pack name') });
const vectorParamsSchema = packParamsSchema.extend({ entity: entitySchema, id: idSchema });
const vectorQuerySchema = z.strictObject({
  features: z
    .string()
    .max(10_000)
    .transform((text) => text.split(',').filter((name) => name !== ''))
    .pipe(z.array(featureNameSchema).min(1))
    .optional(),
});

/** The server's Prometheus series. */
class FeatureServerMetrics {
  readonly registry = new Registry();
  readonly requests = new Histogram({
    name: 'tributary_feature_request_duration_seconds',
    help: 'Feature server requests by route and status, from arrival to the last byte sent',
    labelNames: ['route', 'status'] as const,
    buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
    registers: [this.registry],
  });
  readonly vectors = new Counter({
    name: 'tributary_feature_vectors_served_total',
    help: 'Vectors asked for, by pack, entity and whether one was stored (found) or not (missing)',
    labelNames: ['pack', 'entity', 'result'] as const,
    registers: [this.registry],
  });

  served(pack: string, entity: string, vectors: readonly unknown[]): void {
    const found = vectors.filter((vector) => vector !== undefined).length;
    if (found > 0) this.vectors.inc({ pack, entity, result: 'found' }, found);
    if (found < vectors.length) this.vectors.inc({ pack, entity, result: 'missing' }, vectors.length - found);
  }
}

/** A request that cannot be answered as asked: its status and what to tell the caller. */
class Refusal extends FeatureServerError {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

function parse<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  throw new Refusal(
    400,
    'bad_request',
    `${what} ${issue?.path.join('.') || ''}: ${issue?.message ?? 'invalid'}`.replace(' :', ':'),
  );
}

/** The pack's feature registries, or a 404 for a pack this build does not know or with no features. */
function registriesOf(pack: string) {
  try {
    return featureRegistries(pack);
  } catch (error) {
    // A registry that fails its own checks is this build's fault, not the caller's.
    if (error instanceof FeatureDefinitionError) throw error;
    throw new Refusal(404, 'not_found', (error as Error).message);
  }
}

/**
 * Starts the server; refuses a non-loopback address without a token. A Redis not up yet is no reason
 * to refuse: /readyz says so until it answers.
 */
export async function startFeatureServer(input: FeatureServerOptions): Promise<RunningFeatureServer> {
  const parsed = featureServerOptionsSchema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new FeatureServerError(`feature server: ${issue?.path.join('.')}: ${issue?.message}`);
  }
  const options = parsed.data;
  if (!isLoopback(options.host) && options.token === undefined)
    throw new FeatureServerError(
      `feature server: refusing to listen on ${options.host} without a token: anyone who can reach it would read every stored vector; pass --token (or bind 127.0.0.1)`,
    );
  const reader = await OnlineFeatureReader.open(options.from);
  const app = buildFeatureServer(reader, options);
  try {
    await app.listen({ host: options.host, port: options.port });
  } catch (error) {
    await app.close();
    reader.close();
    throw new FeatureServerError(
      `feature server: cannot listen on ${options.host}:${options.port}: ${(error as Error).message}; choose another --port`,
      { cause: error },
    );
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  return {
    url: `http://${host}:${port}`,
    close: async () => {
      await app.close();
      reader.close();
    },
  };
}

function buildFeatureServer(
  reader: OnlineFeatureReader,
  options: z.output<typeof featureServerOptionsSchema>,
): FastifyInstance {
  // 1,000 ids of 256 ASCII characters fit (ids in other scripts hold fewer: a 413 says so).
  const app = Fastify({ logger: false, bodyLimit: 512 * 1024, routerOptions: { maxParamLength: 300 } });
  const metrics = new FeatureServerMetrics();
  app.addHook('onResponse', async (request, reply) => {
    // The route's pattern, not its URL: ids would make a series each.
    const route = request.routeOptions.url ?? 'unknown';
    metrics.requests.observe({ route, status: String(reply.statusCode) }, reply.elapsedTime / 1000);
  });
  app.addHook('onRequest', async (request, reply) => {
    if (options.token === undefined || request.url === '/healthz') return;
    if (tokenMatches(options.token, bearerToken(request.headers.authorization))) return;
    return reply
      .code(401)
      .send({ error: 'unauthorized', message: 'a token is needed (Authorization: Bearer …)' });
  });

  app.get('/healthz', async () => ({ ok: true }));
  app.get('/readyz', async (_request, reply) => {
    try {
      await reader.ping();
      return { ready: true };
    } catch (error) {
      return reply.code(503).send({ ready: false, message: (error as Error).message });
    }
  });

  app.get('/metrics', async (_request, reply) =>
    reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()),
  );

  // The catalogue, as `tributary features list --format json` prints it.
  app.get('/v1/packs/:pack/features', async (request) => {
    const { pack } = parse(packParamsSchema, request.params, 'path');
    return registriesOf(pack).flatMap(catalogue);
  });

  // Vectors of many entities at once: { entity, ids, features? } → one vector (or null) per id, in order.
  app.post('/v1/packs/:pack/online-features', async (request) => {
    const { pack } = parse(packParamsSchema, request.params, 'path');
    const body = parse(onlineRequestSchema, request.body, 'body');
    registriesOf(pack);
    const vectors = await reader.read({
      pack,
      entity: body.entity,
      ids: body.ids,
      ...optional(body.features),
    });
    metrics.served(pack, body.entity, vectors);
    return {
      entity: body.entity,
      // The chosen names as asked (read checked them), else every feature's, resolved once.
      features:
        body.features ??
        OnlineFeatureReader.featuresOf({ pack, entity: body.entity }).map((feature) => feature.name),
      vectors: vectors.map((vector) => vector ?? null),
      missing: body.ids.filter((_, index) => vectors[index] === undefined),
    };
  });

  // One entity's vector; 404 when nothing is stored for it.
  app.get('/v1/packs/:pack/:entity/:id', async (request, reply) => {
    const { pack, entity, id } = parse(vectorParamsSchema, request.params, 'path');
    const query = parse(vectorQuerySchema, request.query, 'query');
    registriesOf(pack);
    const [vector] = await reader.read({ pack, entity, ids: [id], ...optional(query.features) });
    metrics.served(pack, entity, [vector]);
    if (!vector)
      return reply.code(404).send({
        error: 'not_found',
        message: `nothing stored for ${entity} ${id} in pack ${pack} (materialize first?)`,
      });
    return vector satisfies OnlineVector;
  });

  app.setErrorHandler(async (error, _request, reply: FastifyReply) => {
    if (error instanceof Refusal)
      return reply.code(error.status).send({ error: error.code, message: error.message });
    if (error instanceof FeatureSelectionError || error instanceof FeatureExportError)
      return reply.code(400).send({ error: 'bad_request', message: error.message });
    if (error instanceof OnlineStoreError && error.retriable)
      return reply.code(503).send({ error: 'unavailable', message: error.message });
    // Fastify's own refusals (a body that is not JSON, too large, a wrong content type).
    const status = (error as { statusCode?: number }).statusCode;
    if (status !== undefined && status >= 400 && status < 500)
      return reply.code(status).send({ error: 'bad_request', message: (error as Error).message });
    process.stderr.write(`feature server: ${(error as Error).stack ?? String(error)}\n`);
    return reply.code(500).send({ error: 'internal', message: 'the server failed; see its log' });
  });
  app.setNotFoundHandler(async (request, reply) =>
    reply.code(404).send({
      error: 'not_found',
      message: `no route ${request.method} ${request.url.split('?')[0]}: try GET /v1/packs/PACK/features, POST /v1/packs/PACK/online-features, GET /v1/packs/PACK/ENTITY/ID`,
    }),
  );
  return app;
}

const optional = (features: string[] | undefined) => (features ? { features } : {});
