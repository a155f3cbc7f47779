// `tributary features`: the feature catalogue of a pack (list), its latest vectors written to the
// Redis online store (materialize), vectors read back from there (get), and served over HTTP (serve).
import { featureServerToken } from '../../config/index.ts';
import {
  catalogue,
  featureRegistries,
  getOnlineFeatures,
  materializeFeatures,
  MAX_IDS_PER_REQUEST,
  parseRedisTarget,
  REDIS_PASSWORD_ENV,
  REDIS_URL_FORM,
  startFeatureServer,
} from '../../features/index.ts';
import { openWarehouse, parseWarehouseTarget } from '../../warehouse/index.ts';
import { intFlag, parseCommandArgs, UsageError } from '../args.ts';
import { untilSignalled } from './dashboards.ts';

const usage = `Usage: tributary features list --pack NAME [--format text|json]
       tributary features materialize --pack NAME --warehouse DIR|URL --to REDIS_URL [--entity user|content] [--ttl SECONDS] [--full] [--as-of TIMESTAMP] [--source-name NAME]
       tributary features get --pack NAME (--user ID[,ID…] | --content ID[,ID…]) [--features a,b,…] [--from REDIS_URL]
       tributary features serve [--from REDIS_URL] [--host 127.0.0.1] [--port 6566] [--token T]

list         the pack's features of every entity (user, content): name, entity, type, window,
             description (--format json for tools)
materialize  writes each user's (--entity content: each content item's) feature vector as of now
             (or --as-of, ISO-8601) to Redis, a hash per entity keyed <pack>:<entity>:<id>; only
             those whose vector changed since the last run are written (--full: all). The values
             equal an \`export features\` row as of the same instant.
get          prints each user's (or content item's) stored vector (the chosen features, all by
             default) as one JSON line, in the order given, read in one round trip (default --from
             redis://127.0.0.1:6379); ids with nothing stored are named on stderr, and the exit
             status is then 1
serve        serves the stored vectors of every pack over HTTP until Ctrl-C (JSON):
               POST /v1/packs/PACK/online-features  {"entity":"user","ids":[…],"features":[…]}
                    → one vector (or null) per id, in order; at most ${MAX_IDS_PER_REQUEST} ids
               GET  /v1/packs/PACK/ENTITY/ID[?features=a,b]  one vector, 404 if none is stored
               GET  /v1/packs/PACK/features  the catalogue; /healthz, /readyz (Redis answers)
             --host other than loopback needs --token (Authorization: Bearer …);
             TRIBUTARY_FEATURES_TOKEN is read when the flag is absent

REDIS_URL    ${REDIS_URL_FORM} (port 6379, database 0 by default);
             rediss:// is TLS (a private CA's certificate in NODE_EXTRA_CA_CERTS);
             ${REDIS_PASSWORD_ENV} is read when the URL has no password`;

const spec = {
  usage,
  options: {
    pack: { type: 'string' },
    format: { type: 'string' },
    warehouse: { type: 'string' },
    to: { type: 'string' },
    from: { type: 'string' },
    ttl: { type: 'string' },
    full: { type: 'boolean' },
    'as-of': { type: 'string' },
    user: { type: 'string' },
    content: { type: 'string' },
    entity: { type: 'string' },
    features: { type: 'string' },
    'source-name': { type: 'string' },
    host: { type: 'string' },
    port: { type: 'string' },
    token: { type: 'string' },
  },
} as const;

type Values = ReturnType<typeof parseCommandArgs<(typeof spec)['options']>>['values'];

/** A Redis URL flag (`--to`, `--from`; the local default when absent), checked before any work. */
function redisUrlFlag(flag: 'to' | 'from', value: string | undefined): string {
  if (value === undefined) {
    if (flag === 'to') throw new UsageError('--to REDIS_URL is required', usage);
    return 'redis://127.0.0.1:6379';
  }
  try {
    parseRedisTarget(value);
  } catch (error) {
    throw new UsageError(`--${flag}: ${(error as Error).message}`, usage);
  }
  return value;
}

