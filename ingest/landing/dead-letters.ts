// Rejections as dead-letter records. Ids are derived from the batch's token, so a batch rebuilt
// after a crash records the same letters under the same ids, and no letter is kept twice. A letter
// keeps, for reading, the change as it would have landed (secrets dropped and PII hashed, as in
// the mirrors); the bytes a Kafka message came as go to the dead-letter topic only, because they
// may hold personal data the warehouse must never see.
import { createHash } from 'node:crypto';
import type { DeadLetter } from '../../warehouse/index.ts';
import type { Rejection } from './types.ts';

export function deadLetterRecords(
  pipeline: string,
  rejections: readonly Rejection[],
  tokenBase: string,
): (DeadLetter & { id: string })[] {
  return rejections.map((rejection, index) => {
    const { change } = rejection;
    const original = rejection.original ?? change?.original;
    return {
      id: deterministicUuid(`${tokenBase}:dead-letter:${index}`),
      pipeline,
      source: change?.envelope.source.name ?? rejection.source ?? original?.topic.split('.')[0] ?? '',
      topic: original?.topic,
      partition: original?.partition,
      offset: original?.offset,
      position: change ? String(change.version) : undefined,
      key: original?.key ? original.key.toString('utf8') : null,
      original: change ? JSON.stringify(change.envelope) : '',
      error: rejection.reason,
      stage: rejection.stage,
    };
  });
}

/** A UUID (version 4 layout) that is the same for the same text. */
function deterministicUuid(text: string): string {
  const hex = createHash('sha256').update(text).digest('hex');
  const variant = ((parseInt(hex[16] ?? '0', 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}
