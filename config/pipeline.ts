// The service's one config file (`tributary.config.json` or `.yaml`): sources, transport,
// warehouse, packs, jobs, dashboards, PII and the service's own settings. Read once at start,
// `${ENV}` references filled from the environment, validated with one zod schema; every problem is
// reported as one line naming the field path.
import { existsSync, readFileSync } from 'node:fs';
import { extname, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { isLoopback } from '../access/index.ts';
import { redisUrlSchema } from '../features/redis-target.ts';
import { ConfigError, mongoUrlSchema, postgresUrlSchema } from './index.ts';
import { mysqlUrlSchema } from './mysql.ts';

/** A config file that does not validate: one line per wrong field; the CLI exits 2. */
export class PipelineConfigError extends ConfigError {
  readonly exitCode = 2;
  constructor(readonly problems: string[]) {
    super(problems.join('\n'));
  }
}

export const CONFIG_FILE_NAMES = ['tributary.config.yaml', 'tributary.config.yml', 'tributary.config.json'];

const nameSchema = z
  .string()
  .regex(
    /^[a-z][a-z0-9_]{0,40}$/,
    'must start with a letter and use only a-z, 0-9 and _ (it names mirrors, slots and jobs)',
  );

const postgresSourceSchema = z.strictObject({
  kind: z.literal('postgres'),
  /** Names the mirrors (`raw.<name>_<table>`), the slot and the publication. */
  name: nameSchema,
  url: postgresUrlSchema,
  /** `all` (every table with a key), or `schema.table` names. */
  tables: z
    .union([
      z.literal('all'),
      z.array(z.string().regex(/^[\w$]+(\.[\w$]+)?$/, 'must be schema.table')).min(1),
    ])
    .default('all'),
  pack: z.string().min(1).optional(),
});

const mongoSourceSchema = z
  .strictObject({
    kind: z.literal('mongo'),
    name: nameSchema,
    url: mongoUrlSchema,
    /** `database.collection` names; or `database` for every collection of it. */
    collections: z
      .array(z.string().regex(/^[^.\s]+\.[^\s]+$/, 'must be database.collection'))
      .min(1)
      .optional(),
    database: z
      .string()
      .regex(/^[^.\s/]+$/, 'must be a database name')
      .optional(),
    pack: z.string().min(1).default('learning'),
    /**
     * Collections of `database` left out. Default: the collections Tributary's write-back fills
     * (capturing them would feed its own output back in).
     */
    exclude: z.array(z.string().min(1)).optional(),
    /**
     * Runs the pack's sync from the captures (postbook: its denormalized names) with this source's
     * capture and those of the Postgres sources of the same pack; its writes go to `database`.
     */
    sync: z
      .strictObject({
        /** Also publish the sync's domain events to a RabbitMQ exchange. */
        amqpUrl: z
          .string()
          .regex(/^amqps?:\/\/\S+$/, 'must be an amqp:// or amqps:// URL')
          .optional(),
        /** Minutes between reconciliation passes (copies that drifted anyway); 0 for none. */
        reconcileEveryMinutes: z.number().min(0).default(60),
      })
      .optional(),
  })
  .refine((source) => source.sync === undefined || source.database !== undefined, {
    message: 'needs database: the sync writes the documents of one database',
    path: ['sync'],
  })
  .refine((source) => (source.collections === undefined) !== (source.database === undefined), {
    message: 'needs either collections or database (one of them)',
    path: ['collections'],
  });

const mysqlSourceSchema = z.strictObject({
  kind: z.literal('mysql'),
  /** Names the mirrors (`raw.<name>_<database>_<table>`) and the stored binlog position. */
  name: nameSchema,
  /** One database per source (`mysql://USER:PW@HOST:PORT/DATABASE`), as a pack's service has. */
  url: mysqlUrlSchema,
  /** `all` (every base table of the database), or `table`/`database.table` names. */
  tables: z
    .union([
      z.literal('all'),
      z.array(z.string().regex(/^[\w$]+(\.[\w$]+)?$/, 'must be table or database.table')).min(1),
    ])
    .default('all'),
  pack: z.string().min(1).optional(),
});

export const sourceSchema = z.discriminatedUnion('kind', [
  postgresSourceSchema,
  mongoSourceSchema,
  mysqlSourceSchema,
]);
export type SourceConfig = z.infer<typeof sourceSchema>;
export type MysqlSourceConfig = z.infer<typeof mysqlSourceSchema>;
export type PostgresSourceConfig = z.infer<typeof postgresSourceSchema>;
export type MongoSourceConfig = z.infer<typeof mongoSourceSchema>;

const transportSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('direct') }),
  z.strictObject({
    kind: z.literal('kafka'),
    brokers: z.array(z.string().regex(/^[^:\s]+:\d+$/, 'must be HOST:PORT')).min(1),
    group: z.string().regex(/^[A-Za-z0-9._-]+$/, 'must use only letters, digits, ".", "_" and "-"'),
  }),
]);

