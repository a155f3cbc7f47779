import { describe, expect, it } from 'vitest';
import { decodeChangeMessage } from './decode-message.ts';

const envelope = {
  before: null,
  after: { id: 1, name: 'Lan' },
  source: {
    connector: 'postgresql',
    name: 'app',
    db: 'app',
    schema: 'public',
    table: 'users',
    lsn: 42,
    ts_ms: 1,
  },
  op: 'c',
  ts_ms: 2,
};

describe('decoding a Kafka change message', () => {
  it.each([
    ['a Debezium envelope', Buffer.from(JSON.stringify(envelope)), { kind: 'ok', envelope }],
    [
      'an envelope wrapped with its schema',
      Buffer.from(JSON.stringify({ schema: { type: 'struct' }, payload: envelope })),
      { kind: 'ok', envelope, schema: { type: 'struct' } },
    ],
    ['a tombstone', null, { kind: 'drop', reason: 'tombstone' }],
    [
      'bytes that are not JSON',
      Buffer.from('{"op": "c", '),
      { kind: 'dead-letter', reason: expect.stringMatching(/^not JSON: /) },
    ],
    [
      'an envelope with a field of the wrong type',
      Buffer.from(JSON.stringify({ ...envelope, op: 7 })),
      { kind: 'dead-letter', reason: expect.stringMatching(/^not a change envelope: op: /) },
    ],
  ])('%s', (_name, value, expected) => {
    expect(decodeChangeMessage(value)).toEqual(expected);
  });

  it('keeps integers beyond 2^53 exact (as strings), other numbers as numbers', () => {
    const text = JSON.stringify(envelope).replace(
      '"id":1,',
      '"id":1,"big":9007199254740993,"small":-12,"ratio":0.5,',
    );
    const decoded = decodeChangeMessage(Buffer.from(text));
    expect(decoded.kind === 'ok' && decoded.envelope.after).toEqual({
      id: 1,
      big: '9007199254740993',
      small: -12,
      ratio: 0.5,
      name: 'Lan',
    });
  });

  it.each([
    ['a negative int64 beyond -2^53', '-9007199254740993', '-9007199254740993'],
    ['a 16-digit microsecond timestamp', '1764780000123456', 1764780000123456],
    // Not integers: numbers, as near as a double gets.
    ['a long fraction', '0.12345678901234567', Number('0.12345678901234567')],
    ['a long mantissa with an exponent', '12345678901234567e2', Number('12345678901234567e2')],
    ['a long integer inside text', '"id 12345678901234567890"', 'id 12345678901234567890'],
  ])('reads %s exactly', (_name, json, expected) => {
    const text = JSON.stringify(envelope).replace('"id":1,', `"id":1,"value":${json},`);
    const decoded = decodeChangeMessage(Buffer.from(text));
    const after = decoded.kind === 'ok' ? decoded.envelope.after : undefined;
    expect(typeof after === 'object' && after?.value).toEqual(expected);
  });

  it('sets aside an event over the size limit without parsing it', () => {
    expect(decodeChangeMessage(Buffer.alloc(101, 32), 100)).toEqual({
      kind: 'dead-letter',
      reason: 'event of 101 bytes exceeds the 100-byte limit (--max-event-bytes)',
    });
  });

  it("drops Debezium's transaction boundaries", () => {
    const boundary = { status: 'END', id: '0-1-27', event_count: 4, data_collections: [], ts_ms: 1 };
    expect(decodeChangeMessage(Buffer.from(JSON.stringify({ schema: {}, payload: boundary })))).toEqual({
      kind: 'drop',
      reason: 'transaction boundary',
    });
  });
});
