import { describe, expect, it } from 'vitest';
import { loadMigrations, splitStatements } from './migrate.ts';

describe('migrations', () => {
  it('splits a file into statements and drops comment lines', () => {
    expect(
      splitStatements(
        "-- a table\nCREATE TABLE a (x UInt8) ENGINE = Memory;\n\nCREATE TABLE b (s String DEFAULT ';') ENGINE = Memory;\n",
      ),
    ).toEqual([
      'CREATE TABLE a (x UInt8) ENGINE = Memory',
      "CREATE TABLE b (s String DEFAULT ';') ENGINE = Memory",
    ]);
  });

  it('are numbered without gaps, starting at 001', async () => {
    const versions = (await loadMigrations()).map((migration) => migration.version);
    expect(versions).toEqual(versions.map((_, index) => index + 1));
  });
});
