// A seeded mix of transactions on an `activity (id, score, note, …)` table, for the capture crash
// tests: each transaction inserts 70% of its size as new rows, updates 25% and deletes 5% of rows
// picked among those inserted so far.
import type pg from 'pg';

export interface ActivityWorkload {
  seed: number;
  /** Changes per transaction are 1…this many. */
  maxTransactionSize: number;
  /** Inserts ids $1…$2 (each test's table has its own columns). */
  insertSql: string;
  /** A pause after each transaction, to keep the rate a short-lived capture can follow. */
  pauseMs?: number;
}

/** Runs transactions until `shouldStop`; returns how many committed. */
export async function runActivityWorkload(
  client: pg.Client,
  workload: ActivityWorkload,
  shouldStop: () => boolean,
): Promise<number> {
  let nextId = 1;
  let transactions = 0;
  let seed = workload.seed;
  const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  while (!shouldStop()) {
    const size = 1 + Math.floor(random() * workload.maxTransactionSize);
    await client.query('BEGIN');
    const inserts = Math.ceil(size * 0.7);
    await client.query(workload.insertSql, [nextId, nextId + inserts - 1]);
    nextId += inserts;
    const pick = () => 1 + Math.floor(random() * (nextId - 1));
    for (let i = 0; i < Math.floor(size * 0.25); i++)
      await client.query('UPDATE activity SET score = score + 1, note = note || $2 WHERE id = $1', [
        pick(),
        '+',
      ]);
    for (let i = 0; i < Math.floor(size * 0.05); i++)
      await client.query('DELETE FROM activity WHERE id = $1', [pick()]);
    await client.query('COMMIT');
    transactions++;
    if (workload.pauseMs) await new Promise((resolve) => setTimeout(resolve, workload.pauseMs));
  }
  return transactions;
}
