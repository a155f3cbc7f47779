// The base of every failure a user can act on: it says whether retrying can help, keeps its cause
// and context, and is printed by the CLI as one line (other errors are bugs and keep their stack).
export interface TributaryErrorOptions {
  retriable?: boolean;
  cause?: unknown;
  context?: Record<string, unknown>;
}

export class TributaryError extends Error {
  readonly retriable: boolean;
  readonly context: Record<string, unknown>;
  constructor(message: string, options: TributaryErrorOptions = {}) {
    super(message, { cause: options.cause });
    this.name = new.target.name;
    this.retriable = options.retriable ?? false;
    this.context = options.context ?? {};
  }
}

/**
 * A broken assumption inside Tributary (a bug, not something the user can fix): a TributaryError
 * so callers handle one kind of error, but printed with its stack, since the stack is what a fix needs.
 */
export class InvariantError extends TributaryError {}
