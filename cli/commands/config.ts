// `tributary config check`: validates the config file (one line per wrong field, exit 2), then
// tries every source and the warehouse: one line each, ok or the reason.
import { MongoClient } from 'mongodb';
import pg from 'pg';
import {
  findConfigFile,
  loadPipelineConfig,
  warehouseTargetOf,
  type SourceConfig,
} from '../../config/pipeline.ts';
import { builtinJobKinds, resolveJobs } from '../../jobs/index.ts';
import { checkBinlogCapture, connectMysql, parseMysqlUrl, redactUrl } from '../../ingest/index.ts';
import { openWarehouse } from '../../warehouse/index.ts';
import { parseCommandArgs, UsageError } from '../args.ts';

const usage = `Usage: tributary config check [--config FILE]

Validates the config (every wrong field on its own line; exit 2), then connects to each source and
to the warehouse and prints one line each: ok, or why not. Exit 0 when all are reachable, 1 otherwise.

Options:
  --config FILE   the config file (default: tributary.config.yaml/.yml/.json in this directory)`;

const spec = { usage, options: { config: { type: 'string' } } } as const;

export const configCommand = {
  async run(argv: string[]): Promise<number> {
    const [action, ...rest] = argv;
    if (action === '--help' || action === '-h') {
      console.log(usage);
      return 0;
    }
    if (action !== 'check') throw new UsageError(`unknown action "${action ?? ''}"`, usage);
    const { values } = parseCommandArgs(rest, spec);
    if (values.help) {
      console.log(usage);
      return 0;
    }
    const file = findConfigFile(values.config);
    const config = loadPipelineConfig(file);
    resolveJobs(config.jobs, builtinJobKinds());
    let failed = 0;
    for (const source of config.sources) {
      const problem = await checkSource(source);
      if (problem) failed++;
      console.log(`source ${source.name} (${source.kind}, ${redactUrl(source.url)}): ${problem ?? 'ok'}`);
    }
    const target = warehouseTargetOf(config.warehouse);
    try {
      const warehouse = await openWarehouse(target);
      try {
        await warehouse.query('SELECT 1');
      } finally {
        await warehouse.close();
      }
      console.log(`warehouse (${target.kind === 'chdb' ? target.path : redactUrl(target.url)}): ok`);
    } catch (error) {
      failed++;
      console.log(`warehouse: ${(error as Error).message.split('\n')[0]}`);
    }
    return failed === 0 ? 0 : 1;
  },
};

async function checkSource(source: SourceConfig): Promise<string | undefined> {
  if (source.kind === 'postgres') {
    const client = new pg.Client({ connectionString: source.url, connectionTimeoutMillis: 5000 });
    try {
      await client.connect();
      const { rows } = await client.query<{ wal_level: string }>(
        "SELECT current_setting('wal_level') AS wal_level",
      );
      if (rows[0]?.wal_level !== 'logical')
        return `wal_level is ${rows[0]?.wal_level ?? 'unknown'}; capture needs logical (ALTER SYSTEM SET wal_level = logical, then restart)`;
      return undefined;
    } catch (error) {
      return (error as Error).message;
    } finally {
      await client.end().catch(() => undefined);
    }
  }
  if (source.kind === 'mysql') {
    // The same checks capture makes at start: the login, the database, a ROW/FULL binlog, the grants.
    const settings = parseMysqlUrl(source.url);
    let connection: Awaited<ReturnType<typeof connectMysql>> | undefined;
    try {
      connection = await connectMysql(settings);
      await checkBinlogCapture(connection, settings);
      return undefined;
    } catch (error) {
      return (error as Error).message;
    } finally {
      await connection?.end().catch(() => undefined);
    }
  }
  const client = new MongoClient(source.url, { serverSelectionTimeoutMS: 5000 });
  try {
    await client.connect();
    await client.db('admin').command({ ping: 1 });
    return undefined;
  } catch (error) {
    return (error as Error).message;
  } finally {
    await client.close().catch(() => undefined);
  }
}
