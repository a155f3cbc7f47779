// Warehouse errors say whether retrying can help, keep what the server said, and tell a block
// ClickHouse refused for its data apart from a warehouse that is failing.
import { TributaryError, type TributaryErrorOptions } from '../errors/index.ts';

export class WarehouseError extends TributaryError {
  /** ClickHouse's error code (`Code: 27. DB::Exception…`), when the server gave one. */
  readonly clickhouseCode: number | undefined;
  constructor(message: string, options: TributaryErrorOptions & { retriable: boolean }) {
    super(message, options);
    const code = /\bCode: (\d+)\./.exec(message)?.[1];
    this.clickhouseCode = code === undefined ? undefined : Number(code);
  }

  /** The insert failed because of a value in it (parse, type, range), not because of the warehouse. */
  get refusedData(): boolean {
    return this.clickhouseCode !== undefined && DATA_ERROR_CODES.has(this.clickhouseCode);
  }
}

// CANNOT_PARSE_TEXT, CANNOT_PARSE_ESCAPE_SEQUENCE, CANNOT_PARSE_QUOTED_STRING,
// CANNOT_PARSE_INPUT_ASSERTION_FAILED, ATTEMPT_TO_READ_AFTER_EOF, CANNOT_PARSE_DATE,
// CANNOT_PARSE_DATETIME, TYPE_MISMATCH, ARGUMENT_OUT_OF_BOUND, CANNOT_CONVERT_TYPE,
// CANNOT_PARSE_NUMBER, INCORRECT_DATA, TOO_LARGE_STRING_SIZE, VALUE_IS_OUT_OF_RANGE_OF_DATA_TYPE,
// CANNOT_INSERT_NULL_IN_ORDINARY_COLUMN, DECIMAL_OVERFLOW, CANNOT_PARSE_UUID, CANNOT_PARSE_BOOL.
const DATA_ERROR_CODES = new Set([
  6, 25, 26, 27, 32, 38, 41, 53, 69, 70, 72, 117, 131, 321, 349, 407, 376, 467,
]);

/**
 * Failures that can pass can be retried: connection-level ones (refused, reset, timeouts) and a
 * full disk (space can be freed); SQL errors cannot.
 */
export function isRetriableWarehouseFailure(error: unknown): boolean {
  const code = (error as { code?: string } | undefined)?.code;
  if (code === 'ECONNREFUSED' || code === 'ECONNRESET' || code === 'ETIMEDOUT' || code === 'EPIPE')
    return true;
  const message = error instanceof Error ? error.message : '';
  return DISK_FULL.test(message);
}

/** ClickHouse's NOT_ENOUGH_SPACE (243), or a write that failed with ENOSPC. */
const DISK_FULL = /\bCode: 243\.|No space left on device|ENOSPC|NOT_ENOUGH_SPACE/;
