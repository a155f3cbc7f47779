// The source-side objects capture owns: its publication (which tables are streamed) and its logical
// replication slot (where the stream resumes). Both are named after the capture's source name.
import pg from 'pg';
import { quoteIdentifier } from './sql.ts';
import { connectSource } from './catalog.ts';
import { parseLsn } from './lsn.ts';
import { CaptureError } from '../errors.ts';

export function replicationNames(sourceName: string): {
  slot: string;
  publication: string;
  insertsPublication: string;
} {
  const base = `tributary_${sourceName}`
    .toLowerCase()
    .replace(/[^a-z0-9_]/g, '_')
    .slice(0, 63);
  return { slot: base, publication: base, insertsPublication: `${base.slice(0, 55)}_inserts` };
}

/**
 * Creates or re-targets the publication so it streams exactly `tables` (generated columns included
 * on PG 18+); `insertsOnly` publishes inserts and truncates alone. Without tables it is dropped.
 */
export async function ensurePublication(
  client: pg.Client,
  publication: string,
  tables: string[],
  serverVersion: number,
  insertsOnly = false,
): Promise<void> {
  const name = quoteIdentifier(publication);
  const exists = (await client.query('SELECT 1 FROM pg_publication WHERE pubname = $1', [publication]))
    .rowCount;
  if (tables.length === 0) {
    if (exists) await client.query(`DROP PUBLICATION ${name}`);
    return;
  }
  const list = tables.map((table) => table.split('.').map(quoteIdentifier).join('.')).join(', ');
  if (exists) {
    await client.query(`ALTER PUBLICATION ${name} SET TABLE ${list}`);
    return;
  }
  const options = [
    ...(serverVersion >= 180000 ? ["publish_generated_columns = 'stored'"] : []),
    ...(insertsOnly ? ["publish = 'insert, truncate'"] : []),
  ];
  await client.query(
    `CREATE PUBLICATION ${name} FOR TABLE ${list}${options.length ? ` WITH (${options.join(', ')})` : ''}`,
  );
}

export async function slotExists(client: pg.Client, slot: string): Promise<boolean> {
  const result = await client.query('SELECT 1 FROM pg_replication_slots WHERE slot_name = $1', [slot]);
  return (result.rowCount ?? 0) > 0;
}

export async function dropSlot(client: pg.Client, slot: string): Promise<void> {
  if (await waitForSlotRelease(client, slot))
    await client.query('SELECT pg_drop_replication_slot($1)', [slot]);
}

/**
 * A capture that was just killed leaves its walsender holding the slot until Postgres notices the
 * closed connection. Waits for it to let go; returns whether the slot exists.
 */
export async function waitForSlotRelease(client: pg.Client, slot: string): Promise<boolean> {
  for (let attempt = 0; attempt < 150; attempt++) {
    const active = await client.query<{ active_pid: number | null }>(
      'SELECT active_pid FROM pg_replication_slots WHERE slot_name = $1',
      [slot],
    );
    const row = active.rows[0];
    if (!row) return false;
    if (row.active_pid === null) return true;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new CaptureError(
    `replication slot ${slot} stays in use by another process; stop the other capture of this source first`,
  );
}

export interface ExportedSnapshot {
  /** Every transaction committed after this WAL position is in the stream; the others are in the snapshot. */
  consistentPoint: number;
  snapshotName: string;
  /** Keeps the snapshot alive; close it once every table has been read. */
  release(): Promise<void>;
}

/** Creates the slot and exports the snapshot it starts from, so the snapshot and the stream meet exactly. */
export async function createSlotWithSnapshot(url: string, slot: string): Promise<ExportedSnapshot> {
  const replication = await connectSource(url, { replication: 'database' } as Partial<pg.ClientConfig>);
  const result = await replication.query<{ consistent_point: string; snapshot_name: string }>(
    `CREATE_REPLICATION_SLOT ${quoteIdentifier(slot)} LOGICAL pgoutput (SNAPSHOT 'export')`,
  );
  const row = result.rows[0];
  if (!row) throw new CaptureError(`creating replication slot ${slot} returned nothing`);
  return {
    consistentPoint: parseLsn(row.consistent_point),
    snapshotName: row.snapshot_name,
    release: () => replication.end(),
  };
}

/**
 * Where the slot starts reading WAL. Right after creation it lies below every change the slot will
 * stream, including those of a transaction that began before the consistent point and commits after it.
 */
export async function slotRestartLsn(client: pg.Client, slot: string): Promise<number> {
  const result = await client.query<{ lsn: string | null }>(
    'SELECT restart_lsn::text AS lsn FROM pg_replication_slots WHERE slot_name = $1',
    [slot],
  );
  const lsn = result.rows[0]?.lsn;
  if (!lsn) throw new CaptureError(`replication slot ${slot} has no restart position`);
  return parseLsn(lsn);
}

export async function slotConfirmedLsn(client: pg.Client, slot: string): Promise<number> {
  const result = await client.query<{ lsn: string | null }>(
    'SELECT confirmed_flush_lsn::text AS lsn FROM pg_replication_slots WHERE slot_name = $1',
    [slot],
  );
  return parseLsn(result.rows[0]?.lsn ?? '0/0');
}

export async function currentWalLsn(client: pg.Client): Promise<number> {
  const result = await client.query<{ lsn: string }>('SELECT pg_current_wal_insert_lsn()::text AS lsn');
  return parseLsn(result.rows[0]?.lsn ?? '0/0');
}
