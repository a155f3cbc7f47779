// The scheduler against a real warehouse (chDB) and its run history: catch-up after downtime per
// policy, retries with backoff for retriable failures only, runs left `running` by a process that
// died, timeouts, and a kind registered from outside the scheduler.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parsePipelineConfig } from '../config/pipeline.ts';
import { TributaryError } from '../errors/index.ts';
import { scratchDir } from '../test/scratch.ts';
import { migrate, openWarehouse, type Warehouse } from '../warehouse/index.ts';
import { builtinJobKinds, defineJobKind, resolveJobs } from './index.ts';
import { FileLease } from './lease.ts';
import { HOST, WarehouseRunStore, type RunRecord } from './run-store.ts';
import { Scheduler } from './scheduler.ts';
import { z } from 'zod';

let warehouse: Warehouse;
let lockDir: string;
const T0 = new Date('2026-03-01T10:00:00Z');

beforeAll(async () => {
  const dir = await scratchDir('scheduler');
  warehouse = await openWarehouse({ kind: 'chdb', path: join(dir, 'warehouse') });
  await migrate(warehouse);
  lockDir = join(dir, 'locks');
});
afterAll(async () => {
  await warehouse?.close();
});

let attemptsOfFlaky = 0;
const registry = () =>
  builtinJobKinds().register(
    // A kind from outside the scheduler: fails as told, then succeeds.
    defineJobKind({
      name: 'flaky',
      options: z.strictObject({
        failures: z.number().int(),
        retriable: z.boolean(),
        sleepMs: z.number().default(0),
      }),
      async run(options, context) {
        attemptsOfFlaky++;
        if (options.sleepMs > 0) await new Promise((resolve) => setTimeout(resolve, options.sleepMs));
        if (attemptsOfFlaky <= options.failures)
          throw new TributaryError(`planned failure ${attemptsOfFlaky}`, { retriable: options.retriable });
        return { rowsAffected: context.scheduledFor.getUTCSeconds() };
      },
    }),
  );

function schedulerFor(job: Record<string, unknown>, clock: { now: Date }) {
  const config = parsePipelineConfig({
    sources: [{ kind: 'postgres', name: 'unused', url: 'postgres://u@127.0.0.1:1/x' }],
    warehouse: { dir: '/unused' },
    jobs: [job],
  });
  return new Scheduler({
    jobs: resolveJobs(config.jobs, registry()),
    store: new WarehouseRunStore(warehouse),
    lease: new FileLease(lockDir),
    context: { warehouse, config, log: () => undefined },
    retryFirstMs: 50,
    now: () => clock.now,
  });
}

const at = (seconds: number) => new Date(T0.getTime() + seconds * 1000);

async function runsOf(job: string): Promise<RunRecord[]> {
  return (await new WarehouseRunStore(warehouse).history(job, 1000)).reverse();
}

