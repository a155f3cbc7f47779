// The dead-letter table: every event that could not be decoded or mapped, with the reason and the
// original bytes, so nothing is lost and it can be replayed after a fix.
import type { Warehouse } from './warehouse.ts';

export interface DeadLetter {
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

export async function recordDeadLetters(warehouse: Warehouse, letters: DeadLetter[]): Promise<void> {
  await warehouse.insert(
    'dead_letters',
    letters.map((letter) => ({
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
  );
}
