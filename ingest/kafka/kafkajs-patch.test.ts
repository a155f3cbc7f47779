import { createRequire } from 'node:module';
import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';

// patches/kafkajs+2.2.4.patch makes kafkajs's produce encoding cheaper (buffers not zeroed nor
// regrown, varints written in place, CRC-32C eight bytes at a time, partitions grouped in place, an
// uncompressed produce request written in one pass into one buffer with its frame, any other
// request framed with one copy). These check the bytes it writes against references that share
// none of its code, and the one-pass request against kafkajs's record-by-record encoders (its path
// for compressed batches).
const require = createRequire(import.meta.url);
type Headers = Record<string, Buffer | string | (Buffer | string)[]>;
interface RecordInput {
  offsetDelta: number;
  timestampDelta: number;
  key: Buffer | string | null;
  value: Buffer | string | null;
  headers: Headers;
}
interface Encoder {
  buffer: Buffer;
  size(): number;
}
interface EncoderWriter extends Encoder {
  writeString(value: string | null): EncoderWriter;
  writeInt16(value: number): EncoderWriter;
  writeInt32(value: number): EncoderWriter;
  writeArray(values: Encoder[]): EncoderWriter;
  writeEncoder(value: Encoder): EncoderWriter;
}
interface ProduceMessage {
  key: Buffer | string | null;
  value: Buffer | string | null;
  headers?: Headers;
  timestamp?: number;
}
interface ProduceTopic {
  topic: string;
  partitions: { partition: number; firstSequence: number; messages: ProduceMessage[] }[];
}
interface DecodedRecord {
  offset: string;
  timestamp: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: Record<string, Buffer | Buffer[]>;
}
const crc32C = require('kafkajs/src/protocol/recordBatch/crc32C/index.js') as (buffer: Buffer) => number;
const Record = require('kafkajs/src/protocol/recordBatch/record/v0/index.js') as (
  record: RecordInput,
) => Encoder;
const { RecordBatch } = require('kafkajs/src/protocol/recordBatch/v0/index.js') as {
  RecordBatch: (batch: {
    records: Encoder[];
    firstTimestamp: number;
    maxTimestamp: number;
    lastOffsetDelta: number;
    producerId?: number;
    producerEpoch?: number;
    firstSequence?: number;
    transactional?: boolean;
  }) => Promise<Encoder>;
};
const EncoderClass = require('kafkajs/src/protocol/encoder.js') as new () => EncoderWriter;
const produceRequest = require('kafkajs/src/protocol/requests/produce/v3/request.js') as (request: {
  acks: number;
  timeout: number;
  transactionalId?: string | null;
  producerId: number;
  producerEpoch: number;
  topicData: ProduceTopic[];
}) => { encode: () => Promise<Encoder> };
const frameRequest = require('kafkajs/src/protocol/request.js') as (request: {
  correlationId: number;
  clientId: string;
  request: { apiKey: number; apiVersion: number; encode: () => Promise<Encoder> };
}) => Promise<Encoder>;
const Decoder = require('kafkajs/src/protocol/decoder.js') as new (buffer: Buffer) => unknown;
const decodeRecordBatch = require('kafkajs/src/protocol/recordBatch/v0/decoder.js') as (
  decoder: unknown,
) => Promise<{ records: DecodedRecord[] }>;
const groupMessagesPerPartition = require('kafkajs/src/producer/groupMessagesPerPartition.js') as (options: {
  topic: string;
  partitionMetadata: unknown[];
  messages: { partition: number }[];
  partitioner: (options: { message: { partition: number } }) => number;
}) => Record<string, { partition: number }[]>;

