// `writeback` jobs: a pack's results written back into its operational stores, as of the run's
// scheduled time. The stores are the config's sources, named in the options.
import { MongoClient } from 'mongodb';
import pg from 'pg';
import { z } from 'zod';
import type { PipelineConfig } from '../../config/pipeline.ts';
import { getPack, packs } from '../../packs/index.ts';
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
  /** Only these targets (`daily_user_metrics`, …, `user_streaks`); default all. */
  targets: z.array(z.string()).optional(),
  batchSize: z.number().int().positive().max(100_000).default(1000),
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
  const mongoClient = mongoSource ? new MongoClient(mongoSource.url) : undefined;
  const postgres = postgresSource ? new pg.Client({ connectionString: postgresSource.url }) : undefined;
  try {
    await mongoClient?.connect();
    await postgres?.connect();
  } catch (error) {
    await mongoClient?.close().catch(() => undefined);
    await postgres?.end().catch(() => undefined);
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
    await mongoClient?.close().catch(() => undefined);
    await postgres?.end().catch(() => undefined);
  }
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
