// Binary-log positions: where a change sits (file and byte offset) and the mirror `_version` that
// orders a row's changes. Files are numbered (`binlog.000042`) and only grow, so the version is the
// file's number in the high bits and the offset below: a rotation (FLUSH BINARY LOGS, a full file)
// moves every later change above every earlier one. Rows of one rows event share the event's
// offset; each row takes at least one byte of the event, so `offset + row` stays below the next
// event's offset and every row of every event gets its own version.
import { z } from 'zod';
import type { StreamCodec } from '../landing/types.ts';
import { CaptureError } from '../errors.ts';

export const binlogPositionSchema = z.object({
  file: z.string().min(1),
  pos: z.number().int().nonnegative(),
});
export type BinlogPosition = z.infer<typeof binlogPositionSchema>;

/** Where a reader continues: after a position, and the GTID state there (for servers with GTIDs). */
export const binlogStateSchema = binlogPositionSchema.extend({
  /** MariaDB `domain-server-seq[,…]` or MySQL `uuid:1-n[,…]`, the transactions read up to `pos`. */
  gtid: z.string().optional(),
});
export type BinlogState = z.infer<typeof binlogStateSchema>;

/** Offsets are 32-bit in the v4 event header. */
const OFFSET_BITS = 32;
/** MariaDB and MySQL number files with 6 digits: 20 bits hold 999999, so versions stay below 2^52. */
const MAX_FILE_NUMBER = 2 ** 20 - 1;

/** The last file asked about: every change of a file asks again. */
let lastFile: { name: string; number: number } | undefined;

export function binlogFileNumber(file: string): number {
  if (lastFile?.name === file) return lastFile.number;
  const match = /\.(\d+)$/.exec(file);
  const number = match ? Number(match[1]) : Number.NaN;
  if (!Number.isSafeInteger(number) || number > MAX_FILE_NUMBER)
    throw new CaptureError(`binary log file name "${file}" does not end in a file number`);
  lastFile = { name: file, number };
  return number;
}

/** A log position as a version: the file's number above the offset, plus `within` (< the next). */
export function binlogVersion(file: string, offset: number, within = 0): number {
  return binlogFileNumber(file) * 2 ** OFFSET_BITS + offset + within;
}

interface BinlogSource {
  file?: string;
  pos?: number;
  row?: number;
}

/**
 * The version of a change, from its envelope as both the native capture and Debezium's MySQL and
 * MariaDB connectors fill it: `source.pos` is where the change's transaction starts in the log
 * (MariaDB writes no position on the events inside one), and `transaction.total_order` its place
 * in the transaction. A transaction takes at least a byte of log per change, so `pos + order`
 * stays below the next transaction's start. Without transaction metadata the row's index in its
 * rows event stands in: then changes of one transaction can tie, and the mirror keeps the one
 * that arrived last, which is the log's order. Snapshot rows carry the snapshot's position.
 * Undefined without a usable position.
 */
export function binlogChangeVersion(envelope: {
  source: BinlogSource;
  transaction?: { total_order: number } | null;
}): number | undefined {
  const { file, pos, row } = envelope.source;
  if (file === undefined || pos === undefined) return undefined;
  try {
    return binlogVersion(file, pos, envelope.transaction?.total_order ?? row ?? 0);
  } catch {
    return undefined;
  }
}

/**
 * What pairs the two halves of a key change: both carry the update's source position (its
 * transaction and its row in the rows event), though each has its own place in the transaction.
 */
export function binlogKeyChangePosition(source: BinlogSource): number | undefined {
  return binlogChangeVersion({ source });
}

export function compareBinlogPositions(a: BinlogPosition, b: BinlogPosition): number {
  return binlogFileNumber(a.file) - binlogFileNumber(b.file) || a.pos - b.pos;
}

export function formatBinlogPosition(position: BinlogPosition): string {
  return `${position.file}:${position.pos}`;
}

export const BINLOG_CODEC: StreamCodec<BinlogPosition, BinlogState> = {
  position: binlogPositionSchema,
  state: binlogStateSchema,
  compare: compareBinlogPositions,
  text: formatBinlogPosition,
};
