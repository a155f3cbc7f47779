// The source's own documentation travels with its data: Postgres `COMMENT ON TABLE/COLUMN` become
// the mirror's table and column comments, next to the source type, and follow later changes.
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestDatabase, dropTestDatabase, withClient } from '../../test/postgres.ts';
import { scratchDir } from '../../test/scratch.ts';
import { openWarehouse, type Warehouse } from '../../warehouse/index.ts';
import { WarehouseSink } from '../landing/warehouse-sink.ts';
import { createPiiPolicy } from '../pii.ts';
import { runPostgresCapture } from './capture.ts';

let warehouse: Warehouse;
let url: string;

beforeAll(async () => {
  warehouse = await openWarehouse({ kind: 'chdb', path: join(await scratchDir('comments'), 'warehouse') });
  url = await createTestDatabase('comments');
});
afterAll(async () => {
  await warehouse?.close();
  if (url) await dropTestDatabase(url);
});

const capture = () =>
  runPostgresCapture({
    sourceUrl: url,
    sourceName: 'docs',
    tables: { kind: 'all' },
    sink: new WarehouseSink(warehouse),
    pii: createPiiPolicy({
      dropFields: [],
      hashFields: [],
      hashPii: false,
      hashKey: 'comments-key-0123456789',
    }),
    untilCaughtUp: true,
  });

async function comments(): Promise<{ table: string | undefined; columns: Record<string, string> }> {
  const [table] = await warehouse.query<{ comment: string }>(
    "SELECT comment FROM system.tables WHERE database = 'raw' AND name = 'docs_notes'",
  );
  const columns = await warehouse.query<{ name: string; comment: string }>(
    "SELECT name, comment FROM system.columns WHERE database = 'raw' AND table = 'docs_notes' AND NOT startsWith(name, '_')",
  );
  return {
    table: table?.comment,
    columns: Object.fromEntries(columns.map((column) => [column.name, column.comment])),
  };
}

it('carries the source’s table and column comments to the mirror, and their later changes', async () => {
  await withClient(url, async (client) => {
    await client.query(`CREATE TABLE notes (id int PRIMARY KEY, body text, stars int);
      COMMENT ON TABLE notes IS 'Notes learners keep beside a lesson';
      COMMENT ON COLUMN notes.body IS 'What the learner wrote, in Markdown; ''quotes'' kept'`);
    await client.query("INSERT INTO notes VALUES (1, 'first', 3)");
    await capture();
    const first = await comments();
    expect(first.table).toMatch(
      /^Every version of docs_notes's rows.* In the source: Notes learners keep beside a lesson$/,
    );
    expect(first.columns).toEqual({
      id: 'source type: int4',
      body: "source type: text — What the learner wrote, in Markdown; 'quotes' kept",
      stars: 'source type: int4',
    });

    // A column added with its comment, another comment changed, one dropped; the capture resumes
    // and the stream's relation message (which carries no comments) keeps them.
    await client.query(`ALTER TABLE notes ADD COLUMN mood text;
      COMMENT ON COLUMN notes.mood IS 'How the lesson felt';
      COMMENT ON COLUMN notes.stars IS 'Stars given, 1 to 5';
      COMMENT ON COLUMN notes.body IS NULL;
      COMMENT ON TABLE notes IS 'Learners'' notes'`);
    await client.query("INSERT INTO notes VALUES (2, 'second', 5, 'calm')");
    await capture();
    const second = await comments();
    expect(second.table).toMatch(/ In the source: Learners' notes$/);
    expect(second.columns).toEqual({
      id: 'source type: int4',
      body: 'source type: text',
      stars: 'source type: int4 — Stars given, 1 to 5',
      mood: 'source type: text — How the lesson felt',
    });
    const [rows] = await warehouse.query<{ n: string }>('SELECT count() AS n FROM raw.current_docs_notes');
    expect(rows?.n).toBe('2');
  });
});
