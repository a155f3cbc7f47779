// `tributary run`: the pipeline as one long-running service. Roles: `capture` (every source, into
// the warehouse or onto Kafka), `ingest` (Kafka → warehouse, one consumer-group member), `transform`
// (the packs' incremental transforms, again and again), `jobs` (the scheduler); `all` runs what the
// transport needs around one warehouse (chDB admits one process per directory). A stop signal stops
// taking work, lands what is in flight, commits positions, and returns.
import { setTimeout as sleep } from 'node:timers/promises';
import kafkajs from 'kafkajs';
import { MongoClient } from 'mongodb';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { piiPolicyOptions } from '../config/index.ts';
import {
  piiEnvironmentOf,
  warehouseTargetOf,
  type MongoSourceConfig,
  type MysqlSourceConfig,
  type PipelineConfig,
  type PostgresSourceConfig,
  type SourceConfig,
} from '../config/pipeline.ts';
import { startDashboards, type RunningDashboards } from '../dashboards/index.ts';
import { TributaryError } from '../errors/index.ts';
import { startFeatureServer, type RunningFeatureServer } from '../features/index.ts';
import {
  createPiiPolicy,
  KafkaSink,
  replicationNames,
  runKafkaWorker,
  runMongoCapture,
  runMysqlCapture,
  runPostgresCapture,
  TeeSink,
  WarehouseSink,
  type LandingSink,
  type PiiPolicy,
} from '../ingest/index.ts';
import {
  openScheduler,
  transformPack,
  writtenCollections,
  writtenTables,
  type JobKindRegistry,
} from '../jobs/index.ts';
import { documentFieldsOf, getPack } from '../packs/index.ts';
import { migrate, openWarehouse, type Warehouse } from '../warehouse/index.ts';
import { startSqlEndpoint, type SqlEndpoint } from '../sql/index.ts';
import { startServiceHttp, type ReadinessCheck, type ServiceHttp } from './http.ts';
import { ServiceMetrics } from './metrics.ts';
import { OnlineStoreRefresh } from './online-store-refresh.ts';
import { openPackSyncs, type PackSyncs } from './pack-sync.ts';

export const ROLES = ['capture', 'ingest', 'transform', 'jobs', 'all'] as const;
export type Role = (typeof ROLES)[number];

export interface ServiceOptions {
  config: PipelineConfig;
  role: Role;
  registry: JobKindRegistry;
  /** Aborted on the first SIGTERM/SIGINT. */
  signal: AbortSignal;
  log(message: string): void;
  /** Called once the endpoints listen. */
  onListening?(url: string): void;
}

/** Backoff for a source that cannot be reached: doubling from 1 s, at most 30 s. */
const RESTART_FIRST_MS = 1000;
const RESTART_MAX_MS = 30_000;

