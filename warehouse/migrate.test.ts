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

  // Work in progress on several branches reserves ranges of numbers, so gaps are allowed; the
  // runner applies every version not yet recorded, in order, so only uniqueness matters.
  it('have unique versions, starting at 001', async () => {
    const versions = (await loadMigrations()).map((migration) => migration.version);
    expect(versions[0]).toBe(1);
    expect(new Set(versions).size).toBe(versions.length);
  });
});
