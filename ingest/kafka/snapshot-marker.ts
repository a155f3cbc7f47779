// The end of a native snapshot on Kafka. A snapshot taken again after a capture died during the
// first one must retract the rows the first one published that the source has deleted since; the
// direct capture does it in one statement, but on Kafka a table's rows are spread over partitions
// that workers land independently. So the capture ends its snapshot with a marker on every
// partition of the table's topic, after that partition's rows; a worker records each marker it
// lands, and once every partition's is recorded, the rows the snapshot did not see are retracted.
// Markers have no key and carry SNAPSHOT_COMPLETED_HEADER: other consumers can skip them by it.
import type { IHeaders, Message } from 'kafkajs';
import { z } from 'zod';
import type { SourceVersion } from '../envelope.ts';
import type { SourceTable } from '../source-table.ts';
import { SNAPSHOT_COMPLETED_HEADER } from './headers.ts';

const markerSchema = z.object({
  source: z.string().min(1),
  schema: z.string(),
  table: z.string().min(1),
  /** The snapshot rows' `_version`, as text (a MongoDB version exceeds a JSON number). */
  version: z.string().regex(/^\d+$/, 'a decimal version'),
  /** How many partitions carry a marker of this snapshot. */
  partitions: z.number().int().positive(),
});

export type SnapshotMarker = z.infer<typeof markerSchema>;

/** One marker per partition of the table's topic, each to be sent after that partition's snapshot rows. */
export function snapshotMarkers(
  table: Pick<SourceTable, 'source' | 'schema' | 'table'>,
  version: SourceVersion,
  partitions: number,
  headers: IHeaders,
): Message[] {
  const marker: SnapshotMarker = {
    source: table.source,
    schema: table.schema,
    table: table.table,
    version: String(version),
    partitions,
  };
  const value = JSON.stringify(marker);
  return Array.from({ length: partitions }, (_, partition) => ({
    key: null,
    value,
    partition,
    headers: { ...headers, [SNAPSHOT_COMPLETED_HEADER]: '1' },
  }));
}

export function isSnapshotMarker(headers: IHeaders | undefined): boolean {
  return headers?.[SNAPSHOT_COMPLETED_HEADER] !== undefined;
}

/** The marker a message carries, or why it is not one. */
export function readSnapshotMarker(
  value: Buffer | null,
): { ok: true; marker: SnapshotMarker } | { ok: false; reason: string } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value?.toString() ?? 'null');
  } catch (error) {
    return { ok: false, reason: `a snapshot marker that is not JSON: ${(error as Error).message}` };
  }
  const result = markerSchema.safeParse(parsed);
  if (!result.success) {
    const issue = result.error.issues[0];
    return { ok: false, reason: `a malformed snapshot marker: ${issue?.path.join('.')}: ${issue?.message}` };
  }
  return { ok: true, marker: result.data };
}
