// Capture errors carry whether a retry can help and a message that tells the user what to do.

export class CaptureError extends Error {
  readonly retriable: boolean;
  readonly context: Record<string, unknown>;
  constructor(
    message: string,
    options: { retriable?: boolean; cause?: unknown; context?: Record<string, unknown> } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = 'CaptureError';
    this.retriable = options.retriable ?? false;
    this.context = options.context ?? {};
  }
}
