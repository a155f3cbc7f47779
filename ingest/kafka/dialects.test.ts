import { describe, expect, it } from 'vitest';
import type { ChangeEnvelope } from '../envelope.ts';
import { liftStraddler, readWithDialect } from './dialects.ts';

const postgres = (op: ChangeEnvelope['op'], lsn: number): ChangeEnvelope => ({
  op,
  before: op === 'd' ? { id: 1 } : null,
  after: op === 'd' ? null : { id: 1 },
  source: {
    connector: 'postgresql',
    name: 'app',
    db: 'app',
    schema: 'public',
    table: 'items',
    lsn,
    ts_ms: 0,
  },
});

describe('reading envelopes by connector', () => {
  it('lifts a change at or below the newest snapshot position of its partition just past it', () => {
    // Debezium's snapshot at 100, then a straddling transaction's changes at 90 and 100, then 150.
    let state = {};
    const versions = (
      [
        ['r', 100],
        ['u', 90],
        ['d', 100],
        ['c', 150],
        ['r', 120],
        ['u', 110],
      ] as const
    ).map(([op, lsn]) => {
      const lifted = liftStraddler(op, lsn, state);
      state = lifted.state;
      return lifted.version;
    });
    expect(versions).toEqual([100, 101, 101, 150, 120, 121]);
    expect(state).toEqual({ snapshotLsn: 120 });
  });

  it('names the table by source, schema and table, and keeps the version apart from the envelope', () => {
    const outcome = readWithDialect(postgres('u', 90), null, { snapshotLsn: 100 });
    expect(outcome).toEqual({
      ok: true,
      envelope: postgres('u', 90),
      table: 'app.public.items',
      namespace: 'public',
      version: 101,
      state: { snapshotLsn: 100 },
    });
  });

  it('takes a MongoDB delete’s document id from the message key', () => {
    const envelope: ChangeEnvelope = {
      op: 'd',
      before: null,
      after: null,
      source: { connector: 'mongodb', name: 'm', db: 'shop', collection: 'carts', ts_ms: 5000, ord: 3 },
    };
    const outcome = readWithDialect(
      envelope,
      JSON.stringify({ id: '{"$oid": "65a1b2c3d4e5f60718293a4b"}' }),
      {},
    );
    expect(outcome).toMatchObject({
      ok: true,
      table: 'm.shop.carts',
      version: (5n << 32n) | 3n,
      envelope: { before: '{"_id":{"$oid":"65a1b2c3d4e5f60718293a4b"}}' },
    });
    expect(readWithDialect(envelope, null, {})).toEqual({
      ok: false,
      reason: 'a MongoDB delete whose message key holds no document id',
    });
  });

  it("versions Debezium's MariaDB events by their transaction's position and their order in it", () => {
    const envelope: ChangeEnvelope = {
      op: 'u',
      before: { id: 1 },
      after: { id: 1 },
      source: {
        connector: 'mariadb',
        name: 'dbz',
        db: 'shop',
        table: 'items',
        file: 'binlog.000002',
        pos: 400,
        row: 0,
        ts_ms: 0,
      },
      transaction: { id: '0-1-43', total_order: 6 },
    };
    expect(readWithDialect(envelope, null, {})).toMatchObject({
      ok: true,
      table: 'dbz.shop.items',
      namespace: 'shop',
      version: 2 * 2 ** 32 + 406,
    });
    const positionless = { ...envelope, source: { ...envelope.source, file: undefined } };
    expect(readWithDialect(positionless, null, {})).toMatchObject({ ok: false });
  });

  it.each([
    [{ ...postgres('d', 1), before: null }, "op 'd' needs a 'before' row"],
    [{ ...postgres('c', 1), source: { ...postgres('c', 1).source, lsn: undefined } }, 'without source.lsn'],
    [
      { ...postgres('c', 1), source: { ...postgres('c', 1).source, connector: 'oracle' } },
      'connector "oracle"',
    ],
  ])('refuses %# with a reason', (envelope, reason) => {
    const outcome = readWithDialect(envelope as ChangeEnvelope, null, {});
    expect(outcome.ok).toBe(false);
    expect(outcome.ok ? '' : outcome.reason).toContain(reason);
  });
});
