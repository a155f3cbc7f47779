// Debezium marks the two halves of a primary-key change with Kafka headers: the delete of the old
// key carries `__debezium.newkey`, the create of the new key `__debezium.oldkey`, each holding the
// other key. The native capture's messages carry the same headers, and the worker reads them back
// into the envelope's `keyChange`, so both paths fill a moved row's unchanged values the same way.
import type { IHeaders } from 'kafkajs';
import type { ChangeEnvelope, KeyChange, Row } from '../envelope.ts';
import { sourcePosition } from './dialects.ts';

const HEADER_OF_SIDE = { old: '__debezium.newkey', new: '__debezium.oldkey' } as const;

/** The headers that mark a key change's half; undefined for any other event. */
export function keyChangeHeaders(envelope: ChangeEnvelope): Record<string, string> | undefined {
  const change = envelope.keyChange;
  return change && { [HEADER_OF_SIDE[change.side]]: JSON.stringify(change.otherKey) };
}

/**
 * The key change a message's headers mark, positioned at the event's own source position (read
 * before the worker re-versions anything). Connectors whose header converter does not write JSON
 * still mark the change; only the other key is then unknown, and nothing reads it.
 */
export function keyChangeFromHeaders(
  headers: IHeaders | undefined,
  envelope: ChangeEnvelope,
): KeyChange | undefined {
  const position = sourcePosition(envelope.source);
  if (!headers || position === undefined) return undefined;
  for (const side of ['old', 'new'] as const) {
    const value = headers[HEADER_OF_SIDE[side]];
    if (value === undefined) continue;
    return { side, position, otherKey: parseKey(Array.isArray(value) ? value[0] : value) };
  }
  return undefined;
}

function parseKey(value: Buffer | string | undefined): Row {
  try {
    const parsed: unknown = JSON.parse(String(value ?? ''));
    return parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Row) : {};
  } catch {
    return {};
  }
}
