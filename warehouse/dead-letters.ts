// The dead-letter table: every event that could not be decoded or mapped, with the reason and the
// original bytes, so nothing is lost and it can be replayed after a fix.
import { bookkeepingTable } from './bookkeeping.ts';
import type { Warehouse } from './warehouse.ts';

const DEAD_LETTERS = bookkeepingTable('dead_letters');

export interface DeadLetter {
  /** Given by the writer when a repeat must keep the same id; generated otherwise. */
  id?: string;
  pipeline: string;
  source: string;
  topic?: string;
  partition?: number;
  offset?: number | string;
  position?: string;
  key?: string | null;
  /** The original event, byte for byte (UTF-8 text, or base64 for binary). */
  original: string;
  error: string;
  stage: string;
}

/** Records dead letters; a repeat under the same `deduplicationToken` records nothing. */
export async function recordDeadLetters(
  warehouse: Warehouse,
  letters: DeadLetter[],
  deduplicationToken?: string,
): Promise<void> {
  await warehouse.insert(
    DEAD_LETTERS,
    letters.map((letter) => ({
      ...(letter.id && { id: letter.id }),
      pipeline: letter.pipeline,
      source: letter.source,
      topic: letter.topic ?? '',
      partition: letter.partition ?? -1,
      offset: String(letter.offset ?? -1),
      position: letter.position ?? '',
      key: letter.key ?? null,
      original: letter.original,
      error: letter.error,
      stage: letter.stage,
    })),
    { deduplicationToken },
  );
}

export interface StoredDeadLetter {
  id: string;
  pipeline: string;
  source: string;
  topic: string;
  partition: number;
  offset: string;
  key: string | null;
  original: string;
  error: string;
  stage: string;
  failed_at: string;
  replayed_at: string | null;
}

export interface DeadLetterFilter {
  pipeline?: string;
  ids?: string[];
  /** Include those already replayed (default: only those still waiting). */
  includeReplayed?: boolean;
  limit?: number;
}

export async function listDeadLetters(
  warehouse: Warehouse,
  filter: DeadLetterFilter = {},
): Promise<StoredDeadLetter[]> {
  const conditions = ['1'];
  if (filter.pipeline) conditions.push('pipeline = {pipeline:String}');
  if (filter.ids?.length) conditions.push('toString(id) IN {ids:Array(String)}');
  if (!filter.includeReplayed) conditions.push('replayed_at IS NULL');
  return warehouse.query<StoredDeadLetter>(
    `SELECT toString(id) AS id, pipeline, source, topic, partition, offset, key, original, error, stage, failed_at, replayed_at
     FROM ${DEAD_LETTERS} WHERE ${conditions.join(' AND ')} ORDER BY failed_at, offset LIMIT {limit:UInt32}`,
    { pipeline: filter.pipeline ?? '', ids: filter.ids ?? [], limit: filter.limit ?? 1_000_000 },
  );
}

/** Marks dead letters as fed back; the mutation is synchronous so a listing right after sees it. */
export async function markReplayed(warehouse: Warehouse, ids: string[]): Promise<void> {
  if (ids.length === 0) return;
  await warehouse.command(
    `ALTER TABLE ${DEAD_LETTERS} UPDATE replayed_at = now64(3) WHERE toString(id) IN {ids:Array(String)} SETTINGS mutations_sync = 1`,
    {
      ids,
    },
  );
}
