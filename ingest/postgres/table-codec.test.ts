import { describe, expect, it } from 'vitest';
import { createPiiPolicy } from '../pii.ts';
import { createTableCodec } from './table-codec.ts';

const column = (name: string, type: string) => ({
  name,
  type: { name: type, category: 'S', typmod: -1 },
  generated: false,
});

const codec = () =>
  createTableCodec({
    source: 'app',
    schema: 'public',
    table: 'notes',
    columns: [column('id', 'int4'), column('body', 'text'), column('summary', 'text')],
    key: ['id'],
    fullIdentity: false,
    pii: createPiiPolicy({ dropFields: [], hashFields: [], hashPii: false, hashKey: 'test-key-0123456789' }),
    onUnknownType: () => undefined,
    generatedColumnsStreamed: true,
  });

describe('what a row will weigh once its unchanged TOASTed values are filled', () => {
  it('counts each unchanged value at its column last value seen, and at the TOAST threshold before any', () => {
    const notes = codec();
    const unseen = notes.decodeRow({ id: '1', body: undefined, summary: 'short' });
    expect(notes.unchangedBytes(unseen)).toBe(2032);

    notes.decodeRow({ id: '2', body: 'x'.repeat(4096), summary: null });
    const update = notes.decodeRow({ id: '2', body: undefined, summary: undefined });
    expect(notes.unchangedBytes(update)).toBe(4096 + 'short'.length);

    // A value an old tuple logged whole (REPLICA IDENTITY FULL) is carried, not filled.
    const carried = notes.decodeRow({ id: '2', body: undefined, summary: 'new' }, { body: 'y'.repeat(10) });
    expect(notes.unchangedBytes(carried)).toBe(0);
  });
});
