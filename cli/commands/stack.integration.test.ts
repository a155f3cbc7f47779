// `tributary stack` through the real CLI: `up` leaves Kafka and Connect running after the command
// exits and prints addresses that answer, `status` sees them, `down` stops every recorded process.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  connectAnswers,
  DEBEZIUM_CONNECTORS,
  isRunning,
  kafkaAnswers,
  mongoAnswers,
  readStackRecord,
  stopDetachedStack,
} from '../../stack/index.ts';

const CLI = new URL('../../bin/tributary.js', import.meta.url).pathname;

function tributary(...args: string[]) {
  const result = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 300_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr.trim() };
}

let scratch: string;
let dataDir: string;

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'tributary-stack-cli-'));
  dataDir = join(scratch, 'stack');
});
afterAll(async () => {
  // Whatever a failed assertion left running: the processes are detached, nothing else stops them.
  await stopDetachedStack(dataDir).catch(() => undefined);
  await rm(scratch, { recursive: true, force: true });
});

describe('tributary stack', () => {
  it('up starts services that outlive the CLI, status sees them, down stops them', async () => {
    const up = tributary('stack', 'up', '--data-dir', dataDir);
    expect(up.stderr).toMatch(/connect started/);
    expect(up.code).toBe(0);
    const bootstrapServers = /^bootstrap servers: (127\.0\.0\.1:\d+)$/m.exec(up.stdout)?.[1];
    const connectUrl = /^connect: (http:\/\/127\.0\.0\.1:\d+)$/m.exec(up.stdout)?.[1];
    expect(bootstrapServers).toBeDefined();
    expect(connectUrl).toBeDefined();
    expect(await kafkaAnswers(bootstrapServers as string)).toBe(true);
    expect(await connectAnswers(connectUrl as string)).toBe(true);
    const plugins = (await (await fetch(`${connectUrl}/connector-plugins`)).json()) as { class: string }[];
    expect(plugins.map((plugin) => plugin.class)).toContain(DEBEZIUM_CONNECTORS.mongodb);

    const status = tributary('stack', 'status', '--data-dir', dataDir);
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(new RegExp(`^kafka +pid \\d+ +answering +${bootstrapServers}$`, 'm'));
    expect(status.stdout).toMatch(new RegExp(`^connect +pid \\d+ +answering +${connectUrl}$`, 'm'));

    const record = await readStackRecord(dataDir);
    const pids = [record?.kafka?.pid, record?.connect?.pid];
    expect(pids.every((pid) => pid !== undefined && isRunning(pid))).toBe(true);

    const down = tributary('stack', 'down', '--data-dir', dataDir);
    expect(down.code).toBe(0);
    expect(down.stdout).toMatch(/^connect \(pid \d+\): stopped$/m);
    expect(down.stdout).toMatch(/^kafka \(pid \d+\): stopped$/m);
    expect(pids.filter((pid) => isRunning(pid as number))).toEqual([]);
    expect(existsSync(join(dataDir, 'stack.json'))).toBe(false);

    expect(tributary('stack', 'status', '--data-dir', dataDir)).toMatchObject({
      code: 1,
      stderr: `tributary: no stack recorded in ${dataDir}: start one with "tributary stack up"`,
    });
  });

  it('up --mongo starts only the MongoDB stand-in (mongo-java-server), which answers the driver', async () => {
    const mongoDir = join(scratch, 'mongo-only');
    try {
      const up = tributary('stack', 'up', '--mongo', '--data-dir', mongoDir);
      expect(up.code, up.stderr).toBe(0);
      const url = /^mongo: (mongodb:\/\/127\.0\.0\.1:\d+\/\S*)$/m.exec(up.stdout)?.[1];
      expect(url).toBeDefined();
      expect(up.stdout).not.toMatch(/bootstrap servers/);
      expect(await mongoAnswers(url as string)).toBe(true);
      const status = tributary('stack', 'status', '--data-dir', mongoDir);
      expect(status.stdout).toMatch(/^mongo +pid \d+ +answering +mongodb:/m);
      const pid = (await readStackRecord(mongoDir))?.mongo?.pid as number;
      const down = tributary('stack', 'down', '--data-dir', mongoDir);
      expect(down.stdout).toMatch(/^mongo \(pid \d+\): stopped$/m);
      expect(isRunning(pid)).toBe(false);
    } finally {
      await stopDetachedStack(mongoDir).catch(() => undefined);
    }
  });

  it('an unknown flag or action: usage and exit 2, nothing started', () => {
    const flag = tributary('stack', 'down', '--kafka', '--data-dir', dataDir);
    expect(flag.code).toBe(2);
    expect(flag.stderr).toMatch(/^tributary: Unknown option '--kafka'[\s\S]*Usage: tributary stack up/);
    const action = tributary('stack', 'start');
    expect(action.code).toBe(2);
    expect(action.stderr).toMatch(/^tributary: unknown action "start": say up, status or down/);
    expect(existsSync(join(dataDir, 'stack.json'))).toBe(false);
  });
});
