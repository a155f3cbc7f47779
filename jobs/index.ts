// The jobs seam: the kind registry (built-ins, and `register` for kinds other work brings), the
// scheduler with its run history and leases, and the write-back.
import { JobKindRegistry } from './kinds.ts';
import { sqlJobKind } from './builtin/sql.ts';
import { exportJobKind } from './builtin/export.ts';
import { reportJobKind } from './builtin/report.ts';
import { transformJobKind } from './builtin/transform.ts';
import { writebackJobKind } from './writeback/index.ts';

export { defineJobKind, JobDefinitionError, JobKindRegistry, resolveJobs } from './kinds.ts';
export type { JobContext, JobDefinition, JobKind, JobOutcome } from './kinds.ts';
export { Scheduler, endOfDay } from './scheduler.ts';
export type { SchedulerObserver, RunRequest } from './scheduler.ts';
export { AdvisoryLease, FileLease } from './lease.ts';
export type { Lease } from './lease.ts';
export { PostgresRunStore, TeeRunStore, WarehouseRunStore, isSettled } from './run-store.ts';
export type { RunRecord, RunStatus, RunStore } from './run-store.ts';
export { CronSchedule, planCatchUp } from './schedule.ts';
export { exclusively, packSource, transformPack } from './builtin/transform.ts';

/** The kinds every installation has; other kinds register on the registry this returns. */
export function builtinJobKinds(): JobKindRegistry {
  return new JobKindRegistry()
    .register(transformJobKind)
    .register(sqlJobKind)
    .register(writebackJobKind)
    .register(reportJobKind)
    .register(exportJobKind);
}
export { openScheduler } from './open.ts';
export { formatReport, runWriteback, writebackCollections, writtenCollections } from './writeback/index.ts';
export type { TargetReport, WritebackOptions } from './writeback/index.ts';
