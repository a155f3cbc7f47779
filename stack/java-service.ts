// Runs one JVM service of the local stack (Kafka broker, Connect worker): spawned attached to this
// process or detached from it, its output kept in a log file, ready once a probe answers.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, createWriteStream, openSync } from 'node:fs';
import { mkdir, open, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { StackError } from './errors.ts';
import { stopProcess } from './processes.ts';

const LOG4J2_CONFIG = fileURLToPath(new URL('./log4j2.properties', import.meta.url));
const TAIL_LINES = 30;

export interface JavaServiceOptions {
  /** Names the service in messages: "Kafka broker". */
  name: string;
  classpath: string;
  mainClass: string;
  args: string[];
  /** Maximum heap, e.g. `512m`: CI runs Postgres, ClickHouse and both JVMs on two cores. */
  maxHeap: string;
  /** JVM options beyond the heap's (a collector chosen for the service's allocations). */
  jvmOptions?: string[];
  /** Receives the JVM's stdout and stderr (appended). */
  logFile: string;
  /**
   * Outlive this process (`tributary stack up`): own process group, output only to the log file.
   * Otherwise the service is killed when this process exits, so a crashed test leaves no JVM behind.
   */
  detached: boolean;
  onLog?: (line: string) => void;
}

export interface JavaService {
  pid: number;
  logFile: string;
  /** Rejects (with the log's last lines) if the process exits before `probe` returns true. */
  waitUntilReady(probe: () => Promise<boolean>, timeoutMs: number): Promise<void>;
  /** SIGTERM, then SIGKILL after 20 s; does nothing once the process is gone. */
  stop(): Promise<void>;
}

export async function startJavaService(options: JavaServiceOptions): Promise<JavaService> {
  await mkdir(dirname(options.logFile), { recursive: true });
  const output = options.detached ? detachedOutput(options.logFile) : attachedOutput(options);
  const child = spawn(
    'java',
    [
      ...jvmFlags(options.maxHeap),
      ...(options.jvmOptions ?? []),
      '-cp',
      options.classpath,
      options.mainClass,
      ...options.args,
    ],
    {
      detached: options.detached,
      stdio: ['ignore', output.stdio, output.stdio],
    },
  );
  output.afterSpawn(child);
  const pid = await spawned(child);
  const exited = new Promise<string>((resolve) =>
    child.once('exit', (code, signal) =>
      resolve(signal ? `was killed by ${signal}` : `exited with code ${code}`),
    ),
  );
  // Killing synchronously is all an exit hook can do; an orphaned JVM would hold its ports and heap.
  const killOnExit = () => child.kill('SIGKILL');
  if (options.detached) child.unref();
  else process.once('exit', killOnExit);

  const stop = async () => {
    await stopProcess(pid);
    process.off('exit', killOnExit);
  };
  return {
    pid,
    logFile: options.logFile,
    async waitUntilReady(probe, timeoutMs) {
      const polling = new AbortController();
      const failure = await Promise.race([
        exited.then((how) => `${how} before it was ready`),
        pollUntil(probe, timeoutMs, polling.signal).then((ready) =>
          ready ? undefined : `did not answer within ${Math.round(timeoutMs / 1000)} s`,
        ),
      ]).finally(() => polling.abort());
      if (failure === undefined) return;
      await stop();
      throw new StackError(
        `the ${options.name} (pid ${pid}) ${failure}; its log (${options.logFile}) ends with:\n${await output.tail()}`,
        { retriable: true, context: { pid, logFile: options.logFile } },
      );
    },
    stop,
  };
}

/** Runs a Java command-line tool to completion; throws with its output if it fails. */
export async function runJavaTool(classpath: string, mainClass: string, args: string[]): Promise<void> {
  const child = spawn('java', [...jvmFlags('256m'), '-cp', classpath, mainClass, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  child.stdout?.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  const closed = new Promise<number | null>((resolve) => child.once('close', resolve));
  await spawned(child);
  const code = await closed;
  if (code !== 0)
    throw new StackError(
      `${mainClass} ${args.join(' ')} failed (exit code ${code}):\n${output.join('').trim()}`,
    );
}

export type JavaPropertyValue = string | number | boolean;

/** Java's .properties format; the values written here are paths, ports and class names. */
export async function writeJavaProperties(
  file: string,
  properties: Record<string, JavaPropertyValue>,
): Promise<void> {
  const lines = Object.entries(properties).map(
    ([key, value]) => `${key}=${String(value).replaceAll('\\', '\\\\')}`,
  );
  await writeFile(
    file,
    `# Written by Tributary on every start: edits are overwritten.\n${lines.join('\n')}\n`,
  );
}

function jvmFlags(maxHeap: string): string[] {
  return [`-Xmx${maxHeap}`, '-Djava.awt.headless=true', `-Dlog4j2.configurationFile=${LOG4J2_CONFIG}`];
}

/** Resolves with the pid, or rejects the way `spawn` does (asynchronously) when java is missing. */
function spawned(child: ChildProcess): Promise<number> {
  return new Promise((resolve, reject) => {
    child.once('spawn', () => resolve(child.pid as number));
    child.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        error.code === 'ENOENT'
          ? new StackError(
              'java is not on PATH: the local Kafka stack needs a JDK 17+ (apt-get install openjdk-17-jdk-headless)',
            )
          : error,
      ),
    );
  });
}

interface ServiceOutput {
  stdio: 'pipe' | number;
  afterSpawn(child: ChildProcess): void;
  tail(): Promise<string>;
}

/** The JVM writes straight into the log file, which stays valid after this process exits. */
function detachedOutput(logFile: string): ServiceOutput {
  const fd = openSync(logFile, 'a');
  return {
    stdio: fd,
    afterSpawn: () => closeSync(fd),
    tail: () => tailOfFile(logFile),
  };
}

/** Lines go to `onLog`, the log file and a short buffer for error messages. */
function attachedOutput(options: JavaServiceOptions): ServiceOutput {
  const file = createWriteStream(options.logFile, { flags: 'a' });
  const recent: string[] = [];
  const onLine = (line: string) => {
    file.write(`${line}\n`);
    recent.push(line);
    if (recent.length > TAIL_LINES) recent.shift();
    options.onLog?.(line);
  };
  return {
    stdio: 'pipe',
    afterSpawn(child) {
      let open = 2;
      for (const stream of [child.stdout, child.stderr]) {
        if (!stream) continue;
        const lines = createInterface({ input: stream, crlfDelay: Infinity });
        lines.on('line', onLine);
        lines.once('close', () => {
          if (--open === 0) file.end();
        });
      }
    },
    tail: async () => recent.join('\n'),
  };
}

async function tailOfFile(file: string): Promise<string> {
  const handle = await open(file, 'r');
  try {
    const { size } = await handle.stat();
    const length = Math.min(size, 16_384);
    const { buffer } = await handle.read(Buffer.alloc(length), 0, length, size - length);
    return buffer.toString('utf8').trimEnd().split('\n').slice(-TAIL_LINES).join('\n');
  } finally {
    await handle.close();
  }
}

async function pollUntil(
  probe: () => Promise<boolean>,
  timeoutMs: number,
  signal: AbortSignal,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && !signal.aborted) {
    if (await probe().catch(() => false)) return true;
    await sleep(500, undefined, { signal }).catch(() => undefined);
  }
  return false;
}
