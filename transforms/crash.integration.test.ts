// Transforms under SIGKILL: `tributary transform` killed 20 times at seeded random moments (full
// runs and incremental ones, so kills land while facts, partial aggregates and marts are being
// rewritten), then run once to the end: every mart equals a full recompute, byte for byte.
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { exited } from '../test/child-process.ts';
import { learningWarehouse, SOURCE } from '../test/learning-warehouse.ts';
import { learningPack } from '../packs/learning/index.ts';
import { openWarehouse, type Warehouse } from '../warehouse/index.ts';
import { runTransforms } from './run.ts';

const CLI = new URL('../bin/tributary.js', import.meta.url).pathname;
const MARTS = [
  'mart_daily_user_metrics',
  'mart_dau',
  'mart_content_performance',
  'agg_content_weekly',
  'agg_daily_segments',
  'agg_content_segments',
  'agg_segment_users',
  'mart_retention',
  'mart_ab_results',
  'agg_ab_segments',
];

function transform(warehouseDir: string, full: boolean) {
  const child = spawn(
    process.execPath,
    [CLI, 'transform', '--warehouse', warehouseDir, '--pack', 'learning', ...(full ? ['--full'] : [])],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  return { child, exit: exited(child) };
}

/** A mart's rows of one pack, every column but `pack`, as ClickHouse writes them (TSV, sorted). */
async function martText(warehouse: Warehouse, mart: string, pack: string): Promise<string> {
  const bytes = await warehouse.queryBytes(
    `SELECT * EXCEPT (pack) FROM ${mart} WHERE pack = {pack:String} ORDER BY ALL`,
    'TabSeparated',
    { pack },
  );
  return bytes.toString('utf8');
}

describe('transforms under SIGKILL', () => {
  it('leaves every mart equal to a full recompute after 20 kills at seeded random moments', async () => {
    const data = await learningWarehouse({ users: 40, days: 12, seed: 5 });
    const target = data.warehouse.target;
    if (target.kind !== 'chdb') throw new Error('the test warehouse is embedded');
    // The transform processes need the directory: this process lets go of it.
    await data.close();
    let seed = 11;
    const random = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
    const outcomes: string[] = [];
    for (let kill = 0; kill < 20; kill++) {
      const run = transform(target.path, kill % 2 === 0);
      await new Promise((resolve) => setTimeout(resolve, 300 + random() * 3700));
      run.child.kill('SIGKILL');
      const { code, signal } = await run.exit;
      outcomes.push(signal ?? `exit ${code}`);
    }
    // Most runs were killed mid-way (a few may have finished first).
    expect(outcomes.filter((outcome) => outcome === 'SIGKILL').length).toBeGreaterThanOrEqual(15);
    const last = await transform(target.path, false).exit;
    expect(last.code, last.stderr).toBe(0);
    const warehouse = await openWarehouse(target);
    try {
      await runTransforms({
        warehouse,
        pack: 'recompute',
        mapping: learningPack.mapping(SOURCE),
        full: true,
      });
      for (const mart of MARTS) {
        const recomputed = await martText(warehouse, mart, 'recompute');
        expect(recomputed.length, `${mart} is not empty`).toBeGreaterThan(0);
        expect(await martText(warehouse, mart, 'learning'), mart).toBe(recomputed);
      }
    } finally {
      await warehouse.close();
    }
  });
});