export async function runService(options: ServiceOptions): Promise<void> {
  const { config, role, signal, log } = options;
  const kafka = config.transport.kind === 'kafka' ? config.transport : undefined;
  const runs = {
    capture: role === 'capture' || role === 'all',
    ingest: kafka !== undefined && (role === 'ingest' || role === 'all'),
    transform: role === 'transform' || role === 'all',
    jobs: role === 'jobs' || role === 'all',
  };
  if (role === 'ingest' && !kafka)
    throw new TributaryError(
      'role ingest needs transport.kind kafka in the config (with direct transport, capture lands itself)',
    );
  const metrics = new ServiceMetrics();
  const needsWarehouse = runs.ingest || runs.transform || runs.jobs || (runs.capture && !kafka);
  const warehouse = needsWarehouse ? await openWarehouse(warehouseTargetOf(config.warehouse)) : undefined;
  const probes = new SourceProbes(config.sources, metrics);
  let http: ServiceHttp | undefined;
  let dashboards: RunningDashboards | undefined;
  let sql: SqlEndpoint | undefined;
  let featureServer: RunningFeatureServer | undefined;
  let syncs: PackSyncs | undefined;
  const stop = new AbortController();
  const onStop = () => stop.abort();
  signal.addEventListener('abort', onStop);
  const tasks: Promise<void>[] = [];
  let failure: unknown;
  const watch = (name: string, task: Promise<void>) =>
    tasks.push(
      task.catch((error: unknown) => {
        log(`${name} failed: ${(error as Error).message}`);
        failure ??= error;
        stop.abort();
      }),
    );
  try {
    if (warehouse) await migrate(warehouse);
    http = await startServiceHttp({
      host: config.service.host,
      port: config.service.port,
      metrics,
      checks: () => [
        ...probes.checks(),
        ...(warehouse
          ? [
              {
                name: 'warehouse',
                check: async () => void (await warehouse.query('SELECT 1')),
              } satisfies ReadinessCheck,
            ]
          : []),
      ],
    });
    options.onListening?.(http.url);
    log(`role ${role}: /healthz, /readyz and /metrics on ${http.url}`);
    // Readers are served by the process that holds the warehouse: with the embedded engine no other
    // process may open it. In a split deployment the transform role serves them.
    const servesReaders = warehouse !== undefined && (role === 'all' || role === 'transform');
    if (servesReaders && config.dashboards) {
      dashboards = await startDashboards({ warehouse, ...config.dashboards });
      log(`dashboards on ${dashboards.url}`);
    }
    if (servesReaders && config.sql) {
      sql = await startSqlEndpoint({ warehouse, ...config.sql });
      log(`SQL endpoint (ClickHouse HTTP protocol) on ${sql.url}`);
    }
    // It reads Redis alone, so any role could serve it; the one that keeps the store fresh does.
    if (runs.transform && config.features?.serve) {
      featureServer = await startFeatureServer({
        from: config.features.onlineStore,
        ...config.features.serve,
      });
      log(`feature server on ${featureServer.url}`);
    }
    probes.start();
    const pii = createPiiPolicy(piiPolicyOptions(config.pii.keep, piiEnvironmentOf(config.pii)));
    if (runs.capture) {
      syncs = await openPackSyncs(config, kafka?.brokers);
      for (const source of config.sources)
        watch(
          `capture ${source.name}`,
          keepCapturing(source, config, warehouse, kafka?.brokers, pii, metrics, stop.signal, log, syncs),
        );
      for (const loop of syncs.reconcileLoops(stop.signal, log)) watch('sync reconciliation', loop);
    }
    if (runs.ingest && kafka && warehouse)
      watch(
        'ingest',
        runKafkaWorker({
          brokers: kafka.brokers,
          group: kafka.group,
          topics: new RegExp(`^(${[...new Set(config.sources.map((source) => source.name))].join('|')})\\.`),
          warehouse,
          pii,
          documentFields: documentFieldsOf(
            getPack(config.sources.find((source) => source.kind === 'mongo')?.pack ?? 'learning'),
          ),
          signal: stop.signal,
          events: metrics.landingObserver(
            (table) => table.split('.')[0] ?? '',
            ['landed'],
            logObserver(log, 'ingest'),
          ),
        }).then(() => undefined),
      );
    if (runs.transform && warehouse && config.service.transformEverySeconds > 0)
      watch('transform', transformLoop(config, warehouse, metrics, stop.signal, log));
    if (runs.jobs && warehouse && config.jobs.length > 0) {
      const { scheduler, close } = await openScheduler({
        config,
        warehouse,
        registry: options.registry,
        log,
        observer: metrics.schedulerObserver(),
      });
      await scheduler.start();
      log(`scheduler: ${config.jobs.length} job(s)`);
      watch(
        'scheduler',
        (async () => {
          await waitFor(stop.signal);
          await scheduler.stop(config.service.shutdownSeconds * 500);
          await close();
        })(),
      );
    }
    await waitFor(stop.signal);
    if (!failure) log('stopping: landing what is in flight');
    await Promise.all(tasks);
    if (failure) throw failure;
  } finally {
    signal.removeEventListener('abort', onStop);
    probes.stop();
    await syncs?.close();
    await dashboards?.close();
    await sql?.close();
    await featureServer?.close();
    await http?.close();
    await probes.close();
    await warehouse?.close();
  }
}

function waitFor(signal: AbortSignal): Promise<void> {
  return signal.aborted
    ? Promise.resolve()
    : new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
}

function logObserver(log: (message: string) => void, prefix: string) {
  return {
    log: (message: string) => log(`${prefix}: ${message}`),
    warn: (message: string) => log(`${prefix}: warning: ${message}`),
  };
}

