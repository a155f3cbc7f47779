// The one place that reads the environment and validates settings. Every area has its own zod
// schema; commands parse once at start and hand typed options to the modules.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  existsSync,
  linkSync,
  mkdirSync,
  readFileSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { z } from 'zod';
import { TributaryError } from '../errors/index.ts';
import {
  BATCH_DEFAULTS,
  DEFAULT_DROP_FIELDS,
  DEFAULT_HASH_FIELDS,
  type PiiPolicyOptions,
} from '../ingest/index.ts';

/** A setting or flag that does not validate; the message names the field. */
export class ConfigError extends TributaryError {}

const commaList = z.string().transform((value) =>
  value
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean),
);

export const postgresUrlSchema = z.string({ error: 'is required' }).refine((value) => {
  try {
    const url = new URL(value);
    return (url.protocol === 'postgres:' || url.protocol === 'postgresql:') && url.hostname !== '';
  } catch {
    return false;
  }
}, 'must be a URL like postgres://USER:PASSWORD@HOST:PORT/DATABASE');

const sourceNameSchema = z
  .string()
  .regex(
    /^[a-z][a-z0-9_]{0,40}$/,
    'must start with a letter and use only a-z, 0-9 and _ (it names tables and the slot)',
  );

export const piiEnvironmentSchema = z.object({
  TRIBUTARY_PII_KEY: z.string().min(16, 'must be at least 16 characters').optional(),
  TRIBUTARY_PII_KEY_FILE: z.string().default('.tributary/pii.key'),
  TRIBUTARY_PII_DROP: commaList.optional(),
  TRIBUTARY_PII_HASH: commaList.optional(),
});

export const mongoUrlSchema = z
  .string({ error: 'is required' })
  .regex(/^mongodb(\+srv)?:\/\/[^/\s]+/, 'must be a URL like mongodb://HOST:PORT/?replicaSet=rs0');

const destinationSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('warehouse'), warehouse: z.string().min(1, 'is required') }),
  z.object({
    kind: z.literal('kafka'),
    brokers: z.array(z.string().regex(/^[^:\s]+:\d+$/, 'must be HOST:PORT')).min(1),
  }),
]);

export const captureSettings = {
  sourceName: sourceNameSchema,
  destination: destinationSchema,
  untilCaughtUp: z.boolean(),
  keepPii: z.boolean(),
  batchRows: z.number().int().positive().default(BATCH_DEFAULTS.rows),
  batchDelayMs: z.number().int().positive().default(BATCH_DEFAULTS.delayMs),
};

export const captureConfigSchema = z.object({
  source: postgresUrlSchema,
  tables: z.discriminatedUnion('kind', [
    z.object({ kind: z.literal('all') }),
    z.object({
      kind: z.literal('list'),
      tables: z.array(z.string().regex(/^[\w$]+(\.[\w$]+)?$/, 'must be schema.table')).min(1),
    }),
  ]),
  ...captureSettings,
});
export type CaptureConfig = z.infer<typeof captureConfigSchema>;

export const mongoCaptureConfigSchema = z.object({
  source: mongoUrlSchema,
  collections: z.discriminatedUnion('kind', [
    z.object({
      kind: z.literal('list'),
      collections: z.array(z.string().regex(/^[^.\s]+\.[^\s]+$/, 'must be database.collection')).min(1),
    }),
    z.object({
      kind: z.literal('database'),
      database: z.string().regex(/^[^.\s/]+$/, 'must be a database name'),
    }),
  ]),
  /** The pack whose collection declarations give the mirrors their typed columns. */
  pack: z.string().min(1),
  ...captureSettings,
});
export type MongoCaptureConfig = z.infer<typeof mongoCaptureConfigSchema>;

export const demoConfigSchema = z.object({
  pack: z.string().min(1),
  users: z.number().int().min(1).max(1_000_000),
  days: z.number().int().min(1).max(3650),
  seed: z.number().int(),
  dataDir: z.string().min(1),
});
export type DemoConfig = z.infer<typeof demoConfigSchema>;

/** Validates `input` and turns zod issues into one line per field: `--source must be a URL…`. */
export function parseConfig<T extends z.ZodType>(schema: T, input: unknown, fieldPrefix = '--'): z.infer<T> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  // Name the flag the user typed: the last named segment (`destination.brokers.0` → `--brokers`).
  const lines = result.error.issues.map((issue) => {
    const field = issue.path.filter((part) => typeof part === 'string').at(-1) ?? '';
    return `${fieldPrefix}${kebab(field)} ${issue.message}`;
  });
  throw new ConfigError(lines.join('; '));
}

function kebab(name: string): string {
  return name.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`);
}

/**
 * The PII policy settings: field lists from the environment (or the defaults), and the hash key
 * from TRIBUTARY_PII_KEY or a key file created on first use (kept out of the warehouse on purpose).
 */
export function piiPolicyOptions(keepPii: boolean, env: NodeJS.ProcessEnv = process.env): PiiPolicyOptions {
  const parsed = parseConfig(piiEnvironmentSchema, env, '');
  return {
    dropFields: parsed.TRIBUTARY_PII_DROP ?? DEFAULT_DROP_FIELDS,
    hashFields: parsed.TRIBUTARY_PII_HASH ?? DEFAULT_HASH_FIELDS,
    hashPii: !keepPii,
    hashKey: parsed.TRIBUTARY_PII_KEY ?? loadOrCreateKey(resolve(parsed.TRIBUTARY_PII_KEY_FILE)),
  };
}

/**
 * The installation's own key: created at random on first use (mode 0600). A key others can read,
 * or one committed to a repository, lets anyone confirm a guessed email against the warehouse, so
 * such a file is refused rather than used.
 */
export function loadOrCreateKey(path: string): string {
  if (!existsSync(path)) {
    mkdirSync(dirname(path), { recursive: true });
    const key = randomBytes(32).toString('hex');
    // Written aside, then linked into place: of the processes a split deployment starts at once,
    // one key wins and the others read it (a plain write would let each hash with its own).
    const aside = `${path}.${process.pid}.${randomBytes(4).toString('hex')}`;
    writeFileSync(aside, `${key}\n`, { mode: 0o600 });
    chmodSync(aside, 0o600);
    try {
      linkSync(aside, path);
      return key;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    } finally {
      unlinkSync(aside);
    }
  }
  const mode = statSync(path).mode & 0o777;
  if ((mode & 0o077) !== 0)
    throw new ConfigError(
      `the PII key file ${path} can be read by other users (mode ${mode.toString(8)}): run chmod 600 ${path}`,
    );
  if (trackedByGit(path))
    throw new ConfigError(
      `the PII key file ${path} is tracked by git, so everyone with the repository has the key: ` +
        `remove it from the repository (git rm --cached), and set TRIBUTARY_PII_KEY_FILE to a path outside it ` +
        `(a new key means new hashes: see "Rotating the PII key" in the README)`,
    );
  const key = readFileSync(path, 'utf8').trim();
  if (key.length < 16) throw new ConfigError(`the PII key file ${path} holds fewer than 16 characters`);
  return key;
}

/** Whether git tracks the file; false where git or a repository is absent. */
function trackedByGit(path: string): boolean {
  try {
    execFileSync('git', ['ls-files', '--error-unmatch', basename(path)], {
      cwd: dirname(path),
      stdio: 'ignore',
    });
    return true;
  } catch {
    return false;
  }
}
export { dashboardsToken, featureServerToken } from './tokens.ts';
