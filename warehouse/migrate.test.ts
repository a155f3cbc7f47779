import { describe, expect, it } from 'vitest';
import { inApplyingOrder, loadMigrations, splitStatements } from './migrate.ts';

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

describe('the order pending migrations are applied in', () => {
  const migration = (version: number) => ({ version, name: `m${version}`, statements: [] });
  const all = [1, 70, 170, 180, 190].map(migration);

  it('is by version for a new warehouse, which has nothing to move', () => {
    expect(inApplyingOrder(all, all).map((m) => m.version)).toEqual([1, 70, 170, 180, 190]);
  });

  it('puts the layout move first for a warehouse behind it, so later migrations find their tables', () => {
    const pending = all.filter((m) => m.version >= 170);
    expect(inApplyingOrder(pending, all).map((m) => m.version)).toEqual([180, 170, 190]);
  });

  it('is by version once the layout move is applied', () => {
    expect(inApplyingOrder([all[4]!], all).map((m) => m.version)).toEqual([190]);
  });
});
