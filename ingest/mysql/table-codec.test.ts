import { describe, expect, it } from 'vitest';
import { createPiiPolicy } from '../pii.ts';
import { createMysqlTableCodec } from './table-codec.ts';

const columns = [
  { name: 'id', columnType: 'int(11)', charset: null },
  { name: 'email', columnType: 'varchar(100)', charset: 'utf8mb4' },
  { name: 'password_hash', columnType: 'varchar(100)', charset: 'utf8mb4' },
];
const codecWith = (dropFields: string[]) =>
  createMysqlTableCodec({
    source: 'test',
    database: 'shop',
    table: 'users',
    columns,
    key: ['id'],
    pii: createPiiPolicy({ dropFields, hashFields: [], hashPii: false, hashKey: 'test-key-0123456789' }),
    onUnknownType: () => undefined,
  });

describe('MySQL table codec', () => {
  it("decodes a row in the decoder's own object when it keeps every column", () => {
    const values = { id: 1, email: Buffer.from('a@example.com'), password_hash: 'x' };
    const row = codecWith([]).decodeRow(values);
    expect(row).toBe(values);
    expect(row).toEqual({ id: 1, email: 'a@example.com', password_hash: 'x' });
  });

  it('copies a row it leaves a column out of, so the dropped value does not ride along', () => {
    const values = { id: 1, email: 'a@example.com', password_hash: 'secret' };
    const row = codecWith(['password_hash']).decodeRow(values);
    expect(row).not.toBe(values);
    expect(row).toEqual({ id: 1, email: 'a@example.com' });
  });
});
