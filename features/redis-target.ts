// The online store's address: `redis[s]://[[USER]:PASSWORD@]HOST[:PORT][/DB]`, the form Redis' own
// tools and clients take. One parser for the CLI, the feature server and the service's config, so
// that what one accepts the others do. Credentials are kept apart from the address: errors, logs
// and the warehouse's bookkeeping name the address alone.
import { isIP } from 'node:net';
import { z } from 'zod';
import { TributaryError } from '../errors/index.ts';

export class RedisTargetError extends TributaryError {}

export interface RedisTarget {
  host: string;
  port: number;
  db: number;
  /** `rediss://`: TLS, the server's certificate checked against the system's CAs and NODE_EXTRA_CA_CERTS. */
  tls: boolean;
  /** An ACL user (Redis ≥ 6); the default user when absent. */
  username?: string;
  password?: string;
}

/** Read when the URL carries no password, so that it need not be on a command line or in a file. */
export const REDIS_PASSWORD_ENV = 'TRIBUTARY_REDIS_PASSWORD';

export const REDIS_URL_FORM = 'redis[s]://[[USER]:PASSWORD@]HOST[:PORT][/DB]';

const DEFAULT_PORT = 6379;
/** Redis' own bound on `databases` is configurable; 0–99 covers every setup seen in practice. */
const DB = /^\/?(\d{1,2})?\/?$/;

const invalid = (why: string) =>
  // The URL itself is never repeated: it may hold a password.
  new RedisTargetError(`the Redis URL ${why}; expected ${REDIS_URL_FORM}`);

export function parseRedisTarget(url: string, env: NodeJS.ProcessEnv = process.env): RedisTarget {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw invalid('is not a URL');
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:')
    throw invalid(`has the scheme "${parsed.protocol.slice(0, -1)}"`);
  if (parsed.hostname === '') throw invalid('names no host');
  if (parsed.search !== '' || parsed.hash !== '') throw invalid('has a query or fragment');
  const db = DB.exec(parsed.pathname);
  if (!db) throw invalid('has a path other than a database number');
  const decode = (text: string) => {
    try {
      return decodeURIComponent(text);
    } catch {
      throw invalid('has a badly escaped user or password');
    }
  };
  const password = parsed.password !== '' ? decode(parsed.password) : env[REDIS_PASSWORD_ENV] || undefined;
  return {
    // An IPv6 address comes bracketed, as a URL writes it; a socket wants it bare.
    host: parsed.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: parsed.port === '' ? DEFAULT_PORT : Number(parsed.port),
    db: Number(db[1] ?? 0),
    tls: parsed.protocol === 'rediss:',
    ...(parsed.username === '' ? {} : { username: decode(parsed.username) }),
    ...(password === undefined ? {} : { password }),
  };
}

/** A Redis URL where a schema takes one (config, the feature server's options): the parser's rule. */
export const redisUrlSchema = z.string().superRefine((url, context) => {
  try {
    parseRedisTarget(url);
  } catch (error) {
    context.addIssue({ code: 'custom', message: (error as Error).message.replace(/^the Redis URL /, '') });
  }
});

/** TLS to the target: its name checked against the certificate (SNI only for a name, never an address). */
export function tlsOptions(target: RedisTarget): { host: string; servername?: string } {
  return { host: target.host, ...(isIP(target.host) === 0 ? { servername: target.host } : {}) };
}

/** The address without credentials: what errors and logs show. */
export function describeRedisTarget(target: RedisTarget): string {
  const host = target.host.includes(':') ? `[${target.host}]` : target.host;
  return `${target.tls ? 'rediss' : 'redis'}://${host}:${target.port}/${target.db}`;
}

/**
 * The reply a server gives to credentials it refuses or a client without them (`WRONGPASS`,
 * `NOAUTH`, an `AUTH` error): a setup mistake, not an outage worth retrying.
 */
export function isCredentialRefusal(message: string): boolean {
  return /WRONGPASS|NOAUTH|invalid password|invalid username-password|AUTH <password> called without any password/i.test(
    message,
  );
}
