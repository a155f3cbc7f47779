// The packs' syncs from the captures (`sync` on a MongoDB source): opened before the captures
// start, each capture of the pack's sources teed into it once a batch landed, a reconciliation
// pass every `reconcileEveryMinutes`, closed after the captures stopped.
import { setTimeout as sleep } from 'node:timers/promises';
import { MongoClient } from 'mongodb';
import pg from 'pg';
import type { MongoSourceConfig, PipelineConfig } from '../config/pipeline.ts';
import { TributaryError } from '../errors/index.ts';
import type { SourceChange } from '../ingest/landing/types.ts';
import { databaseSource, getPack, type RunningPackSync } from '../packs/index.ts';

export interface PackSyncs {
  /** The follower of each synced source's captured changes, by source name. */
  followers: ReadonlyMap<string, (changes: readonly SourceChange[]) => Promise<void>>;
  /** Reconciliation passes until `signal` is aborted (one task per sync). */
  reconcileLoops(signal: AbortSignal, log: (message: string) => void): Promise<void>[];
  close(): Promise<void>;
}

export async function openPackSyncs(
  config: PipelineConfig,
  kafkaBrokers?: readonly string[],
): Promise<PackSyncs> {
  const followers = new Map<string, (changes: readonly SourceChange[]) => Promise<void>>();
  const opened: { source: MongoSourceConfig; running: RunningPackSync }[] = [];
  const clients: MongoClient[] = [];
  const pools: pg.Pool[] = [];
  const close = async () => {
    for (const { running } of opened) await running.close().catch(() => undefined);
    await Promise.allSettled([
      ...clients.map((client) => client.close()),
      ...pools.map((pool) => pool.end()),
    ]);
  };
  try {
    for (const source of config.sources) {
      if (source.kind !== 'mongo' || !source.sync) continue;
      const pack = getPack(source.pack);
      if (!pack.sync) throw new TributaryError(`sources: ${source.name}: pack "${pack.name}" has no sync`);
      // The pack's Postgres databases, each the Postgres source of the same pack named for its service
      // (or, for a pack with one database, that pack's only Postgres source).
      const candidates = config.sources.filter((each) => each.kind === 'postgres' && each.pack === pack.name);
      const postgres: Record<string, pg.Pool> = {};
      const synced = [source.name];
      for (const database of pack.postgres) {
        const named = databaseSource(pack, source.name, database.service);
        const found =
          candidates.find((each) => each.name === named) ??
          (pack.postgres.length === 1 ? candidates[0] : undefined);
        if (!found || found.kind !== 'postgres')
          throw new TributaryError(
            `sources: ${source.name}: the ${pack.name} sync needs a postgres source with pack ${pack.name} for its "${database.service}" database (named ${named})`,
          );
        const pool = new pg.Pool({ connectionString: found.url, max: 2 });
        pools.push(pool);
        postgres[database.service] = pool;
        synced.push(found.name);
      }
      const client = new MongoClient(source.url);
      clients.push(client);
      await client.connect();
      const running = await pack.sync.open({
        mongo: client.db(source.database ?? ''),
        postgres,
        kafkaBrokers,
        amqpUrl: source.sync.amqpUrl,
      });
      opened.push({ source, running });
      for (const name of synced) followers.set(name, (changes) => running.follow(changes));
    }
  } catch (error) {
    await close();
    throw error;
  }
  return {
    followers,
    reconcileLoops: (signal, log) =>
      opened
        .filter(({ source }) => (source.sync?.reconcileEveryMinutes ?? 0) > 0)
        .map(async ({ source, running }) => {
          const every = (source.sync?.reconcileEveryMinutes ?? 0) * 60_000;
          while (!signal.aborted) {
            await sleep(every, undefined, { signal }).catch(() => undefined);
            if (signal.aborted) break;
            const fixed = await running.reconcile();
            log(`sync ${source.name}: reconciliation fixed ${fixed} cop${fixed === 1 ? 'y' : 'ies'}`);
          }
        }),
    close,
  };
}
