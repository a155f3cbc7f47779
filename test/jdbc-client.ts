// The official ClickHouse JDBC driver for the SQL endpoint's client test: resolved from Maven
// Central by sql/java/pom.xml into stack/.cache/jdbc (once per pom), JdbcCheck.java compiled there
// (once per source), then run against a JDBC URL.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const JAVA_DIR = join(ROOT, 'sql', 'java');
const CACHE = join(ROOT, 'stack', '.cache', 'jdbc');

/** Resolves the driver and compiles the check if the pom or the source changed; returns the classpath. */
export async function ensureJdbcCheck(): Promise<string> {
  const pom = await readFile(join(JAVA_DIR, 'pom.xml'));
  const source = await readFile(join(JAVA_DIR, 'JdbcCheck.java'));
  const hash = createHash('sha256').update(pom).update(source).digest('hex');
  const marker = join(CACHE, 'built.sha256');
  const classpath = `${join(CACHE, 'classes')}:${join(CACHE, 'lib', '*')}`;
  if ((await readFile(marker, 'utf8').catch(() => '')) === hash) return classpath;
  await mkdir(join(CACHE, 'classes'), { recursive: true });
  await run('mvn', ['-B', '-q', '-f', join(JAVA_DIR, 'pom.xml'), `-Djdbc.cache=${CACHE}`, 'package'], {
    maxBuffer: 16 * 1024 * 1024,
  });
  await run('javac', [
    '-d',
    join(CACHE, 'classes'),
    '-cp',
    join(CACHE, 'lib', '*'),
    join(JAVA_DIR, 'JdbcCheck.java'),
  ]);
  await writeFile(marker, hash);
  return classpath;
}

/** Runs JdbcCheck; resolves with its output lines, rejects with its stderr when it fails. */
export async function runJdbcCheck(
  classpath: string,
  url: string,
  user: string,
  password: string,
): Promise<string[]> {
  try {
    const { stdout } = await run('java', ['-cp', classpath, 'JdbcCheck', url, user, password], {
      timeout: 120_000,
      maxBuffer: 16 * 1024 * 1024,
    });
    return stdout.trim().split('\n');
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: string; stderr?: string };
    throw new Error(`JdbcCheck failed:\n${stdout ?? ''}\n${stderr ?? ''}`, { cause: error });
  }
}
