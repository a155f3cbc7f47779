// The mirror writer's refusal handling against a warehouse that refuses blocks holding a bad value,
// as ClickHouse does (CANNOT_PARSE_TEXT): the block is halved until the refused rows stand alone.
import { describe, expect, it } from 'vitest';
import { WarehouseError } from '../../warehouse/errors.ts';
import type { SerializedRows, Warehouse } from '../../warehouse/index.ts';
import type { SourceChange } from '../landing/types.ts';
import type { SourceTable } from '../source-table.ts';
import { MirrorWriter } from './mirror-writer.ts';

const table: SourceTable = {
  source: 's',
  schema: 'public',
  table: 't',
  key: ['id'],
  columns: [
    { name: 'id', clickhouseType: 'Int32', encoding: 'plain', isArray: false, sourceType: 'int4' },
    { name: 'v', clickhouseType: 'String', encoding: 'plain', isArray: false, sourceType: 'text' },
  ],
};

/** Records inserts by token; refuses any block with a line containing BAD. */
function refusingWarehouse() {
  const inserts: { token: string; ids: number[] }[] = [];
  const warehouse = {
    target: { kind: 'chdb', path: '/nowhere' },
    command: async () => undefined,
    query: async () => [],
    insert: async () => undefined,
    queryBytes: async () => Buffer.alloc(0),
    close: async () => undefined,
    insertLines: async (_table: string, batch: SerializedRows, options?: { deduplicationToken?: string }) => {
      if (batch.lines.some((line) => line.includes('BAD')))
        throw new WarehouseError('warehouse statement failed: Code: 27. DB::Exception: Cannot parse input', {
          retriable: false,
        });
      inserts.push({
        token: options?.deduplicationToken ?? '',
        ids: batch.lines.map((line) => (JSON.parse(line) as number[])[0] as number),
      });
    },
  } as unknown as Warehouse;
  return { warehouse, inserts };
}

const change = (id: number, v: string): SourceChange => ({
  envelope: { op: 'c', after: { id, v }, source: { connector: 'postgresql', name: 's', db: 'd', ts_ms: 0 } },
  version: id,
  table: 's.public.t',
});

describe('the mirror writer', () => {
  it('isolates refused rows by halving the block, with tokens a replay derives the same way', async () => {
    const changes = Array.from({ length: 8 }, (_, index) =>
      change(index, index === 2 || index === 7 ? 'BAD' : 'ok'),
    );
    const first = refusingWarehouse();
    const writer = new MirrorWriter(first.warehouse);
    await writer.register(table);
    const result = await writer.write(changes, 'batch');
    expect(result.rejected.map((rejection) => rejection.change?.version)).toEqual([2, 7]);
    expect(result.rejected[0]?.reason).toMatch(/^the warehouse refused the row: .*Code: 27/);
    expect(result.rowsByMirror.get('raw.s_t')).toBe(6);
    expect(first.inserts.flatMap((insert) => insert.ids).sort()).toEqual([0, 1, 3, 4, 5, 6]);
    // A replay splits the same way: the same tokens for the same rows.
    const replay = refusingWarehouse();
    const again = new MirrorWriter(replay.warehouse);
    await again.register(table);
    await again.write(changes, 'batch');
    expect(replay.inserts).toEqual(first.inserts);
    // [0…3] holds row 2: [0, 1] lands, [2, 3] splits into refused [2] and [3]; likewise [4…7] for 7.
    expect(first.inserts.map((insert) => insert.token)).toEqual([
      'batch:raw.s_t:0/a/a',
      'batch:raw.s_t:0/a/b/b',
      'batch:raw.s_t:0/b/a',
      'batch:raw.s_t:0/b/b/a',
    ]);
  });

  it('refuses changes of a table it has no mirror for, and lands the rest', async () => {
    const { warehouse, inserts } = refusingWarehouse();
    const writer = new MirrorWriter(warehouse);
    await writer.register(table);
    const stranger = { ...change(9, 'x'), table: 's.public.unknown' };
    const result = await writer.write([change(1, 'ok'), stranger], 'batch');
    expect(result.rejected).toEqual([
      { change: stranger, stage: 'mirror', reason: 'no mirror is registered for s.public.unknown' },
    ]);
    expect(inserts).toEqual([{ token: 'batch:raw.s_t:0', ids: [1] }]);
  });
});
