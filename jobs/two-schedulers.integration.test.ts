// Two scheduler processes ("tributary run --role jobs") pointed at one control database, one job
// every three seconds for a minute: each scheduled time ran exactly once, including the one whose
// process was SIGKILLed mid-run while holding the lease (recorded as interrupted and run again).
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exited, type Exit } from '../test/child-process.ts';
import { createTestDatabase, dropTestDatabase } from '../test/postgres.ts';
import { scratchDir } from '../test/scratch.ts';
import { CronSchedule } from './schedule.ts';

const TRIBUTARY = new URL('../bin/tributary.js', import.meta.url).pathname;
const CRON = '*/3 * * * * *';
let dir: string;
let controlUrl: string;

beforeAll(async () => {
  dir = await scratchDir('schedulers');
  controlUrl = await createTestDatabase('control');
});
afterAll(async () => {
  if (controlUrl) await dropTestDatabase(controlUrl);
});

interface Scheduler {
  child: ChildProcess;
  exit: Promise<Exit>;
}

function startScheduler(name: string): Scheduler {
  const config = join(dir, `${name}.json`);
  writeFileSync(
    config,
    JSON.stringify({
      sources: [{ kind: 'postgres', name: 'control', url: controlUrl }],
      warehouse: { dir: `warehouse-${name}` },
      scheduler: { control: controlUrl },
      service: { port: 0, shutdownSeconds: 20 },
      jobs: [
        {
          name: 'ticker',
          cron: CRON,
          kind: 'sql',
          catchUp: 'all',
          retries: 0,
          // About 1.2 s of work: a kill lands mid-run.
          options: { sql: 'SELECT number AS n FROM numbers(4) WHERE sleepEachRow(0.3) = 0', table: 'ticks' },
        },
      ],
    }),
  );
  const child = spawn(process.execPath, [TRIBUTARY, 'run', '--role', 'jobs', '--config', config], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  return { child, exit: exited(child) };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(condition: () => Promise<boolean>, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition().catch(() => false))) {
    if (Date.now() > deadline) throw new Error('timed out waiting for both schedulers to run the job');
    await sleep(500);
  }
}

describe('two schedulers', () => {
  it('run each scheduled time exactly once, across a SIGKILL of the lease holder', async () => {
    const client = new pg.Client({ connectionString: controlUrl });
    await client.connect();
    const schedulers = new Map<string, Scheduler>([
      ['a', startScheduler('a')],
      ['b', startScheduler('b')],
    ]);
    try {
      // Running (process start takes a while on a loaded machine), for about 20 s.
      await until(async () => {
        const { rows } = await client.query<{ runs: string }>(
          "SELECT count(*) AS runs FROM tributary_job_runs WHERE status = 'succeeded'",
        );
        return Number(rows[0]?.runs) >= 3;
      });
      await sleep(8_000);
      // Kill whichever process is running the job right now.
      let killed: string | undefined;
      for (let tries = 0; tries < 100 && !killed; tries++) {
        const { rows } = await client.query<{ host: string }>(
          "SELECT host FROM tributary_job_runs WHERE status = 'running' ORDER BY started_at DESC LIMIT 1",
        );
        const pid = Number(rows[0]?.host.split(':').at(-1));
        for (const [name, scheduler] of schedulers)
          if (scheduler.child.pid === pid) {
            scheduler.child.kill('SIGKILL');
            killed = name;
          }
        if (!killed) await sleep(100);
      }
      expect(killed).toBeDefined();
      const dead = schedulers.get(killed ?? '');
      expect((await dead?.exit)?.signal).toBe('SIGKILL');
      // Its replacement starts a little later (its own warehouse: chDB's directory of the dead one
      // is left as a crash leaves it).
      await sleep(3_000);
      schedulers.set(`${killed}2`, startScheduler(`${killed}2`));
      schedulers.delete(killed ?? '');
      await sleep(30_000);
      for (const scheduler of schedulers.values()) scheduler.child.kill('SIGTERM');
      for (const [name, scheduler] of schedulers) {
        const exit = await scheduler.exit;
        expect(exit.code, `${name}: ${exit.stderr}`).toBe(0);
      }

      const { rows } = await client.query<{ scheduled_for: Date; status: string; host: string }>(
        'SELECT scheduled_for, status, host FROM tributary_job_runs ORDER BY scheduled_for, attempt',
      );
      const times = [...new Set(rows.map((row) => row.scheduled_for.getTime()))].sort((a, b) => a - b);
      // Every scheduled time from the first run to the last is there: none missed.
      const schedule = new CronSchedule(CRON, 'UTC');
      const first = times[0] ?? 0;
      const last = times.at(-1) ?? 0;
      expect(times).toEqual([
        first,
        ...schedule.timesBetween(new Date(first), new Date(last), 1000).map((time) => time.getTime()),
      ]);
      expect(times.length).toBeGreaterThanOrEqual(14);
      // …and each succeeded exactly once.
      const succeeded = new Map<number, number>();
      for (const row of rows)
        if (row.status === 'succeeded')
          succeeded.set(row.scheduled_for.getTime(), (succeeded.get(row.scheduled_for.getTime()) ?? 0) + 1);
      expect(times.filter((time) => succeeded.get(time) !== 1)).toEqual([]);
      // The killed run is on record as interrupted; both processes did run the job.
      expect(rows.filter((row) => row.status === 'interrupted')).toHaveLength(1);
      expect(new Set(rows.map((row) => row.host)).size).toBeGreaterThanOrEqual(2);
      expect(rows.filter((row) => !['succeeded', 'interrupted'].includes(row.status))).toEqual([]);
    } finally {
      for (const scheduler of schedulers.values()) scheduler.child.kill('SIGKILL');
      await client.end();
    }
  });
});
