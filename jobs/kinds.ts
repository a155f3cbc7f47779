// What a job can run: kinds registered by name, each with a zod schema for its options and a run
// function. The scheduler knows kinds only through this registry, so other work (reports,
// feature export) adds its kinds with `registry.register(…)` and the scheduler stays as it is.
import { z } from 'zod';
import { InvariantError, TributaryError } from '../errors/index.ts';
import type { PipelineConfig } from '../config/pipeline.ts';
import type { Warehouse } from '../warehouse/index.ts';

/** A job definition that does not fit its kind: names the job and the field. */
export class JobDefinitionError extends TributaryError {
  /** A config problem: the CLI exits 2, as for any other wrong field. */
  readonly exitCode = 2;
}

/** What every run gets: its scheduled time (the run's identity), a stop signal and the stores. */
export interface JobContext {
  job: string;
  /** The scheduled time this run is for; a run is idempotent for it. */
  scheduledFor: Date;
  /** The calendar day of `scheduledFor` in the job's time zone (`YYYY-MM-DD`), or `--as-of DAY`. */
  asOfDay: string;
  dryRun: boolean;
  signal: AbortSignal;
  warehouse: Warehouse;
  config: PipelineConfig;
  log(message: string): void;
}

export interface JobOutcome {
  rowsAffected: number;
  /** One line for the CLI and logs (e.g. a dry run's counts). */
  summary?: string;
}

export interface JobKind<Options = unknown> {
  name: string;
  options: z.ZodType<Options>;
  run(options: Options, context: JobContext): Promise<JobOutcome>;
}

/** Declares a kind with its options' type inferred from the schema. */
export function defineJobKind<Schema extends z.ZodType>(kind: {
  name: string;
  options: Schema;
  run(options: z.infer<Schema>, context: JobContext): Promise<JobOutcome>;
}): JobKind<z.infer<Schema>> {
  // The schema's output is the options' type; zod's generic input side needs the widening.
  return kind as unknown as JobKind<z.infer<Schema>>;
}

export class JobKindRegistry {
  private readonly kinds = new Map<string, JobKind>();

  register<Options>(kind: JobKind<Options>): this {
    if (this.kinds.has(kind.name)) throw new InvariantError(`job kind "${kind.name}" is registered twice`);
    this.kinds.set(kind.name, kind as JobKind);
    return this;
  }

  get(name: string): JobKind | undefined {
    return this.kinds.get(name);
  }

  names(): string[] {
    return [...this.kinds.keys()].sort();
  }
}

/** A job as the scheduler runs it: its config entry, with options validated by its kind. */
export interface JobDefinition {
  name: string;
  cron: string;
  timezone: string;
  kind: JobKind;
  options: unknown;
  timeoutMs: number;
  retries: number;
  catchUp: 'all' | 'latest' | 'none';
}

/**
 * Resolves the config's jobs against the registry. Every problem is one line naming the job's
 * field (`jobs[2].options.table: …`), all of them at once.
 */
export function resolveJobs(jobs: PipelineConfig['jobs'], registry: JobKindRegistry): JobDefinition[] {
  const problems: string[] = [];
  const definitions: JobDefinition[] = [];
  jobs.forEach((job, index) => {
    const kind = registry.get(job.kind);
    if (!kind) {
      problems.push(
        `jobs[${index}].kind: unknown kind "${job.kind}"; known kinds: ${registry.names().join(', ')}`,
      );
      return;
    }
    const options = kind.options.safeParse(job.options);
    if (!options.success) {
      for (const issue of options.error.issues)
        problems.push(
          `jobs[${index}].options${issue.path.map((part) => (typeof part === 'number' ? `[${part}]` : `.${String(part)}`)).join('')}: ${issue.message}`,
        );
      return;
    }
    definitions.push({
      name: job.name,
      cron: job.cron,
      timezone: job.timezone,
      kind,
      options: options.data,
      timeoutMs: job.timeoutSeconds * 1000,
      retries: job.retries,
      catchUp: job.catchUp,
    });
  });
  if (problems.length > 0) throw new JobDefinitionError(problems.join('\n'), { context: { problems } });
  return definitions;
}
