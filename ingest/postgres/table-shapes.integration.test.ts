// Native capture over the table shapes users have (test/table-shapes.ts): compound keys of every key
// type, each replica identity, TOASTed text and jsonb left unchanged by updates and key changes.
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { expectMirrorEqualsSource, expectNoDuplicateVersions } from '../../test/mirror-equality.ts';
import { createTestDatabase, dropTestDatabase, withClient } from '../../test/postgres.ts';
import { scratchDir } from '../../test/scratch.ts';
import {
  describeShape,
  keyColumns,
  keyPool,
  mirrorKey,
  shapeDdl,
  shapeWorkload,
  ShapeWriter,
  tableShape,
} from '../../test/table-shapes.ts';
import { openWarehouse, type Warehouse } from '../../warehouse/index.ts';
import { WarehouseSink } from '../landing/warehouse-sink.ts';
import { createPiiPolicy } from '../pii.ts';
import { runPostgresCapture } from './capture.ts';

let warehouse: Warehouse;
const pii = createPiiPolicy({
  dropFields: [],
  hashFields: [],
  hashPii: false,
  hashKey: 'shape-key-0123456789',
});

beforeAll(async () => {
  warehouse = await openWarehouse({ kind: 'chdb', path: join(await scratchDir('shapes'), 'warehouse') });
});
afterAll(async () => {
  await warehouse?.close();
});

describe('native capture over table shapes', () => {
  it('mirrors every shape exactly: compound keys, replica identities, unchanged TOAST across updates and key changes', async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        tableShape.chain((shape) =>
          fc.record({
            shape: fc.constant(shape),
            pool: keyPool(shape),
            beforeSnapshot: shapeWorkload(10, { minLength: 5, maxLength: 15 }),
            afterSnapshot: shapeWorkload(10, { minLength: 20, maxLength: 50 }),
          }),
        ),
        async ({ shape, pool, beforeSnapshot, afterSnapshot }) => {
          const url = await createTestDatabase('shape');
          const source = `shape${run++}`;
          const writer = new ShapeWriter('items', shape, pool);
          await withClient(url, async (client) => {
            await client.query(shapeDdl('items', shape));
            await writer.apply(client, beforeSnapshot);
            const capture = () =>
              runPostgresCapture({
                sourceUrl: url,
                sourceName: source,
                tables: { kind: 'all' },
                sink: new WarehouseSink(warehouse),
                pii,
                untilCaughtUp: true,
                // Small batches, so a row's versions fall into different batches too.
                batchRows: 7,
              });
            await capture();
            await writer.apply(client, afterSnapshot);
            await capture();
            const mirror = `raw.${source}_items`;
            const context = describeShape(shape);
            await expectMirrorEqualsSource(
              { client, warehouse, table: 'items', mirror, key: keyColumns(shape) },
              context,
            );
            await expectNoDuplicateVersions(warehouse, mirror, mirrorKey(shape));
          });
          await dropTestDatabase(url);
        },
      ),
      { numRuns: 8, seed: 20261203, endOnFailure: true },
    );
  });
});