describe('scheduler', () => {
  it.each([
    ['all', 3, 0],
    ['latest', 1, 2],
    ['none', 0, 3],
  ] as const)(
    'after three missed times, catchUp %s runs %i and records %i as skipped',
    async (catchUp, ran, skipped) => {
      const name = `rollup-${catchUp}`;
      const clock = { now: at(0) };
      const scheduler = schedulerFor(
        {
          name,
          cron: '*/2 * * * * *',
          kind: 'sql',
          catchUp,
          options: { sql: 'SELECT number AS n FROM numbers(3)', table: `rollup_${catchUp}` },
        },
        clock,
      );
      const job = scheduler.jobs[0]!;
      await scheduler.reconcile(job, { current: true });
      // Down from 0 s to 7 s: the times 2, 4 and 6 were missed.
      clock.now = at(7);
      await scheduler.reconcile(job, { current: false });
      const runs = await runsOf(name);
      expect(runs.filter((run) => run.status === 'succeeded').map((run) => run.scheduledFor)).toEqual([
        at(0),
        ...[at(2), at(4), at(6)].slice(3 - ran),
      ]);
      expect(runs.filter((run) => run.status === 'skipped').map((run) => run.scheduledFor)).toEqual(
        [at(2), at(4), at(6)].slice(0, skipped),
      );
      // Each run replaced its day's rows: three rows, not three per run.
      const [rows] = await warehouse.query<{ n: string }>(`SELECT count() AS n FROM rollup_${catchUp}`);
      expect(Number(rows?.n)).toBe(3);
      // A second scheduler reconciling the same moment finds nothing left to do.
      expect(await scheduler.reconcile(job, { current: false })).toEqual([]);
    },
  );

  it('retries a retriable failure with backoff and records every attempt', async () => {
    attemptsOfFlaky = 0;
    const clock = { now: at(100) };
    const scheduler = schedulerFor(
      {
        name: 'flaky-retriable',
        cron: '*/2 * * * * *',
        kind: 'flaky',
        retries: 3,
        options: { failures: 2, retriable: true },
      },
      clock,
    );
    await scheduler.reconcile(scheduler.jobs[0]!, { current: true });
    const runs = await runsOf('flaky-retriable');
    expect(runs.map((run) => [run.attempt, run.status, run.willRetry])).toEqual([
      [1, 'failed', true],
      [2, 'failed', true],
      [3, 'succeeded', false],
    ]);
    expect(runs.every((run) => run.scheduledFor.getTime() === at(100).getTime())).toBe(true);
  });

  it('records a failure that retrying cannot mend once, and still runs the next time', async () => {
    attemptsOfFlaky = 0;
    const clock = { now: at(200) };
    const scheduler = schedulerFor(
      {
        name: 'flaky-final',
        cron: '*/2 * * * * *',
        kind: 'flaky',
        retries: 3,
        catchUp: 'all',
        options: { failures: 1, retriable: false },
      },
      clock,
    );
    const job = scheduler.jobs[0]!;
    await scheduler.reconcile(job, { current: true });
    clock.now = at(202);
    await scheduler.reconcile(job, { current: true });
    const runs = await runsOf('flaky-final');
    expect(runs.map((run) => [run.scheduledFor, run.status, run.error])).toEqual([
      [at(200), 'failed', 'planned failure 1'],
      [at(202), 'succeeded', ''],
    ]);
  });

  it('marks a run left running by a dead process as interrupted and runs its time again', async () => {
    attemptsOfFlaky = 0;
    const clock = { now: at(300) };
    const scheduler = schedulerFor(
      {
        name: 'killed',
        cron: '*/2 * * * * *',
        kind: 'flaky',
        catchUp: 'none',
        options: { failures: 0, retriable: false },
      },
      clock,
    );
    const store = new WarehouseRunStore(warehouse);
    await store.save({
      runId: 'dead-run',
      job: 'killed',
      kind: 'flaky',
      scheduledFor: at(300),
      startedAt: at(300),
      finishedAt: null,
      status: 'running',
      attempt: 1,
      willRetry: false,
      rowsAffected: 0,
      error: '',
      host: `elsewhere:${HOST}`,
    });
    await scheduler.reconcile(scheduler.jobs[0]!, { current: false });
    const runs = await runsOf('killed');
    expect(runs.map((run) => [run.scheduledFor, run.attempt, run.status])).toEqual([
      [at(300), 1, 'interrupted'],
      [at(300), 2, 'succeeded'],
    ]);
  });

  it('fails a run that outlives its timeout, as retriable', async () => {
    attemptsOfFlaky = 1;
    const clock = { now: at(400) };
    const scheduler = schedulerFor(
      {
        name: 'slow',
        cron: '*/2 * * * * *',
        kind: 'flaky',
        retries: 0,
        timeoutSeconds: 0.2,
        options: { failures: 0, retriable: false, sleepMs: 2000 },
      },
      clock,
    );
    await scheduler.reconcile(scheduler.jobs[0]!, { current: true });
    const runs = await runsOf('slow');
    expect(runs.map((run) => [run.status, run.error])).toEqual([['failed', 'timed out after 0.2 s']]);
  });

  it('runs a report job for the day it is asked for, and records it', async () => {
    const outDir = join(lockDir, '..', 'reports');
    const scheduler = schedulerFor(
      {
        name: 'daily-report',
        cron: '0 6 * * *',
        kind: 'report',
        options: { pack: 'learning', period: 'daily', outDir },
      },
      { now: at(500) },
    );
    const { run } = await scheduler.runNow('daily-report', { asOfDay: '2026-02-27' });
    expect([run?.status, run?.error]).toEqual(['succeeded', '']);
    expect(run?.rowsAffected).toBeGreaterThan(0);
    const dry = await scheduler.runNow('daily-report', { asOfDay: '2026-02-27', dryRun: true });
    expect(dry.outcome?.summary).toBe(
      `would write the daily report of learning as of 2026-02-27 into ${outDir}`,
    );
  });

  it('names the wrong fields of a job whose options do not fit its kind', () => {
    const config = parsePipelineConfig({
      sources: [{ kind: 'postgres', name: 'unused', url: 'postgres://u@127.0.0.1:1/x' }],
      warehouse: { dir: '/unused' },
      jobs: [
        { name: 'a', cron: '* * * * *', kind: 'sql', options: { sql: 'DROP TABLE x', table: 'bad name' } },
        { name: 'b', cron: '* * * * *', kind: 'dashboard' },
      ],
    });
    expect(() => resolveJobs(config.jobs, registry())).toThrow(
      [
        'jobs[0].options.sql: must be one SELECT statement',
        'jobs[0].options.table: must be a table name (letters, digits and _)',
        'jobs[1].kind: unknown kind "dashboard"; known kinds: export, flaky, report, sql, transform, writeback',
      ].join('\n'),
    );
  });
});
