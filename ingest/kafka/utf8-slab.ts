// Strings turned into UTF-8 bytes in one pass, into shared chunks: a message's key and value as
// views of one chunk, not a buffer each. kafkajs otherwise measures a string's UTF-8 length and
// then writes it (two passes over each 730-byte envelope), and the strings, twice their UTF-8 size
// on V8's heap when they hold non-Latin-1 text, live until their batch is sent, long enough to be
// promoted and collected by full collections (bench/README.md, bench:kafka-capture).

/** Bytes a chunk holds unless one string needs more. */
const CHUNK_BYTES = 1024 * 1024;
/** The most UTF-8 bytes one UTF-16 code unit can take. */
const MAX_BYTES_PER_UNIT = 3;

const encoder = new TextEncoder();

/** One batch's bytes: its views stay valid while the batch is referenced (chunks are never reused). */
export class Utf8Slab {
  private chunk = Buffer.alloc(0);
  private used = 0;

  /** `text` as UTF-8 (the bytes `Buffer.from(text)` holds), a view of this slab's current chunk. */
  bytes(text: string): Buffer {
    const room = text.length * MAX_BYTES_PER_UNIT;
    if (this.chunk.length - this.used < room) {
      this.chunk = Buffer.allocUnsafe(Math.max(CHUNK_BYTES, room));
      this.used = 0;
    }
    const start = this.used;
    this.used += encoder.encodeInto(text, this.chunk.subarray(start)).written;
    return this.chunk.subarray(start, this.used);
  }
}
