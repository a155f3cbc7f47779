import { describe, expect, it } from 'vitest';
import {
  describeRedisTarget,
  isCredentialRefusal,
  parseRedisTarget,
  redisUrlSchema,
} from './redis-target.ts';

describe('Redis URLs', () => {
  it('reads the address, database, TLS and credentials, with Redis defaults', () => {
    expect(parseRedisTarget('redis://127.0.0.1:6380/2', {})).toEqual({
      host: '127.0.0.1',
      port: 6380,
      db: 2,
      tls: false,
    });
    expect(parseRedisTarget('redis://cache', {})).toEqual({ host: 'cache', port: 6379, db: 0, tls: false });
    expect(parseRedisTarget('rediss://model:s%40cr%2Ft@cache.internal:6390/', {})).toEqual({
      host: 'cache.internal',
      port: 6390,
      db: 0,
      tls: true,
      username: 'model',
      password: 's@cr/t',
    });
    expect(parseRedisTarget('redis://:only-password@[::1]:7000/15', {})).toMatchObject({
      host: '::1',
      port: 7000,
      db: 15,
      password: 'only-password',
    });
    expect(parseRedisTarget('redis://:p@h:1', {})).not.toHaveProperty('username');
  });

  it('takes the password from TRIBUTARY_REDIS_PASSWORD when the URL has none, the URL first', () => {
    const env = { TRIBUTARY_REDIS_PASSWORD: 'from-env' };
    expect(parseRedisTarget('redis://h:1', env).password).toBe('from-env');
    expect(parseRedisTarget('redis://reader@h:1', env)).toMatchObject({
      username: 'reader',
      password: 'from-env',
    });
    expect(parseRedisTarget('redis://:in-url@h:1', env).password).toBe('in-url');
    expect(parseRedisTarget('redis://h:1', { TRIBUTARY_REDIS_PASSWORD: '' })).not.toHaveProperty('password');
  });

  it('refuses anything else, saying why and never repeating the URL', () => {
    const cases: [string, RegExp][] = [
      ['cache:6379', /has the scheme "cache"/],
      ['http://:secret-1@h:1', /has the scheme "http"/],
      ['redis://:secret-2@', /is not a URL|names no host/],
      ['redis://:secret-3@h:1/db', /has a path other than a database number/],
      ['redis://:secret-4@h:1/100', /has a path other than a database number/],
      ['redis://:secret-5@h:1/0?tls=1', /has a query or fragment/],
      ['redis://:secret%zz@h:1', /has a badly escaped user or password/],
      ['not a url secret-6', /is not a URL/],
    ];
    for (const [url, why] of cases) {
      let message = '';
      try {
        parseRedisTarget(url, {});
      } catch (error) {
        message = (error as Error).message;
      }
      expect(message, url).toMatch(why);
      expect(message, url).toMatch(/expected redis\[s\]:\/\/\[\[USER\]:PASSWORD@\]HOST\[:PORT\]\[\/DB\]$/);
      expect(message, url).not.toMatch(/secret/);
    }
    expect(redisUrlSchema.safeParse('redis://h:1/3').success).toBe(true);
    expect(redisUrlSchema.safeParse('redis://:secret@h:1/x').error?.issues[0]?.message).toBe(
      'has a path other than a database number; expected redis[s]://[[USER]:PASSWORD@]HOST[:PORT][/DB]',
    );
  });

  it('describes a target without its credentials', () => {
    expect(describeRedisTarget(parseRedisTarget('rediss://u:p@h:1/4', {}))).toBe('rediss://h:1/4');
    expect(describeRedisTarget(parseRedisTarget('redis://[::1]:2', {}))).toBe('redis://[::1]:2/0');
  });

  it('tells refused credentials from other failures', () => {
    expect(isCredentialRefusal('WRONGPASS invalid username-password pair or user is disabled.')).toBe(true);
    expect(isCredentialRefusal('NOAUTH Authentication required.')).toBe(true);
    expect(isCredentialRefusal('connect ECONNREFUSED 127.0.0.1:6379')).toBe(false);
    expect(isCredentialRefusal("NOPERM User model has no permissions to run the 'hset' command")).toBe(false);
  });
});
