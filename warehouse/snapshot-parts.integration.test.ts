// A snapshot landed in parts (one per Kafka partition) retracts the rows it did not see only once
// every part has landed: before that, the rows of a part still behind look unseen. Real chDB.
import { describe, expect, it } from 'vitest';
import { useScratchWarehouse } from '../test/scratch-warehouse.ts';
import { completeSnapshotPart, ensureMirrorTable, type MirrorTable } from './index.ts';

const warehouse = useScratchWarehouse('snapshot-parts');

const mirror: MirrorTable = {
  name: 'raw.parts_items',
  columns: [
    { name: 'id', type: 'Int64' },
    { name: 'label', type: 'String' },
  ],
  key: ['id'],
};

async function land(rows: [id: number, version: number][]): Promise<void> {
  const values = rows.map(([id, version]) => `(${id}, 'v${version}', ${version}, 0)`).join(', ');
  await warehouse().command(
    `INSERT INTO raw.parts_items (id, label, _version, _is_deleted) VALUES ${values}`,
  );
}

async function live(): Promise<string[]> {
  const rows = await warehouse().query<{ id: string; label: string }>(
    'SELECT id, label FROM raw.parts_items FINAL WHERE _is_deleted = 0 ORDER BY id',
  );
  return rows.map((row) => `${row.id}:${row.label}`);
}

describe('a snapshot completed in parts', () => {
  it('retracts what it did not see once every part landed, not before, and a repeated part changes nothing', async () => {
    await ensureMirrorTable(warehouse(), mirror);
    // An interrupted snapshot (version 10) delivered 1–6; the source deleted 1 and 5 since.
    await land([1, 2, 3, 4, 5, 6].map((id) => [id, 10]));
    // The new snapshot (version 20): partition 0 carries 1–3, partition 1 carries 4–6.
    await land([
      [2, 20],
      [3, 20],
    ]);
    expect(await completeSnapshotPart(warehouse(), mirror, 20, { id: '0', of: 2 })).toBe(false);
    // Partition 1's rows have not landed yet: nothing may be retracted.
    expect(await live()).toEqual(['1:v10', '2:v20', '3:v20', '4:v10', '5:v10', '6:v10']);
    await land([
      [4, 20],
      [6, 20],
    ]);
    expect(await completeSnapshotPart(warehouse(), mirror, 20, { id: '1', of: 2 })).toBe(true);
    expect(await live()).toEqual(['2:v20', '3:v20', '4:v20', '6:v20']);
    // A worker replaying partition 0's marker after a crash: complete, and nothing else changes.
    await land([[7, 30]]);
    expect(await completeSnapshotPart(warehouse(), mirror, 20, { id: '0', of: 2 })).toBe(true);
    expect(await live()).toEqual(['2:v20', '3:v20', '4:v20', '6:v20', '7:v30']);
  });
});
