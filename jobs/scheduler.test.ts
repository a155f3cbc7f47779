import { describe, expect, it } from 'vitest';
import type { RunRecord } from './run-store.ts';
import { overviewAfter } from './scheduler.ts';

const run = (runId: string, at: string, status: RunRecord['status'], attempt = 1): RunRecord => ({
  runId,
  job: 'job',
  kind: 'noop',
  scheduledFor: new Date(at),
  startedAt: new Date(at),
  finishedAt: status === 'running' ? null : new Date(at),
  status,
  attempt,
  willRetry: false,
  rowsAffected: 0,
  error: '',
  host: 'h',
});

describe('the run overview a reconciliation leaves', () => {
  const t1 = '2026-11-01T00:00:01Z';
  const t2 = '2026-11-01T00:00:02Z';
  it.each([
    {
      name: 'a new time: its runs are the last ones',
      before: { running: [], last: new Date(t1), lastRuns: [run('a', t1, 'succeeded')] },
      recorded: [run('b', t2, 'succeeded')],
      after: { running: [], last: new Date(t2), lastRuns: [run('b', t2, 'succeeded')] },
    },
    {
      name: 'an interrupted run marked and run again at the last time: both attempts, the mark replacing it',
      before: { running: [run('a', t1, 'running')], last: new Date(t1), lastRuns: [run('a', t1, 'running')] },
      recorded: [run('a', t1, 'interrupted'), run('b', t1, 'succeeded', 2)],
      after: {
        running: [],
        last: new Date(t1),
        lastRuns: [run('a', t1, 'interrupted'), run('b', t1, 'succeeded', 2)],
      },
    },
    {
      name: 'nothing recorded: as before',
      before: { running: [], last: new Date(t1), lastRuns: [run('a', t1, 'succeeded')] },
      recorded: [],
      after: { running: [], last: new Date(t1), lastRuns: [run('a', t1, 'succeeded')] },
    },
    {
      name: 'an empty history stays empty',
      before: { running: [], last: undefined, lastRuns: [] },
      recorded: [],
      after: { running: [], last: undefined, lastRuns: [] },
    },
    {
      name: 'a run left running: unknown, the store is asked next time',
      before: { running: [], last: new Date(t1), lastRuns: [run('a', t1, 'succeeded')] },
      recorded: [run('b', t2, 'running')],
      after: undefined,
    },
  ])('$name', ({ before, recorded, after }) => {
    expect(overviewAfter(before, recorded)).toEqual(after);
  });
});
