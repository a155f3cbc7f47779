// Failures the user can act on: printed as one line, without a stack trace.
import { InvariantError, TributaryError } from '../errors/index.ts';

export function isExpectedError(error: unknown): boolean {
  return error instanceof TributaryError && !(error instanceof InvariantError);
}
