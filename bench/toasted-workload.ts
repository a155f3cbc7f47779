// The second CDC benchmark table: a 3-column compound key and a 4 kB TOASTed text column that half
// of the changes leave untouched, so Postgres does not resend it and capture fills it from the
// row's previous version. 45% inserts, 50% updates that keep the large value, 5% deletes, in
// transactions of 1,000 changes, deterministic.
import type pg from 'pg';

export const TOASTED_TABLE = 'notes';

/** Rows there before the workload (taken by the snapshot), so updates always have rows to pick. */
const PRELOADED = 5000;

const INSERT = `
  INSERT INTO ${TOASTED_TABLE} (tenant, book, slug, body, revision, updated_at)
  SELECT g / 1000, (g % 1000) / 4.0, 'note-' || g, repeat(md5(g::text), 128), 0, timestamp '2026-10-01' + g * interval '1 second'
  FROM generate_series($1::int, $2::int) g`;

export async function prepareToastedTable(client: pg.Client): Promise<void> {
  await client.query(`CREATE TABLE ${TOASTED_TABLE} (
      tenant bigint, book numeric(12,2), slug text,
      body text, revision int NOT NULL, updated_at timestamptz NOT NULL,
      PRIMARY KEY (tenant, book, slug));
    -- Uncompressed and out of line: every body is a TOASTed value of its own.
    ALTER TABLE ${TOASTED_TABLE} ALTER COLUMN body SET STORAGE EXTERNAL`);
  await client.query(INSERT, [1, PRELOADED]);
}

export async function writeToastedWorkload(client: pg.Client, changes: number): Promise<void> {
  let inserted = PRELOADED;
  let deleted = 0;
  let seed = 3;
  const random = () => (seed = (seed * 48271) % 2147483647) / 2147483647;
  for (let done = 0; done < changes; done += 1000) {
    await client.query('BEGIN');
    await client.query(INSERT, [inserted + 1, inserted + 450]);
    inserted += 450;
    const updates = new Set<number>();
    while (updates.size < 500) updates.add(deleted + 51 + Math.floor(random() * (inserted - deleted - 50)));
    await client.query(
      `UPDATE ${TOASTED_TABLE} SET revision = revision + 1, updated_at = updated_at + interval '1 minute'
       WHERE (tenant, book, slug) IN (SELECT g / 1000, (g % 1000) / 4.0, 'note-' || g FROM unnest($1::int[]) g)`,
      [[...updates]],
    );
    await client.query(
      `DELETE FROM ${TOASTED_TABLE} WHERE (tenant, book, slug) IN
       (SELECT g / 1000, (g % 1000) / 4.0, 'note-' || g FROM generate_series($1::int, $2::int) g)`,
      [deleted + 1, deleted + 50],
    );
    deleted += 50;
    await client.query('COMMIT');
  }
}
