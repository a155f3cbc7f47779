// The service's Prometheus metrics (prom-client): what landed per source and table, lag, dead
// letters, landing retries, Postgres slots' retained WAL, job runs, transform durations and the
// online store's refreshes. The
// landing runner reports through `LandingObserver`; this module turns its reports into series.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { LandingObserver } from '../ingest/index.ts';
import type { RunRecord, SchedulerObserver } from '../jobs/index.ts';

export type Stage = 'captured' | 'landed';

export class ServiceMetrics {
  readonly registry = new Registry();
  private readonly changes = new Counter({
    name: 'tributary_changes_total',
    help: 'Changes by source and table: captured (read from the source and handed on) and landed (accepted by the warehouse)',
    labelNames: ['source', 'table', 'stage'] as const,
    registers: [this.registry],
  });
  private readonly lag = new Gauge({
    name: 'tributary_lag_seconds',
    help: "Seconds from the newest landed change's commit at the source to its landing in the warehouse",
    labelNames: ['source'] as const,
    registers: [this.registry],
  });
  private readonly lastLanded = new Gauge({
    name: 'tributary_last_landed_timestamp_seconds',
    help: 'When the source last landed a batch (Unix time)',
    labelNames: ['source'] as const,
    registers: [this.registry],
  });
  private readonly deadLetters = new Counter({
    name: 'tributary_dead_letters_total',
    help: 'Changes sent to the dead letters',
    labelNames: ['source'] as const,
    registers: [this.registry],
  });
  private readonly retries = new Counter({
    name: 'tributary_landing_retries_total',
    help: 'Landing attempts that failed and were retried after a backoff',
    labelNames: ['source'] as const,
    registers: [this.registry],
  });
  readonly retainedWal = new Gauge({
    name: 'tributary_postgres_slot_retained_wal_bytes',
    help: "WAL bytes Postgres keeps for the source's replication slot (current WAL position − restart_lsn)",
    labelNames: ['source', 'slot'] as const,
    registers: [this.registry],
  });
  private readonly jobRuns = new Counter({
    name: 'tributary_job_runs_total',
    help: 'Job run attempts by final status',
    labelNames: ['job', 'status'] as const,
    registers: [this.registry],
  });
  private readonly jobDuration = new Histogram({
    name: 'tributary_job_run_duration_seconds',
    help: 'Job run attempt durations',
    labelNames: ['job', 'status'] as const,
    buckets: [0.05, 0.1, 0.5, 1, 5, 15, 60, 300, 1800],
    registers: [this.registry],
  });
  private readonly transformDuration = new Histogram({
    name: 'tributary_transform_duration_seconds',
    help: 'Transform run durations by pack and mode (full, incremental, unchanged)',
    labelNames: ['pack', 'mode'] as const,
    buckets: [0.05, 0.1, 0.5, 1, 2, 5, 15, 60, 300],
    registers: [this.registry],
  });

  private readonly vectorsWritten = new Counter({
    name: 'tributary_online_store_vectors_written_total',
    help: 'Feature vectors written to the online store (changed ones only), by pack and entity',
    labelNames: ['pack', 'entity'] as const,
    registers: [this.registry],
  });
  private readonly lastRefresh = new Gauge({
    name: 'tributary_online_store_last_refresh_timestamp_seconds',
    help: "When the pack's online store was last brought up to date (Unix time): its vectors' freshness",
    labelNames: ['pack'] as const,
    registers: [this.registry],
  });
  private readonly refreshFailures = new Counter({
    name: 'tributary_online_store_refresh_failures_total',
    help: 'Online store refreshes that failed (Redis away, a warehouse error); the next pass tries again',
    labelNames: ['pack'] as const,
    registers: [this.registry],
  });

  constructor(options: { defaultMetrics?: boolean } = {}) {
    if (options.defaultMetrics ?? true)
      collectDefaultMetrics({ register: this.registry, prefix: 'tributary_' });
  }

  /**
   * An observer for one source's landing runner. `stages`: what a landed batch counts as (a
   * capture into the warehouse both captured and landed it; onto Kafka, captured only).
   */
  landingObserver(
    source: string | ((table: string) => string),
    stages: Stage[],
    log: LandingObserver = {},
  ): LandingObserver {
    const sourceOf = typeof source === 'string' ? () => source : source;
    return {
      ...log,
      landed: (stats) => {
        const now = Date.now();
        const sources = new Set<string>();
        for (const [table, count] of stats.byTable) {
          const name = sourceOf(table);
          sources.add(name);
          for (const stage of stages) this.changes.inc({ source: name, table, stage }, count);
        }
        for (const name of sources) {
          if (stats.newestSourceMs !== undefined && stages.includes('landed'))
            this.lag.set({ source: name }, Math.max(0, (now - stats.newestSourceMs) / 1000));
          this.lastLanded.set({ source: name }, now / 1000);
        }
        log.landed?.(stats);
      },
      deadLettered: (stats) => {
        this.deadLetters.inc({ source: sourceOf(stats.stream) }, stats.count);
        log.deadLettered?.(stats);
      },
      retrying: (stats) => {
        this.retries.inc({ source: sourceOf(stats.stream) });
        log.retrying?.(stats);
      },
    };
  }

  schedulerObserver(): SchedulerObserver {
    return {
      runFinished: (run: RunRecord, seconds: number) => {
        this.jobRuns.inc({ job: run.job, status: run.status });
        this.jobDuration.observe({ job: run.job, status: run.status }, seconds);
      },
    };
  }

  transformFinished(pack: string, mode: string, seconds: number): void {
    this.transformDuration.observe({ pack, mode }, seconds);
  }

  onlineStoreRefreshed(pack: string, written: { entity: string; vectors: number }[]): void {
    for (const { entity, vectors } of written) this.vectorsWritten.inc({ pack, entity }, vectors);
    this.lastRefresh.set({ pack }, Date.now() / 1000);
  }

  onlineStoreFailed(pack: string): void {
    this.refreshFailures.inc({ pack });
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
