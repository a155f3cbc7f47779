// Scratch directories of integration tests (warehouses, logs, broker data), under the run's root:
// the global setup removes it when the run ends, passed or failed, so no test leaves its hundreds
// of MB in the system's temp directory.
import { mkdtemp } from 'node:fs/promises';
import { join } from 'node:path';
import { inject } from 'vitest';

export async function scratchDir(prefix: string): Promise<string> {
  return mkdtemp(join(inject('scratchRoot'), `${prefix}-`));
}
