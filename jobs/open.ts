// Builds the scheduler the config describes: with `scheduler.control`, leases are advisory locks
// and the authoritative history is in that Postgres database (copied to the warehouse's job_runs);
// without it, a lock file per job beside the embedded warehouse and the history in job_runs.
import { createHash } from 'node:crypto';
import { basename, dirname, join } from 'node:path';
import { tmpdir } from 'node:os';
import type { PipelineConfig } from '../config/pipeline.ts';
import type { Warehouse } from '../warehouse/index.ts';
import { resolveJobs, type JobKindRegistry, type JobContext } from './kinds.ts';
import { AdvisoryLease, FileLease, type Lease } from './lease.ts';
import { PostgresRunStore, TeeRunStore, WarehouseRunStore, type RunStore } from './run-store.ts';
import { Scheduler, type SchedulerObserver } from './scheduler.ts';

export async function openScheduler(options: {
  config: PipelineConfig;
  warehouse: Warehouse;
  registry: JobKindRegistry;
  log: JobContext['log'];
  observer?: SchedulerObserver;
}): Promise<{ scheduler: Scheduler; store: RunStore; close(): Promise<void> }> {
  const { config, warehouse } = options;
  const jobs = resolveJobs(config.jobs, options.registry);
  let store: RunStore;
  let lease: Lease;
  const control = config.scheduler.control;
  if (control !== undefined) {
    store = new TeeRunStore([await PostgresRunStore.open(control), new WarehouseRunStore(warehouse)]);
    lease = await AdvisoryLease.open(control);
  } else {
    store = new WarehouseRunStore(warehouse);
    // chDB admits one process per directory, so beside it a lock file is enough; a ClickHouse
    // server shared by several schedulers needs `scheduler.control` for leases across machines.
    lease =
      'dir' in config.warehouse
        ? new FileLease(join(dirname(config.warehouse.dir), `.${basename(config.warehouse.dir)}.locks`), {
            tracksHolders: true,
          })
        : new FileLease(join(tmpdir(), `tributary-locks-${serverKey(config.warehouse.url)}`));
  }
  const scheduler = new Scheduler({
    jobs,
    store,
    lease,
    context: { warehouse, config, log: options.log },
    retryFirstMs: config.scheduler.retryFirstMs,
    maxCatchUp: config.scheduler.maxCatchUp,
    observer: options.observer,
  });
  return {
    scheduler,
    store,
    async close() {
      await lease.close();
      await store.close();
    },
  };
}

/**
 * One lock directory per ClickHouse server and database: pipelines on this machine that write to
 * different warehouses must not wait on each other's jobs of the same name. Credentials are left
 * out, so a password change keeps the same locks.
 */
function serverKey(url: string): string {
  const { protocol, host, pathname, searchParams } = new URL(url);
  const identity = `${protocol}//${host}${pathname}?database=${searchParams.get('database') ?? ''}`;
  return createHash('sha256').update(identity).digest('hex').slice(0, 16);
}
