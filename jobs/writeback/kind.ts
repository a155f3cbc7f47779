// `writeback` jobs: a pack's results written back into its operational stores, as of the run's
// scheduled time. The stores are the config's sources, named in the options.
import { MongoClient } from 'mongodb';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { z } from 'zod';
import type { PipelineConfig } from '../../config/pipeline.ts';
import { databaseSource, getPack, packs, type SourcePack } from '../../packs/index.ts';
import { TributaryError } from '../../errors/index.ts';
import { packSource } from '../builtin/transform.ts';
import { defineJobKind, type JobContext } from '../kinds.ts';
import { formatReport, runTarget, type TargetReport } from './engine.ts';
/** The packs that write back. */
const writingPacks = () =>
  Object.values(packs)
    .filter((pack) => pack.writeback !== undefined)
    .map((pack) => pack.name);

/** The collections a pack's write-back fills (capture leaves them out by default). */
export function writtenCollections(pack: string): string[] {
  return [...(packs[pack]?.writeback?.collections ?? [])];
}

/** The Postgres tables a pack's write-back fills (capture of `all` leaves them out). */
export function writtenTables(pack: string): string[] {
  return [...(packs[pack]?.writeback?.tables ?? [])];
}

/** Every collection the config's packs write back. */
export function writebackCollections(config: PipelineConfig): string[] {
  const packs = new Set([
    ...config.packs.map((pack) => pack.name),
    ...config.sources.map((source) => source.pack ?? ''),
  ]);
  return [...packs].flatMap(writtenCollections);
}

export const writebackOptionsSchema = z.strictObject({
  pack: z.string().refine((pack) => writingPacks().includes(pack), {
    error: () => `must be a pack with a write-back: ${writingPacks().join(', ')}`,
  }),
  /** The config's MongoDB source to write documents into (its database, or `database`). */
  mongo: z.string().optional(),
  database: z.string().optional(),
  /** The config's Postgres source whose user_streaks to maintain. */
  postgres: z.string().optional(),
  /**
   * The config's MySQL sources by the pack's service (`{ course: courses_course }`); by default each
   * service's source is the one the pack's capture names (`<pack source>_<service>`), when present.
   */
  mysql: z.record(z.string(), z.string()).optional(),
  /** Only these targets (`daily_user_metrics`, …, `user_streaks`); default all. */
  targets: z.array(z.string()).optional(),
  /** Rows per write; by default each target's own (1,000 documents; user_streaks 10,000 rows). */
  batchSize: z.number().int().positive().max(100_000).optional(),
});
export type WritebackOptions = z.infer<typeof writebackOptionsSchema>;

export async function runWriteback(
  options: WritebackOptions,
  context: Pick<JobContext, 'warehouse' | 'config' | 'dryRun' | 'scheduledFor' | 'signal'>,
): Promise<TargetReport[]> {
  const { config } = context;
  const pack = getPack(options.pack);
  const mongoSource =
    options.mongo === undefined
      ? undefined
      : config.sources.find((source) => source.kind === 'mongo' && source.name === options.mongo);
  const postgresSource =
    options.postgres === undefined
      ? undefined
      : config.sources.find((source) => source.kind === 'postgres' && source.name === options.postgres);
  if (options.mongo !== undefined && !mongoSource)
    throw new TributaryError(`writeback: no mongo source named "${options.mongo}" in the config`);
  if (options.postgres !== undefined && !postgresSource)
    throw new TributaryError(`writeback: no postgres source named "${options.postgres}" in the config`);
  const mysqlUrls = mysqlSourcesOf(pack, config, options.mysql);
  const mongoClient = mongoSource ? new MongoClient(mongoSource.url) : undefined;
  const postgres = postgresSource ? new pg.Client({ connectionString: postgresSource.url }) : undefined;
  const mysqlConnections: Record<string, mysql.Connection> = {};
  const closeAll = async () => {
    await mongoClient?.close().catch(() => undefined);
    await postgres?.end().catch(() => undefined);
    for (const connection of Object.values(mysqlConnections)) await connection.end().catch(() => undefined);
  };
  try {
    await mongoClient?.connect();
    await postgres?.connect();
    for (const [service, url] of Object.entries(mysqlUrls))
      mysqlConnections[service] = await mysql.createConnection({ uri: url, timezone: 'Z' });
  } catch (error) {
    await closeAll();
    throw new TributaryError(`writeback: cannot reach the store: ${(error as Error).message}`, {
      retriable: true,
      cause: error,
    });
  }
  try {
    const database =
      options.database ??
      (mongoSource?.kind === 'mongo'
        ? (mongoSource.database ?? mongoSource.collections?.[0]?.split('.')[0])
        : undefined) ??
      pack.mongo?.database ??
      pack.name;
    const targets = (pack.writeback?.targets ?? (() => []))({
      pack: pack.name,
      source: postgresSource?.name ?? packSource(config, pack.name),
      mongo: mongoClient?.db(database),
      postgres,
      mysql: mysqlConnections,
      asOf: context.scheduledFor,
    }).filter(
      (target) =>
        options.targets === undefined ||
        options.targets.some((name) => target.name.endsWith(`.${name}`) || target.name.endsWith(`:${name}`)),
    );
    const reports: TargetReport[] = [];
    for (const target of targets)
      reports.push(
        await runTarget(
          context.warehouse,
          target,
          { pack: pack.name },
          { dryRun: context.dryRun, batchSize: options.batchSize, signal: context.signal },
        ),
      );
    return reports;
  } finally {
    await closeAll();
  }
}

/** The URL of each of the pack's MySQL services the write-back can reach, by service. */
function mysqlSourcesOf(
  pack: SourcePack,
  config: PipelineConfig,
  named: Record<string, string> | undefined,
): Record<string, string> {
  const urls: Record<string, string> = {};
  for (const { service } of pack.mysql?.databases ?? []) {
    const name = named?.[service] ?? databaseSource(pack, packSource(config, pack.name), service);
    const source = config.sources.find((each) => each.kind === 'mysql' && each.name === name);
    if (source) urls[service] = source.url;
    else if (named?.[service] !== undefined)
      throw new TributaryError(`writeback: no mysql source named "${name}" in the config`);
  }
  for (const service of Object.keys(named ?? {}))
    if (!(pack.mysql?.databases ?? []).some((database) => database.service === service))
      throw new TributaryError(`writeback: the ${pack.name} pack has no MySQL service "${service}"`);
  return urls;
}

export const writebackJobKind = defineJobKind({
  name: 'writeback',
  options: writebackOptionsSchema,
  async run(options, context) {
    const reports = await runWriteback(options, context);
    for (const report of reports) context.log(formatReport(report, context.dryRun));
    return {
      rowsAffected: context.dryRun
        ? 0
        : reports.reduce((sum, report) => sum + report.inserted + report.updated, 0),
      summary: reports.map((report) => formatReport(report, context.dryRun)).join('\n'),
    };
  },
});
