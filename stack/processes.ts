// Processes known only by PID (a detached service, a lock owner): whether one still runs, whether
// it is still the program we started, and stopping it with SIGTERM, then SIGKILL.
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

/** A zombie counts as gone: it has exited, only its parent has not collected it yet. */
export function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  const stat = readProc(pid, 'stat');
  // The state letter follows the parenthesised command name, which may itself contain ") ".
  return stat === undefined || stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
}

/**
 * Whether `pid` runs and its command line contains `marker` (a Java main class): a PID recorded in
 * a file may have been reused by an unrelated program since. Without /proc the record is trusted.
 */
export function isRunningProgram(pid: number, marker: string): boolean {
  if (!isRunning(pid)) return false;
  const commandLine = readProc(pid, 'cmdline');
  return commandLine === undefined || commandLine.split('\0').some((arg) => arg.includes(marker));
}

/** SIGTERM, up to `graceMs` for a clean exit, then SIGKILL. Resolves once the process is gone. */
export async function stopProcess(pid: number, graceMs = 20_000): Promise<void> {
  if (!signal(pid, 'SIGTERM')) return;
  if (await waitForExit(pid, graceMs)) return;
  signal(pid, 'SIGKILL');
  await waitForExit(pid, 10_000);
}

export async function waitForExit(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (isRunning(pid)) {
    if (Date.now() > deadline) return false;
    await sleep(100);
  }
  return true;
}

function signal(pid: number, name: NodeJS.Signals): boolean {
  try {
    process.kill(pid, name);
    return true;
  } catch {
    return false;
  }
}

function readProc(pid: number, file: string): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/${file}`, 'utf8');
  } catch {
    return undefined;
  }
}
