// RowBinary rows must land exactly as their JSON lines do: the same rows inserted both ways into
// twin mirrors read back equal, edge values included. Real chDB.
import { describe, expect, it } from 'vitest';
import { useScratchWarehouse } from '../../test/scratch-warehouse.ts';
import { ensureMirrorTable, type MirrorTable } from '../../warehouse/index.ts';
import type { Row } from '../envelope.ts';
import { mirrorLineFormat } from './mirror-rows.ts';
import { rowBinaryFormat, type MirrorRowsPayload } from './row-binary.ts';

const warehouse = useScratchWarehouse('row-binary');

const columns = [
  { name: 'id', type: 'UInt64' },
  { name: 'i8', type: 'Nullable(Int8)' },
  { name: 'u8', type: 'Nullable(UInt8)' },
  { name: 'i16', type: 'Nullable(Int16)' },
  { name: 'u16', type: 'Nullable(UInt16)' },
  { name: 'i32', type: 'Nullable(Int32)' },
  { name: 'u32', type: 'Nullable(UInt32)' },
  { name: 'i64', type: 'Nullable(Int64)' },
  { name: 'u64', type: 'Nullable(UInt64)' },
  { name: 'f64', type: 'Nullable(Float64)' },
  { name: 'flag', type: 'Nullable(Bool)' },
  { name: 'text', type: 'Nullable(String)' },
  { name: 'uuid', type: 'Nullable(UUID)' },
  { name: 'd9', type: 'Nullable(Decimal(9, 4))' },
  { name: 'd18', type: 'Nullable(Decimal(12, 2))' },
  { name: 'd38', type: 'Nullable(Decimal(38, 12))' },
  { name: 'd76', type: 'Nullable(Decimal(76, 20))' },
  { name: 'day', type: 'Nullable(Date32)' },
  { name: 'at', type: "Nullable(DateTime64(6, 'UTC'))" },
  { name: 'at_ms', type: "Nullable(DateTime64(3, 'UTC'))" },
  { name: 'tags', type: 'Array(Nullable(String))' },
  { name: 'counts', type: 'Array(Nullable(Int64))' },
];

const mirror = (name: string): MirrorTable => ({ name: `raw.${name}`, columns, key: ['id'] });

/** Rows of edge values, one column's worth per row, the rest absent (NULL, or [] for arrays). */
const rows: Row[] = [
  { id: 1 },
  { id: 2, i8: -128, u8: 255, i16: -32768, u16: 65535, i32: -2147483648, u32: 4294967295 },
  { id: 3, i8: 127, u8: 0, i16: 32767, u16: 0, i32: 2147483647, u32: 0 },
  { id: 4, i64: '-9223372036854775808', u64: '18446744073709551615' },
  { id: 5, i64: '9223372036854775807', u64: '9007199254740993' },
  { id: 6, i64: -9007199254740991, u64: 9007199254740991 },
  { id: 7, i64: 0, u64: 0, f64: -0 },
  { id: 8, f64: 'inf' },
  { id: 9, f64: '-inf' },
  { id: 10, f64: 'nan' },
  { id: 11, f64: 1e-300, flag: true },
  { id: 12, f64: -1.7976931348623157e308, flag: false },
  { id: 13, f64: 0.1 + 0.2 },
  { id: 14, text: '' },
  { id: 15, text: 'utf8mb4: 😀 Bài làm tốt lắm, 中文, ✓' },
  { id: 16, text: 'lines\n\nand "quotes", \\ backslashes, \t tabs and a \u0000 NUL' },
  { id: 17, text: 'x'.repeat(127) },
  { id: 18, text: 'y'.repeat(128) },
  { id: 19, text: `${'é'.repeat(43)}${'z'.repeat(20_000)}` },
  { id: 20, uuid: '00112233-4455-6677-8899-aabbccddeeff' },
  { id: 21, uuid: 'FFFFFFFF-FFFF-4FFF-BFFF-FFFFFFFFFFFF' },
  { id: 22, d9: '-99999.9999', d18: '9999999999.99', d38: '12345678901234567890123456.123456789012' },
  { id: 23, d9: '0.0001', d18: '-0.00', d38: '-99999999999999999999999999.999999999999' },
  {
    id: 24,
    d9: 12.5,
    d18: -7,
    d38: '0',
    d76: '-12345678901234567890123456789012345678901234567890123456.12345678901234567890',
  },
  { id: 25, d18: '007.10', d76: '0.00000000000000000001' },
  { id: 26, day: 0, at: 0, at_ms: 0 },
  { id: 27, day: -1, at: -1, at_ms: -1 },
  { id: 28, day: -25567, at: -2208988800000000, at_ms: -2208988800000 },
  { id: 29, day: 120529, at: Number.MAX_SAFE_INTEGER, at_ms: 10413791999999 },
  { id: 30, at: '2026-01-01T00:00:01.000000Z' },
  { id: 31, at: '1969-12-31T23:59:59.999999Z' },
  { id: 32, at: '2024-02-29T12:34:56.123456Z' },
  { id: 33, tags: [] },
  { id: 34, tags: ['a', null, '', '😀'], counts: [null, '-9223372036854775808', 3] },
];

const payloads = (start: number): MirrorRowsPayload[] =>
  rows.map((row, index) => ({ row, version: start + index, deleted: index % 5 === 4 }));

async function readBack(name: string): Promise<string[]> {
  const read = await warehouse().query<Record<string, unknown>>(
    `SELECT * EXCEPT _ingested_at FROM raw.${name} ORDER BY id`,
  );
  return read.map((row) => JSON.stringify(row));
}

describe('RowBinary mirror rows', () => {
  it('land as their JSON lines do, edge values included (nulls, ranges, utf8mb4, 38- and 76-digit decimals, dates before 1970)', async () => {
    for (const name of ['edges_json', 'edges_binary']) await ensureMirrorTable(warehouse(), mirror(name));
    const lines = mirrorLineFormat(mirror('edges_json'));
    await warehouse().insertLines('raw.edges_json', {
      format: 'JSONCompactEachRow',
      columns: lines.columns,
      lines: payloads(100).map((pending) => lines.line(pending.row, pending.version, pending.deleted)),
    });
    const binary = rowBinaryFormat(columns);
    const payload = binary?.encode(payloads(100));
    expect(payload).toBeInstanceOf(Buffer);
    await warehouse().insertLines('raw.edges_binary', {
      format: 'RowBinary',
      columns: binary?.columns ?? [],
      payload: payload ?? Buffer.alloc(0),
    });
    const [fromJson, fromBinary] = [await readBack('edges_json'), await readBack('edges_binary')];
    expect(fromJson).toHaveLength(rows.length);
    expect(fromBinary).toEqual(fromJson);
  });

  it('drops a repeated RowBinary insert by its deduplication token, as a repeated line insert', async () => {
    await ensureMirrorTable(warehouse(), mirror('edges_repeated'));
    const binary = rowBinaryFormat(columns);
    const payload = binary?.encode(payloads(1)) ?? Buffer.alloc(0);
    for (let attempt = 0; attempt < 2; attempt++)
      await warehouse().insertLines(
        'raw.edges_repeated',
        { format: 'RowBinary', columns: binary?.columns ?? [], payload },
        { deduplicationToken: 'batch-1:raw.edges_repeated:0' },
      );
    expect(await readBack('edges_repeated')).toHaveLength(rows.length);
  });
});
