// Capture checkpoints kept in the warehouse itself, next to the data they describe: a restart reads
// the same truth the mirrors were written against.
import type { Warehouse } from './warehouse.ts';

export async function readCheckpoint<State>(
  warehouse: Warehouse,
  pipeline: string,
  stream: string,
): Promise<State | undefined> {
  const rows = await warehouse.query<{ state: string }>(
    'SELECT state FROM _tributary_checkpoints FINAL WHERE pipeline = {pipeline:String} AND stream = {stream:String}',
    { pipeline, stream },
  );
  const row = rows[0];
  return row ? (JSON.parse(row.state) as State) : undefined;
}

let lastRevision = 0n;

/** Revisions come from the clock (microseconds), forced strictly increasing within the process. */
function nextRevision(): bigint {
  const now = BigInt(Date.now()) * 1000n;
  lastRevision = now > lastRevision ? now : lastRevision + 1n;
  return lastRevision;
}

export async function writeCheckpoint(
  warehouse: Warehouse,
  pipeline: string,
  stream: string,
  state: unknown,
): Promise<void> {
  await warehouse.insert('_tributary_checkpoints', [
    {
      pipeline,
      stream,
      state: JSON.stringify(state),
      updated_at: new Date().toISOString(),
      revision: nextRevision().toString(),
    },
  ]);
}
