// MongoDB positions as mirror versions. A cluster time is a BSON Timestamp (seconds, increment):
// as one 64-bit number, seconds in the high half, it orders changes exactly as the oplog does.
// Debezium's MongoDB events carry the same two halves as `source.ts_ms` and `source.ord`.
import { Timestamp } from 'mongodb';
import type { ChangeSource } from '../envelope.ts';

export function versionOfTimestamp(timestamp: Timestamp): bigint {
  return (BigInt(timestamp.high >>> 0) << 32n) | BigInt(timestamp.low >>> 0);
}

export function timestampOfVersion(version: bigint): Timestamp {
  return new Timestamp({ t: Number(version >> 32n), i: Number(version & 0xffffffffn) });
}

/** The `ts_ms` and `ord` an envelope carries for `version`. */
export function sourcePositionOf(version: bigint): { ts_ms: number; ord: number } {
  return { ts_ms: Number(version >> 32n) * 1000, ord: Number(version & 0xffffffffn) };
}

/** The version of a MongoDB event, or undefined when it carries no position. */
export function mongoVersion(source: Pick<ChangeSource, 'ts_ms' | 'ord'>): bigint | undefined {
  if (source.ord === undefined) return undefined;
  return (BigInt(Math.floor(source.ts_ms / 1000)) << 32n) | BigInt(source.ord);
}
