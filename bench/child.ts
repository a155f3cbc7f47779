// Child processes of the benchmarks: each runs to its end while its RSS is sampled from /proc, so
// a figure is the child's alone and its memory can be shown at each tenth of the run.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { threadCpuSeconds } from './cpu.ts';

export interface ChildRun {
  stdout: string;
  peakRssMb: number;
  /** RSS samples, every `sampleMs`. */
  rssSamplesMb: number[];
  /**
   * The child's CPU seconds by thread (cpu.ts) at its last sample: up to one sampling interval
   * short, for children that do not report their own.
   */
  cpu: ReturnType<typeof threadCpuSeconds>;
}

export interface ChildOptions {
  /** SIGTERM the child once this settles. */
  signalAfter?: Promise<unknown>;
  env?: Record<string, string>;
  sampleMs?: number;
  /** Called with each line the child writes to stdout, as it comes. */
  onLine?: (line: string) => void;
  /** Run the child on these CPUs only (taskset's list syntax, e.g. `0`). */
  cpus?: string;
}

/** Runs `node args…` to its end; rejects when it exits non-zero. */
export function runChild(args: string[], options: ChildOptions = {}): Promise<ChildRun> {
  return new Promise((resolve, reject) => {
    // taskset execs the command: the child's pid is node's, for the samples below.
    const [command, commandArgs] = options.cpus
      ? ['taskset', ['--cpu-list', options.cpus, process.execPath, ...args]]
      : [process.execPath, args];
    const child = spawn(command, commandArgs, {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, TRIBUTARY_PII_KEY: 'bench-key-0123456789', ...options.env },
    });
    let stdout = '';
    let partial = '';
    let peakRssMb = 0;
    const rssSamplesMb: number[] = [];
    let cpu = { total: 0, main: 0, node: 0, other: 0 };
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      if (!options.onLine) return;
      partial += chunk.toString();
      const lines = partial.split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) options.onLine(line);
    });
    const sampler = setInterval(() => {
      try {
        const rss = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1];
        const mb = Number(rss ?? 0) / 1024;
        peakRssMb = Math.max(peakRssMb, mb);
        rssSamplesMb.push(mb);
        cpu = threadCpuSeconds(child.pid as number);
      } catch {
        // the process has just exited
      }
    }, options.sampleMs ?? 200);
    void options.signalAfter?.then(() => child.kill('SIGTERM'));
    child.once('error', reject);
    child.once('exit', (code) => {
      clearInterval(sampler);
      if (code === 0) resolve({ stdout, peakRssMb, rssSamplesMb, cpu });
      else reject(new Error(`${args.slice(0, 3).join(' ')} exited with ${code}`));
    });
  });
}

/** The RSS at each tenth of a run (the nine interior tenths), in MB. */
export function rssByTenth(samples: number[]): number[] {
  return Array.from(
    { length: 9 },
    (_, index) => samples[Math.min(samples.length - 1, Math.floor((samples.length * (index + 1)) / 10))] ?? 0,
  );
}

/** The last line of a child's stdout, parsed as its JSON report. */
export function reportOf<T>(run: ChildRun): T {
  return JSON.parse(run.stdout.trim().split('\n').at(-1) ?? '{}') as T;
}

/** The arguments that run one ingest worker (worker-process.ts) as a child. */
export const workerArgs = (
  brokers: string,
  group: string,
  topics: string,
  warehouse: string,
  idle?: number,
) => [
  '--import',
  'tsx',
  new URL('./worker-process.ts', import.meta.url).pathname,
  brokers,
  group,
  topics,
  warehouse,
  ...(idle ? [String(idle)] : []),
];

/** What worker-process.ts reports as its last line. */
export interface WorkerReport {
  messages: number;
  deadLetters: number;
  floorRssMb: number;
  /** When the worker had its engine open and started (the direct capture's clock starts there too). */
  readyAt: number;
  firstMessageAt: number;
  lastLandedAt: number;
  /** Batches landed (a partition's each). */
  landings: number;
  /** Fetched batches that held messages (a partition's each). */
  fetches: number;
  /** When the newest message it read was produced (its Kafka timestamp). */
  lastProducedAt: number;
  /** The most a landing trailed the newest message fetched before it (produce → landed). */
  maxBehindProducedMs: number;
  cpuSeconds: number;
  /** The same by thread: JavaScript's main thread, Node's other threads, the engine's (cpu.ts). */
  threadCpu: ReturnType<typeof threadCpuSeconds>;
}
