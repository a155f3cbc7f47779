// Redis' CRC-64 (its crc64.c: the Jones polynomial, reflected, initial value 0, no final XOR), which
// ends every DUMP payload, computed in place over memory the encoder writes its commands into. The
// slice-by-8 loop runs as WebAssembly: in JavaScript the same loop took ~3.4 ns a byte, a third of
// encoding a million 1.4 KB hashes; here ~1.1. wabt compiles the text below once per process.
import { InvariantError } from '../errors/index.ts';

const POLY = 0x95ac9329ac4bc9b5n;
/** Slice-by-8's eight tables of 256 64-bit values, table t at t × 2048, before the usable bytes. */
const TABLE_BYTES = 8 * 256 * 8;
const PAGE_BYTES = 65536;

function crcTables(): Uint8Array {
  const tables = new BigUint64Array(8 * 256);
  for (let byte = 0; byte < 256; byte++) {
    let crc = BigInt(byte);
    for (let bit = 0; bit < 8; bit++) crc = crc & 1n ? (crc >> 1n) ^ POLY : crc >> 1n;
    tables[byte] = crc;
  }
  // Table t: the CRC of a byte followed by t zero bytes.
  for (let t = 1; t < 8; t++)
    for (let byte = 0; byte < 256; byte++) {
      const previous = tables[(t - 1) * 256 + byte] as bigint;
      tables[t * 256 + byte] = (previous >> 8n) ^ (tables[Number(previous & 255n)] as bigint);
    }
  const bytes = new Uint8Array(TABLE_BYTES);
  const view = new DataView(bytes.buffer);
  tables.forEach((value, index) => view.setBigUint64(index * 8, value, true));
  return bytes;
}

/** Byte k (little-endian) of the 8 read, looked up in table 7 − k. */
const lookup = (k: number) =>
  `(i64.load offset=${(7 - k) * 2048}
     (i32.wrap_i64 (i64.shl (i64.and (i64.shr_u (local.get $x) (i64.const ${8 * k})) (i64.const 255)) (i64.const 3))))`;

/** append_crc(start, end): the CRC of memory[start, end), stored little-endian at end. */
const CRC64_WAT = `(module
  (import "tributary" "memory" (memory 1))
  (func (export "append_crc") (param $p i32) (param $end i32)
    (local $crc i64) (local $x i64)
    (block $tail
      (loop $eight
        (br_if $tail (i32.gt_u (i32.add (local.get $p) (i32.const 8)) (local.get $end)))
        (local.set $x (i64.xor (local.get $crc) (i64.load (local.get $p))))
        (local.set $crc
          (i64.xor (i64.xor (i64.xor ${lookup(0)} ${lookup(1)}) (i64.xor ${lookup(2)} ${lookup(3)}))
                   (i64.xor (i64.xor ${lookup(4)} ${lookup(5)}) (i64.xor ${lookup(6)} ${lookup(7)}))))
        (local.set $p (i32.add (local.get $p) (i32.const 8)))
        (br $eight)))
    (block $done
      (loop $one
        (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
        (local.set $crc
          (i64.xor (i64.shr_u (local.get $crc) (i64.const 8))
                   (i64.load (i32.wrap_i64 (i64.shl
                     (i64.and (i64.xor (local.get $crc) (i64.load8_u (local.get $p))) (i64.const 255))
                     (i64.const 3))))))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br $one)))
    (i64.store (local.get $end) (local.get $crc))))`;

let compiled: Promise<WebAssembly.Module> | undefined;
function crcModule(): Promise<WebAssembly.Module> {
  compiled ??= (async () => {
    // Loaded here, not with the module: only a write to Redis needs it (~14 MB and tens of ms).
    const { default: initWabt } = await import('wabt');
    const wabt = await initWabt();
    const parsed = wabt.parseWat('crc64.wat', CRC64_WAT);
    try {
      return new WebAssembly.Module(new Uint8Array(parsed.toBinary({}).buffer));
    } finally {
      parsed.destroy();
    }
  })();
  return compiled;
}

/** Bytes to write into, and Redis' CRC-64 of any span of them appended in place. */
export class Crc64Memory {
  /** The usable bytes; a new view after `reserve` grew them. */
  bytes: Buffer;

  private constructor(
    private readonly memory: WebAssembly.Memory,
    private readonly appendAt: (start: number, end: number) => void,
  ) {
    this.bytes = this.view();
  }

  /** At least `length` usable bytes. */
  static async create(length: number): Promise<Crc64Memory> {
    const memory = new WebAssembly.Memory({ initial: Math.ceil((TABLE_BYTES + length) / PAGE_BYTES) });
    new Uint8Array(memory.buffer).set(crcTables());
    const instance = new WebAssembly.Instance(await crcModule(), { tributary: { memory } });
    return new Crc64Memory(memory, instance.exports.append_crc as (start: number, end: number) => void);
  }

  /** Writes the CRC of `bytes[start, end)` at `bytes[end, end + 8)` (little-endian, as DUMP's footer). */
  appendCrc(start: number, end: number): void {
    if (start < 0 || start > end || end + 8 > this.bytes.length)
      throw new InvariantError(`no CRC span [${start}, ${end}) + 8 in ${this.bytes.length} bytes`);
    this.appendAt(TABLE_BYTES + start, TABLE_BYTES + end);
  }

  /** Makes `bytes` at least `length` long, keeping what they hold. */
  reserve(length: number): void {
    if (length <= this.bytes.length) return;
    this.memory.grow(Math.ceil((TABLE_BYTES + length - this.memory.buffer.byteLength) / PAGE_BYTES));
    this.bytes = this.view();
  }

  private view(): Buffer {
    return Buffer.from(this.memory.buffer, TABLE_BYTES, this.memory.buffer.byteLength - TABLE_BYTES);
  }
}
