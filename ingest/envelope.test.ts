import { describe, expect, it } from 'vitest';
import { changeEnvelopeSchema } from './envelope.ts';

const source = {
  connector: 'postgresql',
  name: 'app',
  db: 'app',
  schema: 'public',
  table: 't',
  lsn: 42,
  ts_ms: 1,
};

describe('change envelope decoder', () => {
  it('accepts Debezium envelopes, with their extra source fields', () => {
    const envelope = {
      before: null,
      after: { id: 1 },
      source: { ...source, version: '3.6.1.Final', snapshot: 'last', sequence: '["1","2"]' },
      op: 'r',
      ts_ms: 5,
    };
    expect(changeEnvelopeSchema.parse(envelope)).toEqual(envelope);
  });

  it.each([
    [{ before: null, after: null, source, op: 'c' }, "op 'c' needs an 'after' row"],
    [{ after: { id: 1 }, source, op: 'x' }, 'op'],
    [{ after: { id: 1 }, op: 'c' }, 'source'],
  ])('rejects %o with a reason', (envelope, reason) => {
    const result = changeEnvelopeSchema.safeParse(envelope);
    expect(result.success).toBe(false);
    expect(JSON.stringify(result.error?.issues)).toContain(reason);
  });
});
