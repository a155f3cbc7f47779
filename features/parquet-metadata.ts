// Adds key-value metadata to a Parquet file ClickHouse wrote (its writer has no option for custom
// keys): the footer's FileMetaData (Thrift compact protocol) gets field 5, key_value_metadata, and
// the footer is rewritten in place. Column chunks and page indexes sit before the footer, so their
// offsets stay valid; only the footer's bytes change.
import { open } from 'node:fs/promises';
import { TributaryError } from '../errors/index.ts';

const MAGIC = 'PAR1';
const KEY_VALUE_METADATA = 5;
const TYPE_LIST = 9;
const TYPE_STRUCT = 12;
const TYPE_BINARY = 8;

export class ParquetFooterError extends TributaryError {}

class Reader {
  offset = 0;
  constructor(private readonly bytes: Buffer) {}
  byte(): number {
    const value = this.bytes[this.offset++];
    if (value === undefined) throw new ParquetFooterError('the Parquet footer ends early');
    return value;
  }
  varint(): bigint {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      const byte = this.byte();
      result |= BigInt(byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) return result;
      shift += 7n;
    }
  }
  skip(type: number, inCollection = false): void {
    switch (type) {
      case 1:
      case 2:
        // A boolean field carries its value in its header; in a list it takes one byte.
        if (inCollection) this.offset += 1;
        return;
      case 3:
        this.offset += 1;
        return;
      case 4:
      case 5:
      case 6:
        this.varint();
        return;
      case 7:
        this.offset += 8;
        return;
      case TYPE_BINARY: {
        // The length is read first: `offset += read()` would add to the offset before the read.
        const length = Number(this.varint());
        this.offset += length;
        return;
      }
      case TYPE_LIST:
      case 10: {
        const header = this.byte();
        const size = header >> 4 === 15 ? Number(this.varint()) : header >> 4;
        for (let index = 0; index < size; index++) this.skip(header & 0x0f, true);
        return;
      }
      case 11: {
        const size = Number(this.varint());
        if (size === 0) return;
        const types = this.byte();
        for (let index = 0; index < size; index++) {
          this.skip(types >> 4, true);
          this.skip(types & 0x0f, true);
        }
        return;
      }
      case TYPE_STRUCT:
        this.fields();
        return;
      default:
        throw new ParquetFooterError(`unknown Thrift type ${type} in the Parquet footer`);
    }
  }
  /** Reads a struct's fields up to its stop byte; returns each field's id, type and value bytes. */
  fields(): { id: number; type: number; value: Buffer }[] {
    const fields: { id: number; type: number; value: Buffer }[] = [];
    let last = 0;
    for (;;) {
      const header = this.byte();
      if (header === 0) return fields;
      const type = header & 0x0f;
      const delta = header >> 4;
      let id: number;
      if (delta === 0) {
        const zigzag = Number(this.varint());
        id = (zigzag >>> 1) ^ -(zigzag & 1);
      } else id = last + delta;
      last = id;
      const start = this.offset;
      this.skip(type);
      fields.push({ id, type, value: this.bytes.subarray(start, this.offset) });
    }
  }
}

function varint(value: number): Buffer {
  const bytes: number[] = [];
  let rest = value;
  while (rest >= 0x80) {
    bytes.push((rest & 0x7f) | 0x80);
    rest = Math.floor(rest / 128);
  }
  bytes.push(rest);
  return Buffer.from(bytes);
}

function fieldHeader(id: number, last: number, type: number): Buffer {
  const delta = id - last;
  if (delta > 0 && delta <= 15) return Buffer.from([(delta << 4) | type]);
  const zigzag = (id << 1) ^ (id >> 31);
  return Buffer.concat([Buffer.from([type]), varint(zigzag)]);
}

function binary(text: string): Buffer {
  const bytes = Buffer.from(text, 'utf8');
  return Buffer.concat([varint(bytes.length), bytes]);
}

