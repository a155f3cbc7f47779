// CPU seconds of this process and of servers it started (a JVM, a Postgres cluster): on a shared
// machine, wall time moves with everyone else's load while the CPU a step costs mostly does not.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

const TICKS_PER_SECOND = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

interface ProcStat {
  ppid: number;
  /** utime + stime, and cutime + cstime (children that exited and were waited for), in ticks. */
  own: number;
  reaped: number;
}

function statOf(pid: number): ProcStat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // Fields after the parenthesised command name (which may hold spaces): state is field 3.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const field = (n: number) => Number(fields[n - 3]);
  return { ppid: field(4), own: field(14) + field(15), reaped: field(16) + field(17) };
}

/** `rootPid` and every live process below it, with their /proc stats. */
function processTree(rootPid: number): Map<number, ProcStat> {
  const stats = new Map<number, ProcStat>();
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid)) continue;
    const stat = statOf(pid);
    if (stat) stats.set(pid, stat);
  }
  const children = new Map<number, number[]>();
  for (const [pid, stat] of stats) {
    const siblings = children.get(stat.ppid);
    if (siblings) siblings.push(pid);
    else children.set(stat.ppid, [pid]);
  }
  const tree = new Map<number, ProcStat>();
  const pending = [rootPid];
  while (pending.length > 0) {
    const pid = pending.pop() as number;
    const stat = stats.get(pid);
    if (!stat) continue;
    tree.set(pid, stat);
    pending.push(...(children.get(pid) ?? []));
  }
  return tree;
}

/**
 * CPU seconds used so far by `rootPid` and every process below it, alive or exited (an exited
 * child's time is in its parent's reaped total): a JVM's threads, or a postmaster and its backends.
 */
export function processTreeCpuSeconds(rootPid: number): number {
  let ticks = 0;
  for (const stat of processTree(rootPid).values()) ticks += stat.own + stat.reaped;
  return ticks / TICKS_PER_SECOND;
}

/**
 * Restricts `rootPid` and every process below it, each of their threads, to `cpus` (taskset's list
 * syntax). Threads and processes started later inherit it from their parent.
 */
export function pinProcessTree(rootPid: number, cpus: string): void {
  for (const pid of processTree(rootPid).keys()) {
    try {
      execFileSync('taskset', ['--all-tasks', '--cpu-list', '--pid', cpus, String(pid)], { stdio: 'ignore' });
    } catch {
      // the process has just exited
    }
  }
}

/**
 * CPU seconds of one process so far, split by thread: its main thread (JavaScript, for Node), its
 * other threads named `node` (V8's garbage-collection helpers, libuv's pool), and the rest (an
 * embedded engine's named threads, and threads that have exited).
 */
export function threadCpuSeconds(pid: number): { total: number; main: number; node: number; other: number } {
  const ticksOf = (path: string) => {
    const text = readFileSync(path, 'utf8');
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]);
  };
  const total = ticksOf(`/proc/${pid}/stat`);
  let main = 0;
  let node = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const ticks = ticksOf(`/proc/${pid}/task/${tid}/stat`);
      if (Number(tid) === pid) main = ticks;
      else if (readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim() === 'node') node += ticks;
    } catch {
      // the thread has just exited: its time stays in the total
    }
  }
  const seconds = (ticks: number) => ticks / TICKS_PER_SECOND;
  return {
    total: seconds(total),
    main: seconds(main),
    node: seconds(node),
    other: seconds(total - main - node),
  };
}

/** The parent of a process (e.g. the postmaster of a backend). */
export function parentPid(pid: number): number | undefined {
  return statOf(pid)?.ppid;
}

/** This process's CPU seconds (its embedded engine's threads included). */
export function ownCpuSeconds(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1e6;
}
