// Warehouse errors say whether retrying can help and keep what the server said.

export class WarehouseError extends Error {
  readonly retriable: boolean;
  readonly context: Record<string, unknown>;
  constructor(
    message: string,
    options: { retriable: boolean; cause?: unknown; context?: Record<string, unknown> },
  ) {
    super(message, { cause: options.cause });
    this.name = 'WarehouseError';
    this.retriable = options.retriable;
    this.context = options.context ?? {};
  }
}

/** Connection-level failures (refused, reset, timeouts) can be retried; SQL errors cannot. */
export function isRetriableWarehouseFailure(error: unknown): boolean {
  const code = (error as { code?: string } | undefined)?.code;
  return code === 'ECONNREFUSED' || code === 'ECONNRESET' || code === 'ETIMEDOUT' || code === 'EPIPE';
}
