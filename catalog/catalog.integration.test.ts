// The schema analysts read: every mirror's current-state view equals its mirror's live rows (also
// after the source changed and gained a column), every fact, dimension and mart column says what it
// holds, and the data dictionary generated from the warehouse lists tables, rows, freshness and
// lineage. Postgres is embedded; MongoDB is the stand-in unless TRIBUTARY_MONGO_URL names a server.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packs } from '../packs/index.ts';
import { learningPack } from '../packs/learning/index.ts';
import { learningWarehouse, SOURCE, type LearningWarehouse } from '../test/learning-warehouse.ts';
import { runTransforms } from '../transforms/index.ts';
import {
  currentStateView,
  MIRROR_META_COLUMNS,
  quoteIdentifier as q,
  quoteTable,
  RAW_DATABASE,
  splitTable,
} from '../warehouse/index.ts';
import { readDataDictionary, renderHtml, renderMarkdown, type DataDictionary } from './index.ts';

let data: LearningWarehouse;

beforeAll(async () => {
  data = await learningWarehouse({ users: 40, days: 8, seed: 11 });
  // Changes after the snapshot: updates, deletes and a column the source gains while streaming.
  await data.postgres.query(
    `UPDATE user_lesson_progress SET score = coalesce(score, 0) + 1 WHERE id IN (SELECT id FROM user_lesson_progress LIMIT 7)`,
  );
  await data.postgres.query(`DELETE FROM lesson_reviews WHERE id IN (SELECT id FROM lesson_reviews LIMIT 3)`);
  await data.postgres.query(`ALTER TABLE words ADD COLUMN analyst_rank int`);
  await data.postgres.query(`UPDATE words SET analyst_rank = 5 WHERE id IN (SELECT id FROM words LIMIT 4)`);
  await data.capture();
  await runTransforms({ warehouse: data.warehouse, pack: 'learning', mapping: learningPack.mapping(SOURCE) });
  // Every pack's own marts too (their tables are created by the first run of their pack).
  for (const pack of Object.values(packs))
    for (const mart of pack.marts ?? [])
      for (const statement of mart.ddl) await data.warehouse.command(statement);
}, 600_000);
afterAll(async () => {
  await data?.close();
});

async function tableNames(prefix: string): Promise<string[]> {
  const rows = await data.warehouse.query<{ name: string }>(
    'SELECT name FROM system.tables WHERE database = currentDatabase() AND startsWith(name, {prefix:String}) ORDER BY name',
    { prefix },
  );
  return rows.map((row) => row.name);
}

/** Every mirror (`raw.x`), current-state views and history tables left out. */
async function mirrorNames(): Promise<string[]> {
  const rows = await data.warehouse.query<{ mirror: string }>(
    `SELECT concat(database, '.', name) AS mirror FROM system.tables
     WHERE database = {raw:String} AND engine NOT LIKE '%View' AND NOT startsWith(name, 'hist_') ORDER BY name`,
    { raw: RAW_DATABASE },
  );
  return rows.map((row) => row.mirror);
}

describe('current-state views', () => {
  it('exist for every mirror and hold exactly its live rows, column for column', async () => {
    const mirrors = await mirrorNames();
    expect(mirrors.length).toBeGreaterThan(20);
    for (const mirror of mirrors) {
      const view = currentStateView(mirror);
      const columns = (
        await data.warehouse.query<{ name: string }>(
          'SELECT name FROM system.columns WHERE database = {database:String} AND table = {name:String} ORDER BY position',
          splitTable(mirror),
        )
      )
        .map((row) => row.name)
        .filter((name) => !(MIRROR_META_COLUMNS as readonly string[]).includes(name));
      const digest = `count() AS n, sum(cityHash64(${columns.map(q).join(', ')})) AS digest`;
      const [expected] = await data.warehouse.query(
        `SELECT ${digest} FROM ${quoteTable(mirror)} FINAL WHERE _is_deleted = 0`,
      );
      const [actual] = await data.warehouse.query(`SELECT ${digest} FROM ${quoteTable(view)}`);
      expect(actual, view).toEqual(expected);
    }
  });

  it('follow the source: deleted rows leave, a column added while streaming appears', async () => {
    const [reviews] = await data.warehouse.query<{ n: string }>(
      `SELECT count() AS n FROM raw.current_learning_lesson_reviews`,
    );
    const source = await data.postgres.query<{ n: string }>('SELECT count(*) AS n FROM lesson_reviews');
    expect(Number(reviews?.n)).toBe(Number(source.rows[0]?.n));
    const ranked = await data.warehouse.query<{ n: string }>(
      `SELECT count() AS n FROM raw.current_learning_words WHERE analyst_rank = 5`,
    );
    expect(Number(ranked[0]?.n)).toBe(4);
  });
});

