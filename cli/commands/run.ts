// `tributary run`: the pipeline as a service, from one config file.
import { findConfigFile, loadPipelineConfig } from '../../config/pipeline.ts';
import { builtinJobKinds, resolveJobs } from '../../jobs/index.ts';
import { ROLES, runService, type Role } from '../../service/index.ts';
import { parseCommandArgs, UsageError } from '../args.ts';

const usage = `Usage: tributary run [--config FILE] [--role capture|ingest|transform|jobs|all]

Runs the pipeline the config describes until SIGTERM/SIGINT. Role all (the default) runs every
source's capture, the ingest workers (Kafka transport), the transforms and the scheduler in this
process around one warehouse; against a ClickHouse server each role can run in its own process
(several "ingest" processes form one consumer group). /healthz, /readyz and /metrics are served on
service.host:service.port (127.0.0.1:9464 by default).

The first SIGTERM/SIGINT stops taking work, lands what is in flight, commits positions and exits 0
(after service.shutdownSeconds at most); a second one exits at once (positions stay safe: the
next start replays exactly what had not landed).

Options:
  --config FILE   the config file (default: tributary.config.yaml/.yml/.json in this directory)
  --role ROLE     capture, ingest, transform, jobs or all (default all)`;

const spec = { usage, options: { config: { type: 'string' }, role: { type: 'string' } } } as const;

export const runCommand = {
  async run(argv: string[]): Promise<number> {
    const { values } = parseCommandArgs(argv, spec);
    if (values.help) {
      console.log(usage);
      return 0;
    }
    const role = (values.role ?? 'all') as Role;
    if (!ROLES.includes(role))
      throw new UsageError(`--role must be one of ${ROLES.join(', ')}, got "${values.role}"`, usage);
    const config = loadPipelineConfig(findConfigFile(values.config));
    const registry = builtinJobKinds();
    resolveJobs(config.jobs, registry);
    const stop = new AbortController();
    const log = (message: string) => console.error(`${new Date().toISOString()} ${message}`);
    let signals = 0;
    const onSignal = (signal: NodeJS.Signals) => {
      signals++;
      if (signals > 1) {
        log(`${signal} again: exiting now (positions are safe; the next start replays what had not landed)`);
        process.exit(130);
      }
      log(`${signal}: stopping (send it again to exit at once)`);
      stop.abort();
      // Bounded: whatever still runs after the grace period is left to the next start's replay.
      setTimeout(() => {
        log(`still stopping after ${config.service.shutdownSeconds} s: exiting`);
        process.exit(1);
      }, config.service.shutdownSeconds * 1000).unref();
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    try {
      await runService({ config, role, registry, signal: stop.signal, log });
      log('stopped');
      return 0;
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
  },
};
