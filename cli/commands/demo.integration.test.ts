// The learning demo end to end through the CLI: it must exit 0 (every mirror matches its source
// table) and leave nothing secret or personal in the warehouse.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedPostgres, type RunningPostgres } from '../../stack/index.ts';
import {
  openWarehouse,
  quoteIdentifier,
  quoteTable,
  RAW_DATABASE,
  type Warehouse,
} from '../../warehouse/index.ts';
import { scratchDir } from '../../test/scratch.ts';

const CLI = new URL('../../bin/tributary.js', import.meta.url).pathname;
// The seed's secret columns (user_auth, user_social_logins, user_sessions), named outright.
const SEED_SECRETS = [
  'password_hash',
  'salt',
  'two_factor_secret',
  'recovery_codes',
  'access_token_hash',
  'refresh_token_hash',
  'session_token',
];

let dataDir: string;
let demo: { status: number | null; stdout: string; stderr: string };
let postgres: RunningPostgres;
let source: pg.Client;
let warehouse: Warehouse;

beforeAll(async () => {
  dataDir = await scratchDir('demo');
  demo = spawnSync(
    process.execPath,
    [CLI, 'demo', '--users', '60', '--days', '9', '--seed', '7', '--data-dir', dataDir],
    {
      encoding: 'utf8',
      env: { ...process.env, TRIBUTARY_PII_KEY: 'demo-test-key-0123456789' },
    },
  );
  // The demo leaves its Postgres data behind: reopen it to read what the source holds.
  postgres = await startEmbeddedPostgres({ dataDir: join(dataDir, 'postgres') });
  source = new pg.Client({ connectionString: postgres.url.replace(/\/postgres$/, '/learning') });
  await source.connect();
  warehouse = await openWarehouse({ kind: 'chdb', path: join(dataDir, 'warehouse') });
});

afterAll(async () => {
  await source?.end();
  await warehouse?.close();
  await postgres?.stop();
});

describe('tributary demo (learning pack; documents on the mongo-java-server stand-in)', () => {
  it('exits 0 with every mirror equal in rows to its source table', () => {
    expect(demo.status, demo.stderr).toBe(0);
    expect(demo.stdout).toMatch(/user_activity_results\s+[\d,]+\s+[\d,]+\s+ok/);
    expect(demo.stdout).not.toContain('DIFFERS');
    // The pack's documents, from the MongoDB stand-in (mongo-java-server, not a real mongod).
    expect(demo.stdout).toMatch(/user_interactions \(mongo\)\s+[\d,]+\s+[\d,]+\s+ok/);
  });

  it('stores no column named like a secret', async () => {
    const columns = await warehouse.query<{ table: string; name: string }>(
      'SELECT table, name FROM system.columns WHERE database = {raw:String}',
      { raw: RAW_DATABASE },
    );
    expect(columns.length).toBeGreaterThan(100);
    // `last_password_change` is a timestamp, not a secret: it stays.
    const secretLike = columns.filter(
      ({ name }) =>
        SEED_SECRETS.includes(name) || /password_hash|(^|_)salt$|secret|token|recovery_codes/i.test(name),
    );
    expect(secretLike).toEqual([]);
  });

  it('stores no value equal to a source email or phone number', async () => {
    const contacts = (
      await source.query<{ value: string }>(
        'SELECT email AS value FROM users WHERE email IS NOT NULL UNION SELECT phone FROM users WHERE phone IS NOT NULL',
      )
    ).rows.map((row) => row.value);
    expect(contacts.length).toBeGreaterThan(50);
    const stringColumns = await warehouse.query<{ mirror: string; name: string }>(
      "SELECT concat(database, '.', table) AS mirror, name FROM system.columns WHERE database = {raw:String} AND type LIKE '%String%' AND type NOT LIKE 'Array%'",
      { raw: RAW_DATABASE },
    );
    for (const { mirror, name } of stringColumns) {
      const [found] = await warehouse.query<{ hits: string }>(
        `SELECT count() AS hits FROM ${quoteTable(mirror)} WHERE ${quoteIdentifier(name)} IN {contacts:Array(String)}`,
        { contacts },
      );
      expect(Number(found?.hits), `${mirror}.${name}`).toBe(0);
    }
    const [hashed] = await warehouse.query<{ emails: string }>(
      "SELECT count() AS emails FROM raw.learning_users FINAL WHERE match(email, '^[0-9a-f]{8}:[0-9a-f]{64}$')",
    );
    expect(Number(hashed?.emails)).toBeGreaterThan(50);
  });
});