async function serve(values: Values): Promise<number> {
  const port = intFlag('port', values.port, 6566, usage);
  if (port < 0 || port > 65_535) throw new UsageError('--port must be 0…65535', usage);
  const server = await startFeatureServer({
    from: redisUrlFlag('from', values.from),
    host: values.host ?? '127.0.0.1',
    port,
    token: values.token ?? featureServerToken(),
  });
  console.log(`Feature server: ${server.url}/v1/packs/PACK/online-features`);
  await untilSignalled();
  await server.close();
  return 0;
}

export const featuresCommand = {
  async run(argv: string[]): Promise<number> {
    const [action, ...rest] = argv;
    if (action === '--help' || action === '-h') {
      console.log(usage);
      return 0;
    }
    const { values } = parseCommandArgs(rest, spec);
    if (values.help) {
      console.log(usage);
      return 0;
    }
    if (action === 'serve') return serve(values);
    if (values.pack === undefined) throw new UsageError('--pack is required', usage);
    switch (action) {
      case 'list': {
        const format = values.format ?? 'text';
        if (format !== 'text' && format !== 'json')
          throw new UsageError('--format must be text or json', usage);
        const entries = featureRegistries(values.pack).flatMap(catalogue);
        if (format === 'json') console.log(JSON.stringify(entries, null, 2));
        else {
          const width = Math.max(...entries.map((entry) => entry.name.length));
          for (const entry of entries)
            console.log(
              `${entry.name.padEnd(width)}  ${entry.entity.padEnd(7)}  ${`${entry.type}${entry.nullable ? '?' : ''}`.padEnd(8)}  ${entry.window.padEnd(22)}  ${entry.description}`,
            );
        }
        return 0;
      }
      case 'materialize': {
        if (values.warehouse === undefined) throw new UsageError('--warehouse is required', usage);
        const to = redisUrlFlag('to', values.to);
        const ttl = values.ttl === undefined ? undefined : intFlag('ttl', values.ttl, 0, usage);
        if (ttl !== undefined && ttl <= 0)
          throw new UsageError('--ttl must be a positive number of seconds', usage);
        const asOf = values['as-of'];
        if (asOf !== undefined && Number.isNaN(Date.parse(asOf)))
          throw new UsageError(`--as-of ${asOf} is not an ISO-8601 timestamp`, usage);
        const entity = values.entity ?? 'user';
        if (entity !== 'user' && entity !== 'content')
          throw new UsageError('--entity must be user or content', usage);
        const warehouse = await openWarehouse(parseWarehouseTarget(values.warehouse));
        try {
          const result = await materializeFeatures(warehouse, {
            pack: values.pack,
            entity,
            to,
            full: values.full ?? false,
            ...(ttl ? { ttlSeconds: ttl } : {}),
            ...(asOf ? { asOf } : {}),
            ...(values['source-name'] ? { sourceName: values['source-name'] } : {}),
          });
          console.error(
            `done: ${result.mode} materialization as of ${result.asOf}: ${result.written} of ${result.entities} ${entity} vectors written, ${result.removed} removed, in ${result.seconds.toFixed(2)} s`,
          );
          return 0;
        } finally {
          await warehouse.close();
        }
      }
      case 'get': {
        if ((values.user === undefined) === (values.content === undefined))
          throw new UsageError('give one of --user ID[,ID…] and --content ID[,ID…]', usage);
        const entity = values.user === undefined ? 'content' : 'user';
        const ids = (values.user ?? values.content ?? '')
          .split(',')
          .map((id) => id.trim())
          .filter((id) => id !== '');
        if (ids.length === 0) throw new UsageError(`--${entity} needs an id`, usage);
        const features = values.features
          ?.split(',')
          .map((name) => name.trim())
          .filter((name) => name !== '');
        if (features?.length === 0) throw new UsageError('--features needs a feature name', usage);
        const vectors = await getOnlineFeatures({
          pack: values.pack,
          entity,
          from: redisUrlFlag('from', values.from),
          ids,
          ...(features ? { features } : {}),
        });
        const missing = ids.filter((_, index) => vectors[index] === undefined);
        for (const vector of vectors) if (vector) console.log(JSON.stringify(vector));
        if (missing.length > 0) {
          console.error(
            `tributary: no features stored for ${entity} ${missing.join(', ')} (materialize first?)`,
          );
          return 1;
        }
        return 0;
      }
      default:
        throw new UsageError(
          action === undefined
            ? 'which action? list, materialize, get or serve'
            : `unknown action "${action}"`,
          usage,
        );
    }
  },
};
