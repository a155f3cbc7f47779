// Postgres log sequence numbers ('16/B374D848') as plain numbers: exact below 2^53 bytes of WAL
// (8 PiB), which keeps them cheap to compare and to store as the mirrors' UInt64 `_version`.
import { CaptureError } from '../errors.ts';

export function parseLsn(text: string): number {
  const slash = text.indexOf('/');
  if (slash < 0) throw new CaptureError(`not an LSN: '${text}'`);
  return parseInt(text.slice(0, slash), 16) * 2 ** 32 + parseInt(text.slice(slash + 1), 16);
}

export function formatLsn(lsn: number): string {
  const high = Math.floor(lsn / 2 ** 32);
  const low = lsn - high * 2 ** 32;
  return `${high.toString(16).toUpperCase()}/${low.toString(16).toUpperCase()}`;
}
