// Leases: at most one process runs a given job at a time, across processes and machines. With a
// control Postgres database, a session-level advisory lock per job (released by Postgres when the
// holder's connection ends, so a killed holder frees it at once); embedded, a lock file per job
// holding the owner's pid (a file whose owner is gone is taken over).
import { randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, rmdirSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';

export interface Lease {
  /** Takes the job's lease if free; false when another process holds it. */
  tryAcquire(job: string): Promise<boolean>;
  /**
   * While holding the job's lease: whether no other holder (process or Lease) took it since this
   * Lease last released it, so what this one last wrote is still the newest. False when unknown.
   */
  undisturbed(job: string): boolean;
  release(job: string): Promise<void>;
  close(): Promise<void>;
}

export class AdvisoryLease implements Lease {
  private constructor(private readonly client: pg.Client) {}

  static async open(url: string): Promise<AdvisoryLease> {
    const client = new pg.Client({ connectionString: url, application_name: 'tributary-scheduler' });
    await client.connect();
    return new AdvisoryLease(client);
  }

  async tryAcquire(job: string): Promise<boolean> {
    const result = await this.client.query<{ locked: boolean }>(
      "SELECT pg_try_advisory_lock(hashtext('tributary.job'), hashtext($1)) AS locked",
      [job],
    );
    return result.rows[0]?.locked === true;
  }

  /** Postgres keeps no trace of earlier holders. */
  undisturbed(): boolean {
    return false;
  }

  async release(job: string): Promise<void> {
    await this.client.query("SELECT pg_advisory_unlock(hashtext('tributary.job'), hashtext($1))", [job]);
  }

  async close(): Promise<void> {
    await this.client.end();
  }
}

export class FileLease implements Lease {
  /** The token this Lease wrote to a job's `.holder` file at its last acquisition. */
  private readonly tokens = new Map<string, string>();
  private readonly unchanged = new Set<string>();

  /**
   * `tracksHolders`: undisturbed() may answer true. Only when every process that writes the run
   * history takes this lease, i.e. beside an embedded warehouse (one process per directory).
   */
  constructor(
    private readonly dir: string,
    private readonly options: { tracksHolders?: boolean } = {},
  ) {}

  private path(job: string): string {
    return join(this.dir, `${job}.lock`);
  }

  async tryAcquire(job: string): Promise<boolean> {
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        // Made at each acquisition: another Lease's close() may have removed it, empty, meanwhile.
        mkdirSync(this.dir, { recursive: true });
        writeFileSync(this.path(job), String(process.pid), { flag: 'wx' });
        if (this.options.tracksHolders) this.markHolder(job);
        return true;
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'ENOENT') continue; // the directory went between mkdir and write
        if (code !== 'EEXIST') throw error;
        if (holderAlive(this.path(job))) return false;
        // The holder died without releasing: take the lease over.
        try {
          unlinkSync(this.path(job));
        } catch {
          /* another process took it over first */
        }
      }
    }
    return false;
  }

  undisturbed(job: string): boolean {
    return this.unchanged.has(job);
  }

  /** Every holder leaves its own token in `<job>.holder`: finding ours means no one held it since. */
  private markHolder(job: string): void {
    const holder = join(this.dir, `${job}.holder`);
    let previous: string | undefined;
    try {
      previous = readFileSync(holder, 'utf8');
    } catch {
      /* never held */
    }
    if (previous !== undefined && previous === this.tokens.get(job)) this.unchanged.add(job);
    else this.unchanged.delete(job);
    const token = randomUUID();
    writeFileSync(holder, token);
    this.tokens.set(job, token);
  }

  async release(job: string): Promise<void> {
    try {
      if (readFileSync(this.path(job), 'utf8').trim() === String(process.pid)) unlinkSync(this.path(job));
    } catch {
      /* already gone */
    }
  }

  /** Leaves no empty lock directory behind; one still holding locks or holder files stays. */
  async close(): Promise<void> {
    try {
      rmdirSync(this.dir);
    } catch {
      /* not empty, or never made */
    }
  }
}

function holderAlive(path: string): boolean {
  let pid: number;
  try {
    pid = Number(readFileSync(path, 'utf8').trim());
  } catch {
    return false;
  }
  if (!Number.isInteger(pid) || pid <= 0) return false;
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