const warehouseSchema = z.union([
  z.strictObject({ dir: z.string().min(1, 'is required') }),
  z.strictObject({
    url: z.string().regex(/^https?:\/\/[^\s/]+/, 'must be an http(s)://HOST:PORT URL'),
    user: z.string().optional(),
    password: z.string().optional(),
  }),
]);
export type WarehouseConfig = z.infer<typeof warehouseSchema>;

const packSchema = z.strictObject({
  name: z.string().min(1),
  /** The source name whose mirrors the pack's mapping reads (default: the pack's name). */
  source: nameSchema.optional(),
});

export const jobKindSchema = z.string().regex(/^[a-z][a-z0-9_-]*$/, 'must name a job kind, e.g. transform');

const jobSchema = z.strictObject({
  name: z.string().regex(/^[a-z][a-z0-9_-]{0,60}$/, 'must use only a-z, 0-9, "_" and "-"'),
  /** Five fields (minute precision) or six (with seconds first), as node-cron reads them. */
  cron: z.string().min(1),
  timezone: z
    .string()
    .refine((zone) => isTimeZone(zone), 'must be an IANA time zone such as UTC or Asia/Ho_Chi_Minh')
    .default('UTC'),
  kind: jobKindSchema,
  timeoutSeconds: z.number().positive().default(3600),
  retries: z.number().int().min(0).max(20).default(2),
  catchUp: z.enum(['all', 'latest', 'none']).default('latest'),
  /** The kind's own options, validated by the kind's schema when the registry is built. */
  options: z.record(z.string(), z.unknown()).default({}),
});
export type JobConfig = z.infer<typeof jobSchema>;

const schedulerSchema = z
  .strictObject({
    /** A Postgres database for leases and run claims, shared by every scheduler of the pipeline. */
    control: postgresUrlSchema.optional(),
    /** At most this many missed runs per job are caught up (catchUp: all). */
    maxCatchUp: z.number().int().positive().default(100),
    /** First retry waits this long, doubling each time. */
    retryFirstMs: z.number().int().positive().default(5000),
  })
  .default({ maxCatchUp: 100, retryFirstMs: 5000 });

const serviceSchema = z
  .strictObject({
    host: z.string().min(1).default('127.0.0.1'),
    port: z.number().int().min(0).max(65535).default(9464),
    /** How long SIGTERM waits for in-flight batches and runs before exiting anyway. */
    shutdownSeconds: z.number().positive().default(30),
    /** Seconds between incremental transform passes in the `transform`/`all` roles (0: off). */
    transformEverySeconds: z.number().min(0).default(5),
  })
  .default({ host: '127.0.0.1', port: 9464, shutdownSeconds: 30, transformEverySeconds: 5 });

/** The product dashboards, served by the process that holds the warehouse (one process per chDB directory). */
const dashboardsSchema = z.strictObject({
  host: z.string().min(1).default('127.0.0.1'),
  port: z.number().int().min(0).max(65535).default(8080),
  /** Required beyond loopback; `${NAME}` keeps it out of the file. */
  token: z.string().min(8, 'must be 8 characters or more').optional(),
});

/** ClickHouse's HTTP protocol over the embedded warehouse, for analysts' SQL clients. */
const sqlEndpointSchema = z.strictObject({
  host: z.string().min(1).default('127.0.0.1'),
  port: z.number().int().min(0).max(65535).default(8123),
  /** A users file (JSON, `password_sha256_hex`); without it, one read-only `default` user on loopback. */
  users: z.string().min(1).optional(),
});

