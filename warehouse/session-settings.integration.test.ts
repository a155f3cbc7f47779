// The embedded engine keeps one session: a statement's own settings must not stay in it for the
// statements after it (a write-back's join_use_nulls = 1 once turned reused retention counts to 0).
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scratchDir } from '../test/scratch.ts';
import { openWarehouse, type Warehouse } from './index.ts';

let warehouse: Warehouse;

beforeAll(async () => {
  warehouse = await openWarehouse({ kind: 'chdb', path: join(await scratchDir('settings'), 'warehouse') });
});
afterAll(async () => {
  await warehouse?.close();
});

const setting = async (name: string) =>
  (
    await warehouse.query<{ value: string }>('SELECT toString(getSetting({name:String})) AS value', { name })
  )[0]?.value;

describe('statement settings in the embedded warehouse', () => {
  it('apply to their statement only, whether it is a query, a command or a raw read', async () => {
    const before = await setting('join_use_nulls');
    const [own] = await warehouse.query<{ value: string }>(
      "SELECT toString(getSetting('join_use_nulls')) AS value",
      {},
      { join_use_nulls: before === '1' || before === 'true' ? 0 : 1 },
    );
    expect(own?.value).not.toBe(before);
    expect(await setting('join_use_nulls')).toBe(before);
    await warehouse.command('CREATE TABLE t (x UInt8) ENGINE = Memory', {}, { max_block_size: '1234' });
    expect(await setting('max_block_size')).not.toBe('1234');
    const bytes = await warehouse.queryBytes("SELECT toString(getSetting('join_use_nulls'))", 'TabSeparated');
    expect(bytes.toString('utf8').trim()).toBe(before);
  });
});
