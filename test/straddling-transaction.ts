// A transaction that straddles a new replication slot's consistent point. Slot creation waits for
// the transactions running when it starts (X1), then for those running once it can decode whole
// transactions (X2). X3 begins between the two: its first changes are older than the consistent
// point, yet it commits after it, so only the stream carries them, with LSNs below the snapshot's.
import pg from 'pg';
import { expect } from 'vitest';

/** The table the scenario writes: rows 1–4, 'initial'. */
export const STRADDLE_TABLE_DDL = `CREATE TABLE items (id int PRIMARY KEY, v text);
  INSERT INTO items SELECT g, 'initial' FROM generate_series(1, 4) AS g`;

/**
 * Runs the scenario on `items` (made with STRADDLE_TABLE_DDL): `createSlot` starts whatever creates
 * `slot` (a capture, a connector). X3 updates row 3 and deletes row 4 before the consistent point,
 * and updates row 3 again after it. Returns once X3 committed; a failure rolls back all three.
 */
export async function straddleSlotCreation(
  url: string,
  slot: string,
  createSlot: () => Promise<void>,
): Promise<void> {
  const sessions = await Promise.all([open(url), open(url), open(url), open(url)]);
  const [watcher, x1, x2, x3] = sessions as [pg.Client, pg.Client, pg.Client, pg.Client];
  const countReaches = (query: string, params: unknown[]) =>
    expect
      .poll(async () => (await watcher.query<{ n: number }>(query, params)).rows[0]?.n, { timeout: 120_000 })
      .toBe(1);
  const slotWaitsFor = (xid: string) =>
    countReaches(
      "SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'transactionid' AND NOT granted AND transactionid::text = $1",
      [xid],
    );
  const begin = async (session: pg.Client, id: number) => {
    await session.query('BEGIN');
    await session.query("UPDATE items SET v = 'writer' WHERE id = $1", [id]);
    return (await session.query<{ xid: string }>('SELECT pg_current_xact_id()::xid::text AS xid')).rows[0]!
      .xid;
  };
  try {
    const first = await begin(x1, 1);
    await createSlot();
    await slotWaitsFor(first);
    const second = await begin(x2, 2);
    await x1.query('COMMIT');
    await slotWaitsFor(second);
    await x3.query('BEGIN');
    await x3.query("UPDATE items SET v = 'before the consistent point' WHERE id = 3");
    await x3.query('DELETE FROM items WHERE id = 4');
    await x2.query('COMMIT');
    await countReaches(
      'SELECT count(*)::int AS n FROM pg_replication_slots WHERE slot_name = $1 AND confirmed_flush_lsn IS NOT NULL',
      [slot],
    );
    await x3.query("UPDATE items SET v = v || ', then after it' WHERE id = 3");
    await x3.query('COMMIT');
  } finally {
    for (const session of sessions) await session.end();
  }
}

async function open(url: string): Promise<pg.Client> {
  const session = new pg.Client({ connectionString: url });
  await session.connect();
  return session;
}