/** The encoded list<KeyValue>. */
function keyValueList(entries: [string, string][]): Buffer {
  const header =
    entries.length < 15
      ? Buffer.from([(entries.length << 4) | TYPE_STRUCT])
      : Buffer.concat([Buffer.from([0xf0 | TYPE_STRUCT]), varint(entries.length)]);
  const items = entries.map(([key, value]) =>
    Buffer.concat([
      Buffer.from([(1 << 4) | TYPE_BINARY]),
      binary(key),
      Buffer.from([(1 << 4) | TYPE_BINARY]),
      binary(value),
      Buffer.from([0]),
    ]),
  );
  return Buffer.concat([header, ...items]);
}

/** Decodes an existing list<KeyValue>, keeping entries the new metadata does not replace. */
function readKeyValues(value: Buffer): [string, string][] {
  const reader = new Reader(value);
  const header = reader.byte();
  const size = header >> 4 === 15 ? Number(reader.varint()) : header >> 4;
  const entries: [string, string][] = [];
  for (let index = 0; index < size; index++) {
    let key = '';
    let text = '';
    for (const field of reader.fields()) {
      const decoded = new Reader(field.value);
      const length = Number(decoded.varint());
      const bytes = field.value.subarray(decoded.offset, decoded.offset + length).toString('utf8');
      if (field.id === 1) key = bytes;
      if (field.id === 2) text = bytes;
    }
    entries.push([key, text]);
  }
  return entries;
}

/** FileMetaData bytes with `metadata` as its key-value metadata (existing other keys kept). */
export function withKeyValueMetadata(footer: Buffer, metadata: Record<string, string>): Buffer {
  const fields = new Reader(footer).fields();
  const existing = fields.find((field) => field.id === KEY_VALUE_METADATA);
  const kept = existing ? readKeyValues(existing.value).filter(([key]) => !(key in metadata)) : [];
  const entries: [string, string][] = [...kept, ...Object.entries(metadata)];
  const rest = fields.filter((field) => field.id !== KEY_VALUE_METADATA);
  rest.push({ id: KEY_VALUE_METADATA, type: TYPE_LIST, value: keyValueList(entries) });
  rest.sort((a, b) => a.id - b.id);
  const parts: Buffer[] = [];
  let last = 0;
  for (const field of rest) {
    parts.push(fieldHeader(field.id, last, field.type), field.value);
    last = field.id;
  }
  parts.push(Buffer.from([0]));
  return Buffer.concat(parts);
}

/** Reads FileMetaData's key-value metadata back (for tests and `features` tools). */
export function readKeyValueMetadata(footer: Buffer): Record<string, string> {
  const field = new Reader(footer).fields().find((candidate) => candidate.id === KEY_VALUE_METADATA);
  return Object.fromEntries(field ? readKeyValues(field.value) : []);
}

async function footerOf(path: string): Promise<{ footer: Buffer; start: number }> {
  const handle = await open(path, 'r');
  try {
    const { size } = await handle.stat();
    const tail = Buffer.alloc(8);
    await handle.read(tail, 0, 8, size - 8);
    if (size < 12 || tail.subarray(4).toString('latin1') !== MAGIC)
      throw new ParquetFooterError(`${path} is not a Parquet file (no PAR1 footer)`);
    const length = tail.readUInt32LE(0);
    const footer = Buffer.alloc(length);
    await handle.read(footer, 0, length, size - 8 - length);
    return { footer, start: size - 8 - length };
  } finally {
    await handle.close();
  }
}

/** Rewrites a Parquet file's footer with `metadata` added. */
export async function addParquetMetadata(path: string, metadata: Record<string, string>): Promise<void> {
  const { footer, start } = await footerOf(path);
  const patched = withKeyValueMetadata(footer, metadata);
  const length = Buffer.alloc(4);
  length.writeUInt32LE(patched.length, 0);
  const handle = await open(path, 'r+');
  try {
    await handle.truncate(start);
    await handle.write(Buffer.concat([patched, length, Buffer.from(MAGIC, 'latin1')]), 0, undefined, start);
  } finally {
    await handle.close();
  }
}

export async function readParquetMetadata(path: string): Promise<Record<string, string>> {
  return readKeyValueMetadata((await footerOf(path)).footer);
}
