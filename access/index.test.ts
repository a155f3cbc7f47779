import { describe, expect, it } from 'vitest';
import { bearerToken, isLoopback, tokenMatches } from './index.ts';

describe('access', () => {
  it.each([
    ['127.0.0.1', true],
    ['127.8.9.10', true],
    ['localhost', true],
    ['::1', true],
    ['0.0.0.0', false],
    ['10.0.0.1', false],
    ['::', false],
    ['127.0.0.1.example.com', false],
  ])('isLoopback(%s) is %s', (host, loopback) => expect(isLoopback(host)).toBe(loopback));

  it('reads a bearer token and nothing else', () => {
    expect(bearerToken('Bearer abc def')).toBe('abc def');
    expect(bearerToken('Basic abc')).toBeUndefined();
    expect(bearerToken('bearer abc')).toBeUndefined();
    expect(bearerToken(undefined)).toBeUndefined();
  });

  it('accepts exactly the token, whatever the lengths, and nothing without one set', () => {
    expect(tokenMatches('secret-token', 'secret-token')).toBe(true);
    expect(tokenMatches('secret-token', 'secret-token ')).toBe(false);
    expect(tokenMatches('secret-token', 's')).toBe(false);
    expect(tokenMatches('secret-token', undefined)).toBe(false);
    expect(tokenMatches(undefined, 'anything')).toBe(false);
    expect(tokenMatches(undefined, undefined)).toBe(false);
  });
});
