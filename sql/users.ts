// Who may use the SQL endpoint: users with password hashes (SHA-256, as in ClickHouse's users.xml),
// read-only unless said otherwise, each with limits the engine enforces on every query.
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { SqlEndpointError } from './errors.ts';

const limitsSchema = z
  .object({
    /** Rows a result may have (`max_result_rows`, overflow throws); 0 = no limit. */
    max_result_rows: z.number().int().nonnegative().optional(),
    /** Bytes of memory a query may use (`max_memory_usage`); 0 = the engine's default. */
    max_memory_usage: z.number().int().nonnegative().optional(),
    /** Seconds a query may run (`max_execution_time`); 0 = no limit. */
    max_execution_time: z.number().nonnegative().optional(),
  })
  .strict();

export const sqlUserSchema = z
  .object({
    name: z.string().regex(/^[A-Za-z0-9_.@-]{1,64}$/, 'must be 1-64 of A-Z a-z 0-9 _ . @ -'),
    /** SHA-256 of the password, hex (`echo -n 'pw' | sha256sum`); absent = no password. */
    password_sha256_hex: z
      .string()
      .regex(/^[0-9a-fA-F]{64}$/, 'must be 64 hex digits (echo -n PASSWORD | sha256sum)')
      .optional(),
    /** Read-only by default: no writes, no DDL, no settings that lift the limits below. */
    readonly: z.boolean().default(true),
    /** A read-only user who may read the pipeline's own `tributary` database (dashboards' health pages). */
    bookkeeping: z.boolean().default(false),
    limits: limitsSchema.default({}),
  })
  .strict();

export const sqlUsersSchema = z
  .object({ users: z.array(sqlUserSchema).min(1, 'must name at least one user') })
  .strict()
  .refine(
    (config) => new Set(config.users.map((user) => user.name)).size === config.users.length,
    'user names must be unique',
  );

export type SqlUser = z.infer<typeof sqlUserSchema>;
/** A user as written in a file or options (defaults not yet applied). */
export type SqlUserInput = z.input<typeof sqlUserSchema>;
export type SqlUserLimits = z.infer<typeof limitsSchema>;

/** With no user list, one `default` user without a password: read-only, and loopback only. */
export const DEFAULT_USERS: readonly SqlUser[] = [
  { name: 'default', readonly: true, bookkeeping: false, limits: {} },
];

/** Reads and validates a users file (JSON: `{ "users": [ … ] }`); errors name the field. */
export function loadUsersFile(path: string): SqlUser[] {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new SqlEndpointError(`cannot read the users file ${path}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  return parseUsers(raw, path);
}

export function parseUsers(raw: unknown, where = 'users'): SqlUser[] {
  const parsed = sqlUsersSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new SqlEndpointError(`${where}: ${issue.path.join('.') || 'users'} ${issue.message}`);
  }
  return parsed.data.users;
}

export function hashPassword(password: string): string {
  return createHash('sha256').update(password, 'utf8').digest('hex');
}

/**
 * The user these credentials name, or undefined. Every user's hash is compared in constant time,
 * and an unknown name costs the same, so timing tells nothing about names or passwords.
 */
export function authenticate(users: readonly SqlUser[], name: string, password: string): SqlUser | undefined {
  const presented = createHash('sha256').update(password, 'utf8').digest();
  let found: SqlUser | undefined;
  for (const user of users) {
    const expected = Buffer.from(user.password_sha256_hex ?? hashPassword(''), 'hex');
    const matches = timingSafeEqual(presented, expected);
    if (matches && user.name === name) found = user;
  }
  return found;
}

/** True when every user has a password: only then may the endpoint listen beyond loopback. */
export function everyUserHasPassword(users: readonly SqlUser[]): boolean {
  return users.every((user) => user.password_sha256_hex !== undefined);
}
