import { createRequire } from 'node:module';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { keyPartition, murmur2 } from './key-partition.ts';

// kafkajs's own murmur2 (the Java client's, on 64-bit Longs) is the oracle: the partitions must be
// the ones kafkajs and Debezium's producer would choose for the same key.
const require = createRequire(import.meta.url);
const kafkajsMurmur2 = require('kafkajs/src/producer/partitioners/default/murmur2.js') as (
  key: Buffer,
) => number;

describe('murmur2', () => {
  it("equals kafkajs's (and the Java client's) murmur2 for any bytes, every length modulo 4", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        expect(murmur2(bytes)).toBe(kafkajsMurmur2(Buffer.from(bytes)));
      }),
      { numRuns: 2000, seed: 12 },
    );
  });

  it('hashes the keys the capture writes as kafkajs would partition them', () => {
    fc.assert(
      fc.property(fc.uuid(), fc.integer({ min: 1, max: 64 }), (id, partitions) => {
        const key = Buffer.from(JSON.stringify({ id }));
        expect(keyPartition(key, partitions)).toBe((kafkajsMurmur2(key) & 0x7fffffff) % partitions);
      }),
      { numRuns: 500, seed: 12 },
    );
  });

  it('matches known values of the Java client', () => {
    // From Kafka's own UtilsTest.testMurmur2.
    expect(murmur2(Buffer.from('21'))).toBe(-973932308);
    expect(murmur2(Buffer.from('foobar'))).toBe(-790332482);
    expect(murmur2(Buffer.from('a-little-bit-long-string'))).toBe(-985981536);
    expect(murmur2(Buffer.from('a-little-bit-longer-string'))).toBe(-1486304829);
    expect(murmur2(Buffer.from('lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8'))).toBe(-58897971);
    expect(murmur2(new Uint8Array([97, 98, 99]))).toBe(479470107);
  });
});