describe('comments', () => {
  it("describe every fact, dimension and mart table and column, the packs' own marts included", async () => {
    const packMarts = Object.values(packs).flatMap((pack) => pack.marts ?? []);
    expect(packMarts.length).toBeGreaterThan(10);
    const present = await tableNames('mart_');
    for (const mart of packMarts) expect(present).toContain(mart.name);
    const missing = await data.warehouse.query(
      `SELECT table, name FROM system.columns WHERE database = currentDatabase()
         AND (startsWith(table, 'fact_') OR startsWith(table, 'dim_') OR startsWith(table, 'mart_')) AND comment = ''
       UNION ALL
       SELECT name, '' FROM system.tables WHERE database = currentDatabase()
         AND (startsWith(name, 'fact_') OR startsWith(name, 'dim_') OR startsWith(name, 'mart_')) AND comment = ''`,
    );
    expect(missing).toEqual([]);
  });

  it('give every mirror column its source type', async () => {
    const rows = await data.warehouse.query<{ mirror: string; name: string; comment: string }>(
      `SELECT concat(database, '.', table) AS mirror, name, comment FROM system.columns WHERE database = {raw:String}
         AND startsWith(table, 'learning_') AND name NOT IN {meta:Array(String)}`,
      { meta: [...MIRROR_META_COLUMNS], raw: RAW_DATABASE },
    );
    expect(rows.length).toBeGreaterThan(50);
    for (const row of rows) expect(row.comment, `${row.mirror}.${row.name}`).toMatch(/^source type: \S+/);
    const email = rows.find((row) => row.mirror === 'raw.learning_users' && row.name === 'email');
    expect(email?.comment).toBe('source type: varchar');
  });
});

describe('the data dictionary', () => {
  let dictionary: DataDictionary;
  beforeAll(async () => {
    dictionary = await readDataDictionary(data.warehouse);
  });
  const table = (name: string) => {
    const found = dictionary.tables.find((entry) => entry.name === name);
    if (!found) throw new Error(`${name} is not in the dictionary`);
    return found;
  };

  it('traces a mart down to the source tables', () => {
    expect(table('mart_dau').upstream).toEqual(['agg_daily_active_users']);
    expect(table('agg_daily_active_users').upstream).toEqual(['fact_activity']);
    expect(table('fact_activity').upstream).toEqual(
      expect.arrayContaining(['raw.learning_user_lesson_progress', 'raw.learning_user_interactions']),
    );
    expect(table('raw.learning_user_lesson_progress').upstream).toEqual([
      'source table learning_user_lesson_progress',
    ]);
    expect(table('raw.current_learning_users').upstream).toEqual(['raw.learning_users']);
  });

  it('says which database each table is in: marts and facts in analytics, mirrors and their views in raw', () => {
    expect(table('mart_dau').database).toBe('analytics');
    expect(table('fact_activity').database).toBe('analytics');
    expect(table('raw.learning_users')).toMatchObject({ database: 'raw', kind: 'mirror' });
    expect(table('raw.current_learning_users')).toMatchObject({ database: 'raw', kind: 'current state' });
    expect(dictionary.tables.some((entry) => entry.database === 'tributary')).toBe(false);
    expect(renderMarkdown(dictionary)).toContain("the pipeline's own bookkeeping is in `tributary`");
  });

  it('counts rows and says when data last landed', async () => {
    const [live] = await data.warehouse.query<{ n: string }>(
      'SELECT count() AS n FROM raw.learning_users FINAL WHERE _is_deleted = 0',
    );
    expect(table('raw.current_learning_users').rows).toBe(Number(live?.n));
    const [newest] = await data.warehouse.query<{ at: string }>(
      'SELECT toString(max(_ingested_at)) AS at FROM raw.learning_users',
    );
    expect(table('raw.learning_users').freshness).toBe(newest?.at);
    expect(table('mart_dau').freshness).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d/);
    expect(table('mart_dau').columns.find((column) => column.name === 'mau')?.comment).toContain('28 days');
    // The pipeline's own tables live in the `tributary` database, out of the analysts' dictionary.
    expect(dictionary.tables.filter((entry) => entry.kind === 'pipeline').map((entry) => entry.name)).toEqual(
      [],
    );
  });

  it('renders as Markdown and as HTML, the metric definitions included and escaped', () => {
    const markdown = renderMarkdown(dictionary);
    expect(markdown).toContain('### `mart_retention`');
    expect(markdown).toContain('| `stickiness` | `Float64` | dau / mau, in [0, 1]; 0 when mau is 0. |');
    const html = renderHtml(dictionary);
    expect(html).toContain('<section id="mart_dau">');
    expect(html).toContain('<a href="#agg_daily_active_users"><code>agg_daily_active_users</code></a>');
    expect(html).toContain('pack&#39;s value');
    expect(html).not.toContain("pack's value");
  });
});