/** One source's capture, started again after a retriable failure (a source down, a network cut). */
async function keepCapturing(
  source: SourceConfig,
  config: PipelineConfig,
  warehouse: Warehouse | undefined,
  brokers: string[] | undefined,
  pii: PiiPolicy,
  metrics: ServiceMetrics,
  signal: AbortSignal,
  log: (message: string) => void,
  syncs: PackSyncs,
): Promise<void> {
  const follow = syncs.followers.get(source.name);
  for (let failures = 0; !signal.aborted;) {
    const landing: LandingSink = brokers
      ? new KafkaSink({ brokers, pii })
      : new WarehouseSink(warehouse as Warehouse);
    // A source the pack's sync follows hands it each batch once the batch landed.
    const sink = follow ? new TeeSink(landing, follow) : landing;
    const events = metrics.landingObserver(
      source.name,
      brokers ? ['captured'] : ['captured', 'landed'],
      logObserver(log, `${source.kind} ${source.name}`),
    );
    try {
      if (source.kind === 'postgres') await capturePostgres(source, sink, pii, signal, events);
      else if (source.kind === 'mysql') await captureMysql(source, sink, pii, signal, events);
      else await captureMongo(source, config, sink, pii, signal, events);
      return;
    } catch (error) {
      if (signal.aborted) return;
      if (!isRetriable(error)) throw error;
      const wait = Math.min(RESTART_MAX_MS, RESTART_FIRST_MS * 2 ** failures++);
      log(`${source.kind} ${source.name}: ${(error as Error).message}; starting again in ${wait} ms`);
      await sleep(wait, undefined, { signal }).catch(() => undefined);
    }
  }
}

/**
 * A failure that starting the capture again can mend (it resumes from its stored position): the
 * capture's own retriable errors, the broker's (a leader moving), and a lost connection to the
 * source (a restart, a network cut, a walsender timed out on a busy machine).
 */
function isRetriable(error: unknown): boolean {
  if (error instanceof TributaryError || error instanceof kafkajs.KafkaJSError) return error.retriable;
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ECONNRESET' || code === 'ECONNREFUSED' || code === 'ETIMEDOUT' || code === 'EPIPE')
    return true;
  // node-postgres gives no code when the server closes the connection.
  return error instanceof Error && error.message === 'Connection terminated unexpectedly';
}

function capturePostgres(
  source: PostgresSourceConfig,
  sink: LandingSink,
  pii: PiiPolicy,
  signal: AbortSignal,
  events: ReturnType<ServiceMetrics['landingObserver']>,
) {
  return runPostgresCapture({
    sourceUrl: source.url,
    sourceName: source.name,
    // The tables the source's pack writes back are left out of `all`: capturing them would feed
    // the write-back's output back into the pipeline.
    tables:
      source.tables === 'all'
        ? { kind: 'all', exclude: source.pack ? writtenTables(source.pack) : [] }
        : { kind: 'list', tables: source.tables },
    sink,
    pii,
    untilCaughtUp: false,
    signal,
    events,
  });
}

function captureMysql(
  source: MysqlSourceConfig,
  sink: LandingSink,
  pii: PiiPolicy,
  signal: AbortSignal,
  events: ReturnType<ServiceMetrics['landingObserver']>,
) {
  return runMysqlCapture({
    sourceUrl: source.url,
    sourceName: source.name,
    // No pack writes a whole MySQL table back (courses owns three columns of `course`, whose other
    // columns the mapping reads), so `all` leaves nothing out.
    tables: source.tables === 'all' ? { kind: 'all' } : { kind: 'list', tables: source.tables },
    sink,
    pii,
    untilCaughtUp: false,
    signal,
    events,
  });
}

function captureMongo(
  source: MongoSourceConfig,
  config: PipelineConfig,
  sink: LandingSink,
  pii: PiiPolicy,
  signal: AbortSignal,
  events: ReturnType<ServiceMetrics['landingObserver']>,
) {
  const pack = getPack(source.pack);
  // The collections Tributary's write-back fills are left out unless the config says otherwise:
  // capturing them would feed the write-back's output back into the pipeline.
  const exclude = source.exclude ?? writtenCollections(source.pack);
  return runMongoCapture({
    sourceUrl: source.url,
    sourceName: source.name,
    collections:
      source.collections !== undefined
        ? { kind: 'list', collections: source.collections }
        : { kind: 'database', database: source.database ?? '', exclude },
    sink,
    pii,
    documentFields: documentFieldsOf(pack),
    untilCaughtUp: false,
    signal,
    events,
  });
}

