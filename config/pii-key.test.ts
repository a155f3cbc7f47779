import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, loadOrCreateKey } from './index.ts';

const directories: string[] = [];
const scratch = () => {
  const directory = mkdtempSync(join(tmpdir(), 'tributary-key-'));
  directories.push(directory);
  return directory;
};
afterEach(() => {
  for (const directory of directories.splice(0)) rmSync(directory, { recursive: true, force: true });
});

describe('the PII key file', () => {
  it('is created at random on first use, readable by its owner only, and read back the same', () => {
    const path = join(scratch(), '.tributary', 'pii.key');
    const key = loadOrCreateKey(path);
    expect(key).toMatch(/^[0-9a-f]{64}$/);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(loadOrCreateKey(path)).toBe(key);
    expect(loadOrCreateKey(join(scratch(), 'pii.key'))).not.toBe(key);
  });

  it('is refused when other users can read it', () => {
    const path = join(scratch(), 'pii.key');
    loadOrCreateKey(path);
    chmodSync(path, 0o644);
    expect(() => loadOrCreateKey(path)).toThrow(ConfigError);
    expect(() => loadOrCreateKey(path)).toThrow(/can be read by other users \(mode 644\): run chmod 600/);
  });

  it('is refused when git tracks it', () => {
    const directory = scratch();
    const path = join(directory, 'pii.key');
    loadOrCreateKey(path);
    const git = (...args: string[]) => execFileSync('git', args, { cwd: directory, stdio: 'ignore' });
    git('init', '-q');
    git('add', 'pii.key');
    expect(() => loadOrCreateKey(path)).toThrow(/is tracked by git/);
    git('rm', '-q', '--cached', 'pii.key');
    expect(loadOrCreateKey(path)).toMatch(/^[0-9a-f]{64}$/);
  });
});