/**
 * The online feature store: the transform role rewrites the vectors that changed after each
 * transform run that changed something, and all that the clock moved at least every
 * `refreshSeconds` (trailing windows and "days since" move with time); `serve` starts the HTTP
 * feature server over it.
 */
const featuresSchema = z.strictObject({
  /** `${NAME}` keeps a password out of the file (or TRIBUTARY_REDIS_PASSWORD, read when it has none). */
  onlineStore: redisUrlSchema,
  refreshSeconds: z.number().positive().default(3600),
  serve: z
    .strictObject({
      host: z.string().min(1).default('127.0.0.1'),
      port: z.number().int().min(0).max(65535).default(6566),
      /** Required beyond loopback; `${NAME}` keeps it out of the file. */
      token: z.string().min(8, 'must be 8 characters or more').optional(),
    })
    .optional(),
});

const piiSchema = z
  .strictObject({
    keep: z.boolean().default(false),
    keyFile: z.string().optional(),
    drop: z.array(z.string()).optional(),
    hash: z.array(z.string()).optional(),
  })
  .default({ keep: false });

export const pipelineConfigSchema = z
  .strictObject({
    sources: z.array(sourceSchema).min(1, 'needs at least one source'),
    transport: transportSchema.default({ kind: 'direct' }),
    warehouse: warehouseSchema,
    packs: z.array(packSchema).default([]),
    jobs: z.array(jobSchema).default([]),
    scheduler: schedulerSchema,
    service: serviceSchema,
    dashboards: dashboardsSchema.optional(),
    sql: sqlEndpointSchema.optional(),
    features: featuresSchema.optional(),
    pii: piiSchema,
  })
  .superRefine((config, context) => {
    const seen = new Set<string>();
    config.sources.forEach((source, index) => {
      const key = `${source.kind}:${source.name}`;
      if (seen.has(key))
        context.addIssue({
          code: 'custom',
          path: ['sources', index, 'name'],
          message: `repeats the ${source.kind} source "${source.name}"`,
        });
      seen.add(key);
    });
    if (config.features && config.service.transformEverySeconds === 0)
      context.addIssue({
        code: 'custom',
        path: ['features', 'onlineStore'],
        message: "is kept fresh by the service's transform loop: set service.transformEverySeconds above 0",
      });
    // A reader beyond loopback without a token would serve anyone who can reach it.
    for (const [path, endpoint] of [
      [['dashboards'], config.dashboards],
      [['features', 'serve'], config.features?.serve],
    ] as const)
      if (endpoint && !isLoopback(endpoint.host) && endpoint.token === undefined)
        context.addIssue({
          code: 'custom',
          path: [...path, 'token'],
          message: `is required to listen on ${endpoint.host} (beyond loopback)`,
        });
    if (config.sql && !('dir' in config.warehouse))
      context.addIssue({
        code: 'custom',
        path: ['sql'],
        message:
          'serves the embedded warehouse (warehouse.dir) only; a ClickHouse server speaks this protocol itself',
      });
    const jobs = new Set<string>();
    config.jobs.forEach((job, index) => {
      if (jobs.has(job.name))
        context.addIssue({ code: 'custom', path: ['jobs', index, 'name'], message: `repeats "${job.name}"` });
      jobs.add(job.name);
    });
  });
export type PipelineConfig = z.infer<typeof pipelineConfigSchema>;

function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** `sources.0.url` → `sources[0].url`: the path as a user finds it in the file. */
export function formatPath(path: readonly PropertyKey[]): string {
  return path
    .map((part, index) =>
      typeof part === 'number' ? `[${part}]` : `${index === 0 ? '' : '.'}${String(part)}`,
    )
    .join('');
}

/**
 * Replaces `${NAME}` (and `${NAME:-default}`) in every string with the environment's value, so
 * secrets stay out of the file. `$${` writes a literal `${`. An unset variable is a problem named
 * by the field it sits in.
 */
export function substituteEnvironment(
  value: unknown,
  env: NodeJS.ProcessEnv,
  problems: string[],
  path: PropertyKey[] = [],
): unknown {
  if (typeof value === 'string')
    return value.replace(
      /\$(\$?)\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g,
      (match, escape, name, fallback) => {
        if (escape) return match.slice(1);
        const found = env[name as string];
        if (found !== undefined) return found;
        if (fallback !== undefined) return fallback as string;
        problems.push(`${formatPath(path) || '(top)'}: the environment variable ${name} is not set`);
        return '';
      },
    );
  if (Array.isArray(value))
    return value.map((item, index) => substituteEnvironment(item, env, problems, [...path, index]));
  if (value !== null && typeof value === 'object')
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [
        key,
        substituteEnvironment(item, env, problems, [...path, key]),
      ]),
    );
  return value;
}

