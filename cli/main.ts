// The `tributary` command: dispatches subcommands and turns every expected failure into one clear
// line on stderr and a non-zero exit code.
import { UsageError } from './args.ts';
import { isExpectedError } from './errors.ts';

interface Command {
  summary: string;
  /** Loaded on use: a command pulls in only its own dependencies (and their exit hooks). */
  load(): Promise<{ run(argv: string[]): Promise<number> }>;
}

const commands: Record<string, Command> = {
  demo: {
    summary: 'run the embedded end-to-end demo on a simulated product',
    load: async () => (await import('./commands/demo.ts')).demoCommand,
  },
  capture: {
    summary:
      'capture a Postgres database or MongoDB collections into the warehouse (snapshot, then streaming)',
    load: async () => (await import('./commands/capture.ts')).captureCommand,
  },
  ingest: {
    summary: 'land change events from Kafka in the warehouse (a consumer-group worker)',
    load: async () => (await import('./commands/ingest.ts')).ingestCommand,
  },
  transform: {
    summary: "build facts and marts (daily metrics, DAU, content, retention, A/B) from a pack's mirrors",
    load: async () => (await import('./commands/transform.ts')).transformCommand,
  },
  features: {
    summary: "a pack's ML features: catalogue, Redis online store (materialize, get)",
    load: async () => (await import('./commands/features.ts')).featuresCommand,
  },
  export: {
    summary: 'export point-in-time correct feature sets (Parquet, Arrow, CSV) for ML training',
    load: async () => (await import('./commands/export.ts')).exportCommand,
  },
  dlq: {
    summary: 'list dead letters, replay them to their topics after a fix',
    load: async () => (await import('./commands/dlq.ts')).dlqCommand,
  },
  docs: {
    summary:
      'write the data dictionary (HTML, Markdown): tables, columns, comments, rows, freshness, lineage',
    load: async () => (await import('./commands/docs.ts')).docsCommand,
  },
  query: {
    summary: 'run a SQL statement against a warehouse and print the result',
    load: async () => (await import('./commands/query.ts')).queryCommand,
  },
  dashboards: {
    summary: 'serve the product dashboards and their JSON API over a warehouse',
    load: async () => (await import('./commands/dashboards.ts')).dashboardsCommand,
  },
  report: {
    summary: 'write a daily or weekly HTML/CSV report for a pack and deliver it (webhook, e-mail)',
    load: async () => (await import('./commands/report.ts')).reportCommand,
  },
  sql: {
    summary: "serve the embedded warehouse over ClickHouse's HTTP protocol to SQL clients (JDBC, curl…)",
    load: async () => (await import('./commands/sql.ts')).sqlCommand,
  },
  connectors: {
    summary: 'register Debezium connectors on Kafka Connect, show their state',
    load: async () => (await import('./commands/connectors.ts')).connectorsCommand,
  },
  init: {
    summary: 'write a commented starter config for "tributary run"',
    load: async () => (await import('./commands/init.ts')).initCommand,
  },
  config: {
    summary: 'check the config file: every field, then a connection to each source',
    load: async () => (await import('./commands/config.ts')).configCommand,
  },
  run: {
    summary: 'run the pipeline as a service from the config (capture, ingest, transforms, jobs)',
    load: async () => (await import('./commands/run.ts')).runCommand,
  },
  jobs: {
    summary: 'scheduled jobs: list, run one now or for a day, history',
    load: async () => (await import('./commands/jobs.ts')).jobsCommand,
  },
  stack: {
    summary:
      'run Kafka, Kafka Connect with Debezium and a MongoDB stand-in on this machine (up, status, down)',
    load: async () => (await import('./commands/stack.ts')).stackCommand,
  },
};

const USAGE = `Usage: tributary <command> [options]

Commands:
${Object.entries(commands)
  .map(([name, command]) => `  ${name.padEnd(10)} ${command.summary}`)
  .join('\n')}

Run "tributary <command> --help" for the options of a command.`;

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    console.log(USAGE);
    return name === undefined ? 2 : 0;
  }
  const command = commands[name];
  if (!command) {
    console.error(`tributary: unknown command "${name}"\n\n${USAGE}`);
    return 2;
  }
  return (await command.load()).run(rest);
}

function exitCodeFor(error: unknown): number {
  if (error instanceof UsageError) {
    console.error(`tributary: ${error.message}\n\n${error.usage}`);
    return 2;
  }
  if (isExpectedError(error)) {
    // One line per problem (a config file's wrong fields each get theirs).
    for (const line of (error as Error).message.split('\n')) console.error(`tributary: ${line}`);
    // A config file with wrong fields exits 2, like wrong flags.
    return (error as { exitCode?: number }).exitCode ?? 1;
  }
  console.error('tributary: unexpected failure:', error);
  return 1;
}

// Exit explicitly (a library's exit hook must not turn a failure into exit code 0), once piped
// output has drained: exiting at once would cut a large result short.
const exitCode = await main(process.argv.slice(2)).catch(exitCodeFor);
process.stdout.write('', () => process.exit(exitCode));
