import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileLease } from './lease.ts';

describe('file lease', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tributary-lease-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  const hold = async (lease: FileLease) => {
    expect(await lease.tryAcquire('job')).toBe(true);
    const undisturbed = lease.undisturbed('job');
    await lease.release('job');
    return undisturbed;
  };

  it('says whether another holder took the job since this one released it', async () => {
    const a = new FileLease(dir, { tracksHolders: true });
    const b = new FileLease(dir, { tracksHolders: true });
    expect([await hold(a), await hold(a), await hold(b), await hold(a), await hold(a)]).toEqual([
      false, // never held before
      true,
      false, // first time for b
      false, // b held it in between
      true,
    ]);
  });

  it('never answers undisturbed without tracksHolders (a store other processes may write)', async () => {
    const lease = new FileLease(dir);
    expect([await hold(lease), await hold(lease)]).toEqual([false, false]);
  });

  it('removes its lock directory on close when nothing is left in it, and makes it again on use', async () => {
    const locks = join(dir, 'locks');
    const a = new FileLease(locks);
    const b = new FileLease(locks);
    expect(await a.tryAcquire('job')).toBe(true);
    await b.close(); // a still holds its lock: the directory stays
    expect(existsSync(join(locks, 'job.lock'))).toBe(true);
    await a.release('job');
    await a.close();
    expect(existsSync(locks)).toBe(false);
    expect(await b.tryAcquire('job')).toBe(true); // after its close, b makes the directory again
    await b.release('job');
    await b.close();
    expect(existsSync(locks)).toBe(false);
  });
});