/** Validates an already-read document (JSON or YAML); throws one line per wrong field. */
export function parsePipelineConfig(document: unknown, env: NodeJS.ProcessEnv = process.env): PipelineConfig {
  const problems: string[] = [];
  const substituted = substituteEnvironment(document, env, problems);
  const result = pipelineConfigSchema.safeParse(substituted);
  if (!result.success)
    for (const issue of result.error.issues)
      problems.push(`${formatPath(issue.path) || '(top)'}: ${issueMessage(issue)}`);
  if (problems.length > 0) throw new PipelineConfigError(problems);
  return result.data as PipelineConfig;
}

function issueMessage(issue: z.core.$ZodIssue): string {
  if (issue.code === 'unrecognized_keys') return `unknown field(s) ${issue.keys.join(', ')}`;
  if (issue.code === 'invalid_union' && issue.path.at(-1) === 'warehouse')
    return 'must be { dir: DIRECTORY } or { url: http(s)://HOST:PORT, user, password }';
  return issue.message;
}

/** The config file to read: the one given, or the first of CONFIG_FILE_NAMES in `cwd`. */
export function findConfigFile(given: string | undefined, cwd = process.cwd()): string {
  if (given !== undefined) {
    const path = resolve(cwd, given);
    if (!existsSync(path))
      throw new PipelineConfigError([`${given}: no such file (create one with "tributary init")`]);
    return path;
  }
  for (const name of CONFIG_FILE_NAMES) {
    const path = resolve(cwd, name);
    if (existsSync(path)) return path;
  }
  throw new PipelineConfigError([
    `no ${CONFIG_FILE_NAMES.join(' or ')} in ${cwd}: create one with "tributary init", or pass --config FILE`,
  ]);
}

/** Reads, substitutes and validates a config file. Relative paths in it are relative to the file. */
export function loadPipelineConfig(file: string, env: NodeJS.ProcessEnv = process.env): PipelineConfig {
  const text = readFileSync(file, 'utf8');
  let document: unknown;
  try {
    document = ['.yaml', '.yml'].includes(extname(file)) ? parseYaml(text) : JSON.parse(text);
  } catch (error) {
    throw new PipelineConfigError([
      `${file}: not valid ${extname(file).slice(1).toUpperCase()}: ${(error as Error).message}`,
    ]);
  }
  const config = parsePipelineConfig(document, env);
  const base = resolve(file, '..');
  if ('dir' in config.warehouse) config.warehouse.dir = resolve(base, config.warehouse.dir);
  if (config.pii.keyFile !== undefined) config.pii.keyFile = resolve(base, config.pii.keyFile);
  return config;
}

/** The warehouse as `openWarehouse` takes it: credentials go into the URL's user info. */
export function warehouseTargetOf(
  warehouse: WarehouseConfig,
): { kind: 'chdb'; path: string } | { kind: 'http'; url: string } {
  if ('dir' in warehouse) return { kind: 'chdb', path: resolve(warehouse.dir) };
  const url = new URL(warehouse.url);
  if (warehouse.user !== undefined) url.username = encodeURIComponent(warehouse.user);
  if (warehouse.password !== undefined) url.password = encodeURIComponent(warehouse.password);
  return { kind: 'http', url: url.toString() };
}

/** The PII environment the capture reads (config/index.ts's `piiPolicyOptions`), from the file's section. */
export function piiEnvironmentOf(
  pii: PipelineConfig['pii'],
  env: NodeJS.ProcessEnv = process.env,
): NodeJS.ProcessEnv {
  return {
    ...env,
    ...(pii.keyFile !== undefined ? { TRIBUTARY_PII_KEY_FILE: pii.keyFile } : {}),
    ...(pii.drop !== undefined ? { TRIBUTARY_PII_DROP: pii.drop.join(',') } : {}),
    ...(pii.hash !== undefined ? { TRIBUTARY_PII_HASH: pii.hash.join(',') } : {}),
  };
}
