// Step one of the Kafka worker: a message's bytes → a change envelope, a drop (Kafka tombstones), or
// a dead letter with the reason. Never throws for bad input.
import { parse as parseLossless } from 'lossless-json';
import { changeEnvelopeSchema, type ChangeEnvelope } from '../envelope.ts';

export type DecodeResult =
  /** `schema`: the Kafka Connect schema a converter with schemas enabled sent along. */
  | { kind: 'ok'; envelope: ChangeEnvelope; schema?: unknown }
  | { kind: 'drop'; reason: string }
  | { kind: 'dead-letter'; reason: string };

/** Events above this size are set aside rather than parsed (default 4 MiB). */
export const DEFAULT_MAX_EVENT_BYTES = 4 * 1024 * 1024;

export function decodeChangeMessage(
  value: Buffer | null,
  maxEventBytes = DEFAULT_MAX_EVENT_BYTES,
): DecodeResult {
  // Debezium follows a delete with a null-valued tombstone so compaction can drop the key.
  if (value === null) return { kind: 'drop', reason: 'tombstone' };
  if (value.length > maxEventBytes) {
    return {
      kind: 'dead-letter',
      reason: `event of ${value.length} bytes exceeds the ${maxEventBytes}-byte limit (--max-event-bytes)`,
    };
  }
  let parsed: unknown;
  try {
    parsed = parseJson(value.toString('utf8'));
  } catch (error) {
    return { kind: 'dead-letter', reason: `not JSON: ${(error as Error).message}` };
  }
  // A converter with schemas enabled wraps the envelope as { schema, payload }.
  let schema: unknown;
  if (parsed !== null && typeof parsed === 'object' && 'payload' in parsed && 'schema' in parsed)
    ({ schema, payload: parsed } = parsed as { schema: unknown; payload: unknown });
  // Debezium's transaction boundaries (`<prefix>.transaction`, provide.transaction.metadata): what
  // they say, each change carries too.
  if (isTransactionBoundary(parsed)) return { kind: 'drop', reason: 'transaction boundary' };
  const result = changeEnvelopeSchema.safeParse(parsed);
  if (!result.success) {
    const issues = result.error.issues
      .map((issue) => `${issue.path.join('.') || '(envelope)'}: ${issue.message}`)
      .join('; ');
    return { kind: 'dead-letter', reason: `not a change envelope: ${issues}` };
  }
  return schema === undefined
    ? { kind: 'ok', envelope: result.data }
    : { kind: 'ok', envelope: result.data, schema };
}

function isTransactionBoundary(value: unknown): boolean {
  if (value === null || typeof value !== 'object' || 'op' in value) return false;
  const { status, id } = value as { status?: unknown; id?: unknown };
  return (status === 'BEGIN' || status === 'END') && typeof id === 'string';
}

/**
 * JSON.parse, except that integers JavaScript cannot hold exactly stay strings (ClickHouse parses
 * them). Such an integer parses to a number beyond 2^53: only a message holding one is parsed again
 * by the slower parser that keeps its digits (a check of the parsed values costs far less than a
 * scan of the text, where the 16-digit microsecond timestamps of nearly every event look alike).
 */
function parseJson(text: string): unknown {
  const parsed: unknown = JSON.parse(text);
  if (!holdsUnsafeInteger(parsed)) return parsed;
  return parseLossless(text, null, (digits) => {
    const number = Number(digits);
    return Number.isSafeInteger(number) || !/^-?\d+$/.test(digits) ? number : digits;
  });
}

function holdsUnsafeInteger(value: unknown): boolean {
  if (typeof value === 'number') return Number.isInteger(value) && !Number.isSafeInteger(value);
  if (typeof value !== 'object' || value === null) return false;
  if (Array.isArray(value)) return value.some(holdsUnsafeInteger);
  for (const key in value) if (holdsUnsafeInteger((value as Record<string, unknown>)[key])) return true;
  return false;
}
