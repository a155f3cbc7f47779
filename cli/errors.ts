// Failures the user can act on: printed as one line, without a stack trace.
import { ConfigError } from '../config/index.ts';
import { ConnectError } from '../connectors/index.ts';
import { StackError } from '../stack/index.ts';
import { CaptureError } from '../ingest/index.ts';
import { WarehouseError } from '../warehouse/index.ts';

export function isExpectedError(error: unknown): boolean {
  return (
    error instanceof ConfigError ||
    error instanceof CaptureError ||
    error instanceof WarehouseError ||
    error instanceof ConnectError ||
    error instanceof StackError
  );
}
