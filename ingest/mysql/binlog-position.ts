// Binary-log positions: where a change sits (file and byte offset) and the mirror `_version` that
// orders a row's changes. Files are numbered (`binlog.000042`) and only grow, so the version is the
// file's number in the high bits and the offset below: a rotation (FLUSH BINARY LOGS, a full file)
// moves every later change above every earlier one. Rows of one rows event share the event's
// offset; each row takes at least one byte of the event, so `offset + row` stays below the next
// event's offset and every row of every event gets its own version.
import { z } from 'zod';
import type { StreamCodec } from '../landing/types.ts';

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

export function binlogFileNumber(file: string): number {
  const match = /\.(\d+)$/.exec(file);
  const number = match ? Number(match[1]) : Number.NaN;
  if (!Number.isSafeInteger(number) || number > MAX_FILE_NUMBER)
    throw new Error(`binary log file name "${file}" does not end in a file number`);
  return number;
}

/** The version of a row: its event's offset plus its index in the event. */
export function binlogVersion(file: string, offset: number, row = 0): number {
  return binlogFileNumber(file) * 2 ** OFFSET_BITS + offset + row;
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
