// The one error class of the local stack: a service that cannot be resolved, started or stopped.
export class StackError extends Error {
  readonly retriable: boolean;
  readonly context: Record<string, unknown>;
  constructor(
    message: string,
    options: { retriable?: boolean; cause?: unknown; context?: Record<string, unknown> } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = 'StackError';
    this.retriable = options.retriable ?? false;
    this.context = options.context ?? {};
  }
}
