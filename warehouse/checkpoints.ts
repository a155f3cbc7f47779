// Capture checkpoints kept in the warehouse itself, next to the data they describe: a restart reads
// the same truth the mirrors were written against.
import type { z } from 'zod';
import { TributaryError } from '../errors/index.ts';
import { bookkeepingTable } from './bookkeeping.ts';
import type { Warehouse } from './warehouse.ts';

const CHECKPOINTS = bookkeepingTable('checkpoints');

/** A stored checkpoint that does not have the shape its reader expects (written by another version). */
export class CheckpointError extends TributaryError {}

/** The stored checkpoint, checked against `schema`; undefined when none is stored. */
export async function readCheckpoint<T>(
  warehouse: Warehouse,
  pipeline: string,
  stream: string,
  schema: z.ZodType<T>,
): Promise<T | undefined> {
  const rows = await warehouse.query<{ state: string }>(
    `SELECT state FROM ${CHECKPOINTS} FINAL WHERE pipeline = {pipeline:String} AND stream = {stream:String}`,
    { pipeline, stream },
  );
  const text = rows[0]?.state;
  return text === undefined ? undefined : parseCheckpoint(`${pipeline}/${stream}`, text, schema);
}

/** Parses a checkpoint's JSON text with its schema; a mismatch is a CheckpointError naming it. */
export function parseCheckpoint<T>(name: string, text: string, schema: z.ZodType<T>): T {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new CheckpointError(`the checkpoint ${name} is not JSON`);
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new CheckpointError(
      `the checkpoint ${name} is not one this version reads (${issue?.path.join('.') || 'value'}: ${issue?.message ?? 'invalid'})`,
    );
  }
  return parsed.data;
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
  await warehouse.insert(CHECKPOINTS, [
    {
      pipeline,
      stream,
      state: JSON.stringify(state),
      updated_at: new Date().toISOString(),
      revision: nextRevision().toString(),
    },
  ]);
}
