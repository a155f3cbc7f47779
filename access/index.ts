// Who may reach an HTTP endpoint: beyond loopback only a caller presenting the configured token
// (compared in constant time). The dashboards and the feature server share these rules.
import { createHash, timingSafeEqual } from 'node:crypto';

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** The token of an `Authorization: Bearer …` header, if that is what it holds. */
export function bearerToken(header: string | undefined): string | undefined {
  return header?.startsWith('Bearer ') ? header.slice(7) : undefined;
}

const digest = (text: string) => createHash('sha256').update(text).digest();

/** Whether `presented` is `token` (digests compared, so neither length nor content leaks by timing). */
export function tokenMatches(token: string | undefined, presented: string | undefined): boolean {
  return token !== undefined && presented !== undefined && timingSafeEqual(digest(presented), digest(token));
}
