import { describe, expect, it } from 'vitest';
import { InvariantError, TributaryError } from '../errors/index.ts';
import { ConfigError } from '../config/index.ts';
import { isExpectedError } from './errors.ts';

describe('which failures the CLI prints as one line', () => {
  it('a failure the user can act on, of any TributaryError kind', () => {
    expect(isExpectedError(new TributaryError('the source refused the login'))).toBe(true);
    expect(isExpectedError(new ConfigError('sources.0.url: required'))).toBe(true);
  });

  it('not a broken assumption (a bug: its stack is printed), nor anything else', () => {
    expect(isExpectedError(new InvariantError('no panel x'))).toBe(false);
    expect(isExpectedError(new Error('plain'))).toBe(false);
    expect(isExpectedError('a string')).toBe(false);
  });
});
