// The endpoint's errors: a startup problem (bad users file, unsafe bind) is a SqlEndpointError; a
// request's failure is a ClickHouse-style exception with its code, shown as ClickHouse shows it.
import { TributaryError } from '../errors/index.ts';

export class SqlEndpointError extends TributaryError {}

/** ClickHouse's error names for the codes the endpoint raises itself. */
export const ERROR_NAMES: Record<number, string> = {
  36: 'BAD_ARGUMENTS',
  62: 'SYNTAX_ERROR',
  73: 'UNKNOWN_FORMAT',
  115: 'UNKNOWN_SETTING',
  164: 'READONLY',
  394: 'QUERY_WAS_CANCELLED',
  452: 'SETTING_CONSTRAINT_VIOLATION',
  456: 'UNKNOWN_QUERY_PARAMETER',
  457: 'BAD_QUERY_PARAMETER',
  497: 'ACCESS_DENIED',
  516: 'AUTHENTICATION_FAILED',
};

/** A refusal by the endpoint itself, worded as ClickHouse words its exceptions. */
export class ClickHouseException extends Error {
  constructor(
    readonly code: number,
    detail: string,
  ) {
    super(`Code: ${code}. DB::Exception: ${detail}. (${ERROR_NAMES[code] ?? 'UNKNOWN_EXCEPTION'})`);
  }
}

// The HTTP status ClickHouse's HTTP handler gives each exception code (exceptionCodeToHTTPStatus).
const STATUS_BY_CODE = new Map<number, number>([
  [194, 401], // REQUIRED_PASSWORD
  [516, 401], // AUTHENTICATION_FAILED
  [192, 401], // UNKNOWN_USER
  [164, 403], // READONLY
  [497, 403], // ACCESS_DENIED
  [291, 403], // DATABASE_ACCESS_DENIED
  [452, 403], // SETTING_CONSTRAINT_VIOLATION
  ...[
    6, 25, 26, 27, 32, 36, 38, 41, 43, 53, 62, 69, 70, 72, 73, 115, 117, 131, 321, 349, 407, 456, 457, 467,
  ].map((code): [number, number] => [code, 400]),
  ...[16, 46, 47, 50, 60, 81, 83].map((code): [number, number] => [code, 404]),
  [159, 408], // TIMEOUT_EXCEEDED
  [394, 499], // QUERY_WAS_CANCELLED (the client went away; nobody reads it)
  [48, 501], // NOT_IMPLEMENTED
]);

export function httpStatusFor(code: number): number {
  return STATUS_BY_CODE.get(code) ?? 500;
}

/** ClickHouse's code in an engine message (`Code: 60. DB::Exception: …`), or 1000 if none. */
export function codeOf(message: string): number {
  const match = /\bCode: (\d+)\./.exec(message);
  return match ? Number(match[1]) : 1000;
}
