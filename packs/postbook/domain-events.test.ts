// What the captured changes say, as name changes for the sync and as the accounts they created.
import { describe, expect, it } from 'vitest';
import type { SourceChange } from '../../ingest/landing/types.ts';
import { nameChangesOf } from './denormalize.ts';
import { createdAccountOf } from './domain-events.ts';

const AT = Date.parse('2026-10-20T08:00:00Z');

function change(
  op: 'c' | 'u' | 'd',
  where: { table: string } | { collection: string },
  after: unknown,
  version: number,
): SourceChange {
  return {
    envelope: {
      op,
      before: null,
      after: after as SourceChange['envelope']['after'],
      source: { connector: 'test', name: 'pb', db: 'pb', ts_ms: AT, ...where },
    },
    version,
    table: 'pb.x',
  };
}

const user = {
  user_id: '3f0c2a8e-1d5b-4c1e-9a57-0b6a1c2d3e4f',
  username: 'minh_le',
  email: 'minh@mail.test',
  first_name: 'Minh',
  last_name: 'Le',
};

describe('name changes and events of captured changes', () => {
  it.each([
    [
      'an Auth insert',
      change('c', { table: 'users' }, user, 7),
      [{ group: 'username', values: { username: 'minh_le' } }],
    ],
    [
      'a profile document',
      change(
        'u',
        { collection: 'user_profiles' },
        '{"userId":"u1","displayName":"Minh L.","avatarUrl":"a.jpg"}',
        9,
      ),
      [{ group: 'profile', values: { displayName: 'Minh L.', avatarUrl: 'a.jpg' } }],
    ],
    ['a delete', change('d', { table: 'users' }, null, 3), []],
    ['another table', change('u', { table: 'user_sessions' }, { user_id: 'x' }, 4), []],
  ])('%s', (_name, captured, expected) => {
    expect(nameChangesOf(captured).map(({ group, values }) => ({ group, values }))).toEqual(expected);
  });

  it('carries the source position as the version', () => {
    expect(nameChangesOf(change('u', { table: 'users' }, user, 123))[0]?.version).toBe(123n);
  });

  it('an Auth insert created an account; an update or another table did not', () => {
    expect(createdAccountOf(change('c', { table: 'users' }, user, 7))).toEqual({
      userId: user.user_id,
      createdAtMs: AT,
      version: 7n,
    });
    expect(createdAccountOf(change('u', { table: 'users' }, user, 8))).toBeUndefined();
    expect(createdAccountOf(change('c', { table: 'user_sessions' }, user, 9))).toBeUndefined();
  });
});
