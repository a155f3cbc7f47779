// Starts the one Postgres every integration test file shares (each test creates its own database),
// and makes the root of the tests' scratch directories (test/scratch.ts), removed with it.
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { startEmbeddedPostgres } from '../stack/index.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    postgresUrl: string;
    scratchRoot: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const root = await mkdtemp(join(tmpdir(), 'tributary-pg-'));
  const postgres = await startEmbeddedPostgres({ dataDir: join(root, 'data') });
  project.provide('postgresUrl', postgres.url);
  const scratchRoot = join(root, 'scratch');
  await mkdir(scratchRoot);
  project.provide('scratchRoot', scratchRoot);
  return async () => {
    await postgres.stop();
    await rm(root, { recursive: true, force: true });
  };
}
