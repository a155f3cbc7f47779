// A migrated embedded warehouse for one test file: opened before its tests, closed after them.
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { migrate, openWarehouse, type Warehouse } from '../warehouse/index.ts';
import { scratchDir } from './scratch.ts';

/** Call at the top of a test file; the returned function gives the warehouse inside its tests. */
export function useScratchWarehouse(prefix: string): () => Warehouse {
  let warehouse: Warehouse | undefined;
  beforeAll(async () => {
    warehouse = await openWarehouse({ kind: 'chdb', path: join(await scratchDir(prefix), 'warehouse') });
    await migrate(warehouse);
  });
  afterAll(async () => {
    await warehouse?.close();
  });
  return () => {
    if (!warehouse) throw new Error('the scratch warehouse is opened in beforeAll');
    return warehouse;
  };
}