/** CRC-32C bit by bit (Castagnoli, reflected polynomial 0x82F63B78). */
function referenceCrc32C(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of bytes) {
    crc ^= byte;
    for (let bit = 0; bit < 8; bit++) crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

const bytesOf = (value: Buffer | string | null) => (value === null ? null : Buffer.from(value));

describe("kafkajs's produce encoding, patched", () => {
  it('computes CRC-32C as RFC 3720 gives it, for any bytes and every length modulo 8', () => {
    expect(crc32C(Buffer.from('123456789'))).toBe(0xe3069283);
    expect(crc32C(Buffer.alloc(32))).toBe(0x8a9136aa);
    expect(crc32C(Buffer.alloc(32, 0xff))).toBe(0x62a8ab43);
    expect(crc32C(Buffer.from(Array.from({ length: 32 }, (_, i) => i)))).toBe(0x46dd794e);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        expect(crc32C(Buffer.from(bytes))).toBe(referenceCrc32C(bytes));
      }),
      { numRuns: 2000, seed: 12 },
    );
  });

  it('writes record batches that decode to the same records, with the CRC of their bytes', async () => {
    const payload = fc.oneof(
      fc.constant(null),
      fc.string({ unit: 'grapheme', maxLength: 200 }),
      fc.uint8Array({ maxLength: 2000 }).map((bytes) => Buffer.from(bytes)),
    );
    const record = fc.record({
      key: payload,
      value: payload,
      // Beyond 2^30 ms the timestamp delta is encoded through kafkajs's 64-bit path.
      timestampDelta: fc.oneof(
        fc.integer({ min: -1000, max: 1000 }),
        fc.integer({ min: -(2 ** 40), max: 2 ** 40 }),
      ),
      // Names an object has not already got: kafkajs's decoder collects headers in a plain object.
      headers: fc.dictionary(
        fc.constantFrom('tributary.pii-applied', '__debezium.newkey', 'é', 'h'),
        fc.oneof(
          fc.string({ maxLength: 40 }),
          fc.array(fc.string({ maxLength: 10 }), { minLength: 2, maxLength: 3 }),
        ),
        { maxKeys: 3 },
      ),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(record, { minLength: 1, maxLength: 60 }), async (inputs) => {
        const firstTimestamp = 1_733_300_000_000;
        const batch = await RecordBatch({
          records: inputs.map((input, offsetDelta) => Record({ ...input, offsetDelta })),
          firstTimestamp,
          maxTimestamp: firstTimestamp,
          lastOffsetDelta: inputs.length - 1,
        });
        const bytes = batch.buffer;
        // FirstOffset (8), Length (4), PartitionLeaderEpoch (4), Magic (1), then the CRC of the rest.
        expect(bytes.readUInt32BE(17)).toBe(referenceCrc32C(bytes.subarray(21)));
        const { records } = await decodeRecordBatch(new Decoder(bytes));
        expect(
          records.map(({ offset, timestamp, key, value, headers }) => ({
            offset,
            timestamp,
            key,
            value,
            headers,
          })),
        ).toEqual(
          inputs.map((input, offset) => ({
            offset: String(offset),
            timestamp: String(firstTimestamp + input.timestampDelta),
            key: bytesOf(input.key),
            value: bytesOf(input.value),
            headers: Object.fromEntries(
              Object.entries(input.headers).map(([name, value]) => [
                name,
                Array.isArray(value) ? value.map((item) => Buffer.from(item)) : Buffer.from(value),
              ]),
            ),
          })),
        );
      }),
      { numRuns: 300, seed: 12 },
    );
  });

  it("writes an uncompressed produce request in one pass with the bytes of kafkajs's record-by-record encoders", async () => {
    const payload = fc.oneof(
      fc.constant(null),
      fc.string({ unit: 'grapheme', maxLength: 300 }),
      fc.uint8Array({ maxLength: 1000 }).map((bytes) => Buffer.from(bytes)),
    );
    const message = fc.record(
      {
        key: payload,
        value: payload,
        headers: fc.dictionary(
          fc.constantFrom('tributary.pii', '__debezium.oldkey', 'é'),
          fc.oneof(
            fc.string({ maxLength: 40 }),
            fc.uint8Array({ maxLength: 20 }).map((bytes) => Buffer.from(bytes)),
            fc.array(fc.string({ maxLength: 10 }), { minLength: 2, maxLength: 3 }),
          ),
          { maxKeys: 3 },
        ),
        timestamp: fc.integer({ min: 1_733_000_000_000, max: 1_733_000_000_000 + 2 ** 32 }),
      },
      { requiredKeys: ['key', 'value'] },
    );
    const request = fc.record({
      acks: fc.constantFrom(-1, 0, 1),
      transactionalId: fc.constantFrom(null, 'tx'),
      producerId: fc.integer({ min: -1, max: 2 ** 40 }),
      producerEpoch: fc.integer({ min: 0, max: 100 }),
      topicData: fc.array(
        fc.record({
          topic: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 30 }),
          partitions: fc.array(
            fc.record({
              partition: fc.nat(100),
              firstSequence: fc.nat(),
              messages: fc.array(message, { minLength: 1, maxLength: 40 }),
            }),
            { minLength: 1, maxLength: 3 },
          ),
        }),
        { minLength: 1, maxLength: 3 },
      ),
    });
    const now = 1_733_300_000_000;
    vi.spyOn(Date, 'now').mockReturnValue(now);
    try {
      await fc.assert(
        fc.asyncProperty(request, async (input) => {
          const encoded = await produceRequest({ ...input, timeout: 30_000 }).encode();
          const topics: Encoder[] = [];
          for (const { topic, partitions } of input.topicData) {
            const encodedPartitions: Encoder[] = [];
            for (const { partition, firstSequence, messages } of partitions) {
              const timestamps = messages.flatMap((entry) => (entry.timestamp ? [entry.timestamp] : []));
              const firstTimestamp = timestamps.length ? Math.min(...timestamps) : now;
              const batch = await RecordBatch({
                records: messages.map((entry, offsetDelta) =>
                  Record({
                    key: entry.key,
                    value: entry.value,
                    headers: entry.headers ?? {},
                    offsetDelta,
                    timestampDelta: (entry.timestamp ?? now) - firstTimestamp,
                  }),
                ),
                firstTimestamp,
                maxTimestamp: timestamps.length ? Math.max(...timestamps) : now,
                lastOffsetDelta: messages.length - 1,
                producerId: input.producerId,
                producerEpoch: input.producerEpoch,
                firstSequence,
                transactional: !!input.transactionalId,
              });
              encodedPartitions.push(
                new EncoderClass().writeInt32(partition).writeInt32(batch.size()).writeEncoder(batch),
              );
            }
            topics.push(new EncoderClass().writeString(topic).writeArray(encodedPartitions));
          }
          const reference = new EncoderClass()
            .writeString(input.transactionalId)
            .writeInt16(input.acks)
            .writeInt32(30_000)
            .writeArray(topics);
          expect(encoded.buffer.equals(reference.buffer)).toBe(true);

          const framed = await frameRequest({
            correlationId: 7,
            clientId: 'tributary-capture',
            request: { apiKey: 0, apiVersion: 3, encode: async () => encoded },
          });
          const header = new EncoderClass()
            .writeInt16(0)
            .writeInt16(3)
            .writeInt32(7)
            .writeString('tributary-capture');
          expect(framed.buffer.readInt32BE(0)).toBe(header.size() + encoded.size());
          expect(framed.buffer.subarray(4).equals(Buffer.concat([header.buffer, encoded.buffer]))).toBe(true);
          // Framed by the produce request itself, as the client sends it (not copied): the same bytes.
          const selfFramed = await frameRequest({
            correlationId: 7,
            clientId: 'tributary-capture',
            request: {
              apiKey: 0,
              apiVersion: 3,
              encode: produceRequest({ ...input, timeout: 30_000 }).encode,
            },
          });
          expect(selfFramed.buffer.equals(framed.buffer)).toBe(true);
        }),
        { numRuns: 200, seed: 12 },
      );
    } finally {
      vi.restoreAllMocks();
    }
  });

  it("groups messages by partition keeping each partition's order", () => {
    const messages = Array.from({ length: 1000 }, (_, i) => ({ partition: (i * 7) % 3, i }));
    const grouped = groupMessagesPerPartition({
      topic: 't',
      partitionMetadata: [{}, {}, {}],
      messages,
      partitioner: ({ message }) => message.partition,
    });
    expect(grouped).toEqual({
      0: messages.filter((message) => message.partition === 0),
      1: messages.filter((message) => message.partition === 1),
      2: messages.filter((message) => message.partition === 2),
    });
  });
});