/** The packs' incremental transforms, one pass every `transformEverySeconds` until stopped. */
async function transformLoop(
  config: PipelineConfig,
  warehouse: Warehouse,
  metrics: ServiceMetrics,
  signal: AbortSignal,
  log: (message: string) => void,
): Promise<void> {
  const packs = config.packs.length > 0 ? config.packs.map((pack) => pack.name) : [];
  const store = config.features ? new OnlineStoreRefresh(config, warehouse, metrics, log) : undefined;
  while (!signal.aborted) {
    for (const pack of packs) {
      if (signal.aborted) break;
      try {
        const result = await transformPack(warehouse, config, pack);
        metrics.transformFinished(pack, result.mode, result.seconds);
        if (result.mode !== 'unchanged')
          log(`transform ${pack}: ${result.mode} run in ${result.seconds.toFixed(2)} s`);
        await store?.after(pack);
      } catch (error) {
        // Mirrors not there yet (nothing captured so far) or a warehouse hiccup: next pass tries again.
        if (!(error instanceof TributaryError) || !error.retriable)
          log(`transform ${pack}: ${(error as Error).message}`);
      }
    }
    await sleep(config.service.transformEverySeconds * 1000, undefined, { signal }).catch(() => undefined);
  }
}

/** Connections to the sources for /readyz and the slots' retained WAL. */
class SourceProbes {
  private readonly pools = new Map<string, pg.Pool>();
  private readonly mongos = new Map<string, MongoClient>();
  private readonly mysqls = new Map<string, mysql.Pool>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly sources: SourceConfig[],
    private readonly metrics: ServiceMetrics,
  ) {
    for (const source of sources) {
      const key = `${source.kind}:${source.name}`;
      if (source.kind === 'postgres')
        this.pools.set(
          key,
          new pg.Pool({ connectionString: source.url, max: 1, idleTimeoutMillis: 0 }).on(
            'error',
            () => undefined,
          ),
        );
      else if (source.kind === 'mysql')
        this.mysqls.set(key, mysql.createPool({ uri: source.url, connectionLimit: 1, connectTimeout: 3000 }));
      else this.mongos.set(key, new MongoClient(source.url, { serverSelectionTimeoutMS: 3000 }));
    }
  }

  checks(): ReadinessCheck[] {
    return this.sources.map((source) => {
      const key = `${source.kind}:${source.name}`;
      return {
        name: `source ${source.name} (${source.kind})`,
        check: async () => {
          if (source.kind === 'postgres') await this.pools.get(key)?.query('SELECT 1');
          else if (source.kind === 'mysql') await this.mysqls.get(key)?.query('SELECT 1');
          else await this.mongos.get(key)?.db('admin').command({ ping: 1 });
        },
      };
    });
  }

  start(): void {
    const poll = () => void this.pollSlots();
    poll();
    this.timer = setInterval(poll, 5000).unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private async pollSlots(): Promise<void> {
    for (const source of this.sources) {
      if (source.kind !== 'postgres') continue;
      try {
        const result = await this.pools
          .get(`postgres:${source.name}`)
          ?.query<{ slot_name: string; retained: string }>(
            `SELECT slot_name, pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn)::bigint AS retained
           FROM pg_replication_slots WHERE slot_name = $1`,
            [replicationNames(source.name).slot],
          );
        for (const row of result?.rows ?? [])
          this.metrics.retainedWal.set({ source: source.name, slot: row.slot_name }, Number(row.retained));
      } catch {
        /* the source is down: /readyz says so */
      }
    }
  }

  async close(): Promise<void> {
    for (const pool of this.pools.values()) await pool.end().catch(() => undefined);
    for (const client of this.mongos.values()) await client.close().catch(() => undefined);
    for (const pool of this.mysqls.values()) await pool.end().catch(() => undefined);
  }
}
