// The values a change leaves out (unchanged TOAST, a key change's old row) come from the latest
// version of the row in the mirror: a deleted row has none, and a NULL is a value. Real chDB.
import { describe, expect, it } from 'vitest';
import { useScratchWarehouse } from '../test/scratch-warehouse.ts';
import { ensureMirrorTable, readLatestValues, type MirrorTable } from './index.ts';

const warehouse = useScratchWarehouse('latest-values');

const mirror: MirrorTable = {
  name: 'raw.latest_notes',
  columns: [
    { name: 'tenant', type: 'Int64' },
    { name: 'slug', type: 'String' },
    { name: 'body', type: 'Nullable(String)' },
    { name: 'revision', type: 'Nullable(Int32)' },
  ],
  key: ['tenant', 'slug'],
};

describe('readLatestValues', () => {
  it("reads each key's latest version across parts: its NULLs as NULL, nothing for a deleted row or an unknown key", async () => {
    await ensureMirrorTable(warehouse(), mirror);
    // One insert per version, so the versions of a key sit in different parts, newest not last.
    const versions = [
      "(1, 'a', 'a-old', 1, 10, 0)",
      "(1, 'a', NULL, 3, 30, 0)",
      "(1, 'a', 'a-middle', 2, 20, 0)",
      "(1, 'b', 'b-live', 1, 10, 0)",
      "(2, 'b', 'gone', 1, 10, 0)",
      "(2, 'b', 'gone', 1, 20, 1)",
      "(2, 'c', 'c-2', 2, 20, 0)",
      "(2, 'c', 'c-1', 1, 10, 0)",
    ];
    for (const values of versions)
      await warehouse().command(
        `INSERT INTO raw.latest_notes (tenant, slug, body, revision, _version, _is_deleted) VALUES ${values}`,
      );

    const found = await readLatestValues(
      warehouse(),
      mirror,
      [
        [2, 'c'],
        [1, 'a'],
        [2, 'b'],
        [3, 'x'],
        [1, 'b'],
      ],
      ['body', 'revision'],
    );

    expect(found).toEqual([
      { body: 'c-2', revision: 2 },
      { body: null, revision: 3 },
      undefined,
      undefined,
      { body: 'b-live', revision: 1 },
    ]);
  });
});
