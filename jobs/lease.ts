// Leases: at most one process runs a given job at a time, across processes and machines. With a
// control Postgres database, a session-level advisory lock per job (released by Postgres when the
// holder's connection ends, so a killed holder frees it at once); embedded, a lock file per job
// holding the owner's pid (a file whose owner is gone is taken over).
import { readFileSync, unlinkSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';

export interface Lease {
  /** Takes the job's lease if free; false when another process holds it. */
  tryAcquire(job: string): Promise<boolean>;
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

  async release(job: string): Promise<void> {
    await this.client.query("SELECT pg_advisory_unlock(hashtext('tributary.job'), hashtext($1))", [job]);
  }

  async close(): Promise<void> {
    await this.client.end();
  }
}

export class FileLease implements Lease {
  constructor(private readonly dir: string) {
    mkdirSync(dir, { recursive: true });
  }

  private path(job: string): string {
    return join(this.dir, `${job}.lock`);
  }

  async tryAcquire(job: string): Promise<boolean> {
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        writeFileSync(this.path(job), String(process.pid), { flag: 'wx' });
        return true;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
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

  async release(job: string): Promise<void> {
    try {
      if (readFileSync(this.path(job), 'utf8').trim() === String(process.pid)) unlinkSync(this.path(job));
    } catch {
      /* already gone */
    }
  }

  async close(): Promise<void> {}
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
