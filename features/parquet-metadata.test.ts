import { describe, expect, it } from 'vitest';
import { readKeyValueMetadata, withKeyValueMetadata } from './parquet-metadata.ts';

// FileMetaData in Thrift's compact protocol: version (1, i32) = 2, num_rows (3, i64) = 5,
// created_by (6, binary) = "ch", then the stop byte.
const footer = Buffer.from([0x15, 0x04, 0x26, 0x0a, 0x38, 0x02, 0x63, 0x68, 0x00]);

describe('Parquet footer metadata', () => {
  it('inserts key_value_metadata (field 5) between the fields before and after it', () => {
    const patched = withKeyValueMetadata(footer, { 'tributary.pack': 'learning' });
    expect(readKeyValueMetadata(patched)).toEqual({ 'tributary.pack': 'learning' });
    // Fields 1 and 3 unchanged, then field 5 (delta 2, list), created_by re-headed as delta 1.
    expect([...patched.subarray(0, 5)]).toEqual([0x15, 0x04, 0x26, 0x0a, 0x29]);
    expect([...patched.subarray(-5)]).toEqual([0x18, 0x02, 0x63, 0x68, 0x00]);
  });

  it('replaces keys it sets again and keeps the others', () => {
    const once = withKeyValueMetadata(footer, { a: '1', b: '2' });
    const twice = withKeyValueMetadata(once, { b: '3', ünïcode: 'välue' });
    expect(readKeyValueMetadata(twice)).toEqual({ a: '1', b: '3', ünïcode: 'välue' });
  });

  it('writes lists of 15 entries and more with the long list header', () => {
    const many = Object.fromEntries(Array.from({ length: 20 }, (_, index) => [`k${index}`, 'v'.repeat(200)]));
    expect(readKeyValueMetadata(withKeyValueMetadata(footer, many))).toEqual(many);
  });
});
