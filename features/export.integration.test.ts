// Feature export on a captured learning dataset: every feature of a sample of (user, timestamp)
// rows against an oracle written here in plain Postgres SQL over the source tables and the MongoDB
// documents; Parquet, Arrow and CSV reading back the same values under the catalogue's schema;
// labels only from the future and only when complete; bad spines refused with clear errors; and
// the no-leakage property: changes at or after a row's timestamp never move its features.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { tableFromIPC, tableToIPC, tableFromArrays, type Table } from 'apache-arrow';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { learningContentFeatures, learningFeatures } from '../packs/learning/features.ts';
import { learningPack } from '../packs/learning/index.ts';
import { loadDocumentsIntoPostgres } from '../test/learning-oracle.ts';
import { learningWarehouse, SOURCE, type LearningWarehouse } from '../test/learning-warehouse.ts';
import { scratchDir } from '../test/scratch.ts';
import { runTransforms } from '../transforms/index.ts';
import { quoteString } from '../warehouse/index.ts';
import { arrowSchema, catalogue, selectFeatures } from './catalogue.ts';
import { dataRange, exportFeatures, type ExportOptions } from './export.ts';
import { readParquetMetadata } from './parquet-metadata.ts';
import { featureType, type FeatureDefinition, type FeatureRegistry } from './registry.ts';

const PACK = 'learning';
const CLI = new URL('../bin/tributary.js', import.meta.url).pathname;
const run = promisify(execFile);
/** apache-arrow reads uncompressed IPC only. */
const UNCOMPRESSED = "SETTINGS output_format_arrow_compression_method = 'none'";
let data: LearningWarehouse;
let dir: string;
let range: { first: string; last: string };
let files = 0;

const transform = () =>
  runTransforms({ warehouse: data.warehouse, pack: PACK, mapping: learningPack.mapping(SOURCE) });

beforeAll(async () => {
  data = await learningWarehouse({ users: 60, days: 21, seed: 15 });
  await runTransforms({
    warehouse: data.warehouse,
    pack: PACK,
    mapping: learningPack.mapping(SOURCE),
    full: true,
  });
  await loadDocumentsIntoPostgres(data);
  dir = await scratchDir('features');
  range = await dataRange(data.warehouse, PACK);
  // The profile's versions as Postgres sees them from here on: the oracle of the attribute history.
  await data.postgres.query(`CREATE TABLE oracle_profile_versions AS
      SELECT user_id, country_code, timezone, proficiency_level, updated_at, 0 AS seq FROM user_profiles;
    CREATE SEQUENCE oracle_profile_seq START 1;
    CREATE FUNCTION oracle_profile_version() RETURNS trigger AS $$ BEGIN
      INSERT INTO oracle_profile_versions VALUES (NEW.user_id, NEW.country_code, NEW.timezone,
        NEW.proficiency_level, NEW.updated_at, nextval('oracle_profile_seq'));
      RETURN NEW; END $$ LANGUAGE plpgsql;
    CREATE TRIGGER oracle_profile_version AFTER INSERT OR UPDATE ON user_profiles
      FOR EACH ROW EXECUTE FUNCTION oracle_profile_version();`);
  // The first export keeps the history from now on; then a third of the profiles change level and
  // country midway between their last update and the end of the data.
  await exportRows({ asOf: 'now', features: ['country'] });
  await data.postgres.query(
    `UPDATE user_profiles SET proficiency_level = coalesce(proficiency_level, 0) % 10 + 1, country_code = 'NZ',
       updated_at = updated_at + (($1::timestamp - updated_at) / 2)
     WHERE user_id IN (SELECT user_id FROM user_profiles ORDER BY user_id LIMIT 20)`,
    [range.last],
  );
  await data.capture();
  await transform();
}, 600_000);
afterAll(async () => {
  await data?.close();
});

type Row = Record<string, unknown>;

/** Exports to Arrow and reads the file back with apache-arrow. */
async function exportRows(
  options: Omit<ExportOptions, 'pack' | 'format' | 'out'>,
): Promise<{ table: Table; rows: Row[]; leftOut: { incompleteLabel: number; unknownEntity: number } }> {
  const out = join(dir, `export-${files++}.arrow`);
  const result = await exportFeatures(data.warehouse, { pack: PACK, format: 'arrow', out, ...options });
  const table = tableFromIPC(readFileSync(out));
  return {
    table,
    rows: table.toArray().map((row) => normaliseRow(row.toJSON() as Row)),
    leftOut: result.leftOut,
  };
}

/** Arrow's BigInt and Date values as plain numbers and ISO text, for comparing across formats. */
function normaliseRow(row: Row): Row {
  return Object.fromEntries(
    Object.entries(row).map(([key, value]) => [
      key,
      typeof value === 'bigint'
        ? Number(value)
        : key === 'timestamp'
          ? new Date(Number(value)).toISOString()
          : value,
    ]),
  );
}

interface SpineRow {
  entity_id: string;
  timestamp: string;
}

async function writeCsvSpine(rows: SpineRow[], header = 'entity_id,timestamp'): Promise<string> {
  const path = join(dir, `spine-${files++}.csv`);
  await writeFile(
    path,
    [header, ...rows.map((row) => `${row.entity_id},${row.timestamp}`)].join('\n') + '\n',
  );
  return path;
}

/** A sample of (entity, timestamp) rows: entities known (created) by a random instant of the data. */
function sampleOf(
  entities: { id: string; created_at: Date }[],
  count: number,
  seed: number,
  distinctEntities: boolean,
): SpineRow[] {
  const first = Date.parse(`${range.first.replace(' ', 'T')}Z`);
  const last = Date.parse(`${range.last.replace(' ', 'T')}Z`);
  let state = seed;
  const random = () => (state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const spine: SpineRow[] = [];
  while (spine.length < count) {
    const entity = entities[Math.floor(random() * entities.length)];
    if (!entity) continue;
    const from = Math.max(first, entity.created_at.getTime() + 1);
    if (from >= last) continue;
    const timestamp = new Date(Math.floor(from + random() * (last - from))).toISOString();
    if (
      !spine.some((row) => row.entity_id === entity.id && (distinctEntities || row.timestamp === timestamp))
    )
      spine.push({ entity_id: entity.id, timestamp });
  }
  return spine;
}

/** A sample of (user, timestamp) rows: users who had signed up, at random instants of the data. */
async function sampleSpine(count: number, seed: number, distinctUsers = false): Promise<SpineRow[]> {
  const { rows } = await data.postgres.query<{ id: string; created_at: Date }>(
    'SELECT id::text AS id, created_at FROM users ORDER BY id',
  );
  return sampleOf(rows, count, seed, distinctUsers);
}

/**
 * A sample of (content, timestamp) rows: items created before a random instant of the data, most
 * of them with facts (so that the sample is not all zeros), some without.
 */
async function sampleContentSpine(count: number, seed: number): Promise<SpineRow[]> {
  const { rows } = await data.postgres.query<{ id: string; created_at: Date }>(
    `SELECT c.id::text AS id, c.created_at FROM (
       SELECT id, created_at FROM lessons UNION ALL SELECT id, created_at FROM paragraphs
       UNION ALL SELECT id, created_at FROM words) c
     ORDER BY (c.id::text IN (SELECT content_id FROM oracle_facts)) DESC, c.id LIMIT 200`,
  );
  return sampleOf(rows, count, seed, false);
}

// ---- the oracle: each declaration read independently, as plain Postgres SQL over the sources ----

const interval = (days: number) => `interval '${days} days'`;

function oracleWindow(
  feature: { window: FeatureDefinition extends never ? never : unknown },
  column: string,
): string {
  const window = (feature as { window: 'all' | { days: number; offsetDays?: number } }).window;
  if (window === 'all') return 'true';
  const offset = window.offsetDays ?? 0;
  return `${column} >= s.ts - ${interval(window.days + offset)} AND ${column} < s.ts - ${interval(offset)}`;
}

function oracleExpression(feature: FeatureDefinition): string | undefined {
  const ofEntity = feature.entity === 'user' ? 'f.user_id' : 'f.content_id';
  const facts = (where: string) =>
    `FROM oracle_facts f WHERE ${ofEntity} = s.entity_id AND f.ts < s.ts AND ${where}`;
  switch (feature.kind) {
    case 'activity': {
      const parts = [oracleWindow(feature, 'f.ts')];
      const where = feature.where;
      if (where?.eventTypes)
        parts.push(`f.event_type IN (${where.eventTypes.map((t) => `'${t}'`).join(', ')})`);
      if (where?.contentTypes)
        parts.push(`f.content_type IN (${where.contentTypes.map((t) => `'${t}'`).join(', ')})`);
      if (where?.completion !== undefined) parts.push(`f.is_completion = ${where.completion ? 1 : 0}`);
      if (where?.scored || where?.passRatio !== undefined)
        parts.push('f.score IS NOT NULL AND f.max_score > 0');
      if (where?.passRatio !== undefined) parts.push(`f.score >= ${where.passRatio} * f.max_score`);
      const cond = parts.join(' AND ');
      const measure = feature.measure;
      switch (measure.fn) {
        case 'count':
          return `(SELECT count(*) ${facts(cond)})`;
        case 'activeDays':
          return `(SELECT count(DISTINCT f.ts::date) ${facts(cond)})`;
        case 'distinct':
          return `(SELECT count(DISTINCT f.${measure.column}) ${facts(cond)} AND f.${measure.column} <> '')`;
        case 'sum':
          return `(SELECT coalesce(sum(f.${measure.column}), 0) ${facts(cond)})`;
        case 'avg':
        case 'max':
          return measure.column === 'score_ratio'
            ? `(SELECT ${measure.fn}(f.score::float8 / f.max_score) ${facts(`${cond} AND f.score IS NOT NULL AND f.max_score > 0`)})`
            : `(SELECT ${measure.fn}(f.${measure.column}::float8) ${facts(cond)})`;
        case 'daysSinceLast':
          return `(SELECT div((extract(epoch FROM s.ts) - extract(epoch FROM max(f.ts))) * 1000, 86400000) ${facts(cond)})`;
        case 'currentStreak':
          // Days as text; the streak is counted below from them.
          return `(SELECT coalesce(string_agg(DISTINCT (s.ts::date - f.ts::date)::text, ','), '') ${facts(cond)})`;
      }
      return undefined;
    }
    case 'rating': {
      const window =
        feature.window === 'all' ? 'true' : `r.created_at::date >= s.ts::date - ${feature.window.days}`;
      const rater = feature.entity === 'user' ? 'r.user_id' : 'r.lesson_id';
      const rows = `FROM lesson_reviews r WHERE ${rater}::text = s.entity_id AND r.rating IS NOT NULL AND r.lesson_id IS NOT NULL
        AND r.created_at::date < s.ts::date AND ${window}`;
      return feature.measure === 'count'
        ? `(SELECT count(*) ${rows})`
        : `(SELECT avg(r.rating::float8) ${rows})`;
    }
    case 'exposure':
      return `(SELECT e.variant FROM oracle_exposures e WHERE e.user_id = s.entity_id AND e.experiment = '${feature.experiment}'
        AND e.started_at < s.ts ORDER BY e.started_at LIMIT 1)`;
    case 'tenure': {
      const appeared =
        feature.entity === 'user'
          ? 'SELECT id, created_at FROM users'
          : 'SELECT id, created_at FROM lessons UNION ALL SELECT id, created_at FROM paragraphs UNION ALL SELECT id, created_at FROM words';
      return `(SELECT div((extract(epoch FROM s.ts) - extract(epoch FROM date_trunc('milliseconds', u.created_at))) * 1000, 86400000)
        FROM (${appeared}) u WHERE u.id::text = s.entity_id)`;
    }
    case 'attribute': {
      const latest = (table: string, key: string, validFrom: string, order = validFrom) =>
        `FROM ${table} v WHERE v.${key}::text = s.entity_id AND date_trunc('milliseconds', v.${validFrom}) < s.ts ORDER BY ${order} DESC LIMIT 1`;
      switch (feature.source) {
        case 'profile':
          return `(SELECT v.${feature.column} ${latest('oracle_profile_versions', 'user_id', 'updated_at', 'v.updated_at DESC, v.seq')})`;
        case 'account':
          return `(SELECT v.${feature.column} ${latest('users', 'id', 'updated_at')})`;
        case 'settings':
          return `(SELECT v.${feature.column} ${latest('user_settings', 'user_id', 'updated_at')})`;
        case 'session':
          return `(SELECT v.device_info ->> '${feature.jsonField}' ${latest('user_sessions', 'user_id', 'created_at')})`;
        case 'lesson':
          return `(SELECT v.${feature.column} ${latest('lessons', 'id', 'updated_at')})`;
      }
      return undefined;
    }
    case 'ratio':
      return undefined;
  }
}

/** The streak from "days before the timestamp's day" (0 = that day): consecutive from 0, or from 1. */
function streakOf(text: string): number {
  const back = new Set(text === '' ? [] : text.split(',').map(Number));
  let day = back.has(0) ? 0 : 1;
  let streak = 0;
  while (back.has(day)) {
    streak++;
    day++;
  }
  return streak;
}

async function oracleRows(spine: SpineRow[], registry: FeatureRegistry = learningFeatures): Promise<Row[]> {
  await data.postgres.query('DROP TABLE IF EXISTS oracle_spine');
  await data.postgres.query('CREATE TABLE oracle_spine (row_no int, entity_id text, ts timestamp(3))');
  for (const [index, row] of spine.entries())
    await data.postgres.query('INSERT INTO oracle_spine VALUES ($1, $2, $3)', [
      index,
      row.entity_id,
      row.timestamp.replace('Z', ''),
    ]);
  const features = registry.features;
  const columns = features.flatMap((feature) => {
    const expression = oracleExpression(feature);
    return expression ? [`${expression} AS "${feature.name}"`] : [];
  });
  const { rows } = await data.postgres.query<Row>(
    `SELECT s.entity_id, s.ts, ${columns.join(',\n')} FROM oracle_spine s ORDER BY s.row_no`,
  );
  return rows.map((row) => {
    const result: Row = { [`${registry.entity}_id`]: row.entity_id };
    for (const feature of features) {
      if (feature.kind === 'ratio') {
        const numerator = result[feature.numerator] as number | null;
        const denominator = (result[feature.denominator] as number | null) ?? 0;
        // A share counts a numerator's fact whose partner lies outside the window as its own (registry.ts).
        const scaled = feature.share
          ? Math.max(denominator, numerator ?? 0)
          : denominator * (feature.denominatorScale ?? 1);
        result[feature.name] = scaled > 0 && numerator !== null ? numerator / scaled : null;
        continue;
      }
      const value = row[feature.name];
      if (feature.kind === 'activity' && feature.measure.fn === 'currentStreak')
        result[feature.name] = streakOf(String(value));
      else if (value === null || value === undefined) result[feature.name] = null;
      else result[feature.name] = featureType(feature) === 'string' ? String(value) : Number(value);
    }
    return result;
  });
}

function expectSameFeatures(actual: Row[], expected: Row[]) {
  expect(actual.length).toBe(expected.length);
  // Shares (completion and pass rates) are rates: within [0, 1] wherever they have a value.
  const shares = [...learningFeatures.features, ...learningContentFeatures.features].filter(
    (feature) => feature.kind === 'ratio' && feature.share,
  );
  for (const row of actual)
    for (const { name } of shares)
      if (row[name] !== null && row[name] !== undefined)
        expect(Number(row[name]), name).toSatisfy((value: number) => value >= 0 && value <= 1);
  const mismatches: string[] = [];
  for (const [index, want] of expected.entries()) {
    const got = actual[index] ?? {};
    for (const [column, value] of Object.entries(want)) {
      const a = got[column];
      const same =
        typeof value === 'number' && typeof a === 'number'
          ? Math.abs(a - value) <= 1e-9 * Math.max(1, Math.abs(value))
          : a === value;
      if (!same)
        mismatches.push(
          `row ${index} (${String(Object.values(want)[0])}) ${column}: export ${String(a)}, oracle ${String(value)}`,
        );
    }
  }
  expect(mismatches.slice(0, 12)).toEqual([]);
}

describe('feature export', () => {
  it('declares at least 50 user features in the learning pack, all in the catalogue schema', () => {
    expect(learningFeatures.features.length).toBeGreaterThanOrEqual(50);
    const schema = arrowSchema(learningFeatures, selectFeatures(learningFeatures, {}));
    expect(schema.fields.length).toBe(learningFeatures.features.length + 2);
  });

  it('computes every feature of sampled (user, timestamp) rows as the Postgres oracle does', async () => {
    const spine = await sampleSpine(40, 7);
    const spinePath = await writeCsvSpine(spine);
    const exported = await exportRows({ spine: spinePath });
    const expected = await oracleRows(spine);
    expectSameFeatures(exported.rows, expected);
    expectSameFeatures((await exportRows({ spine: spinePath, method: 'tiles' })).rows, expected);
    // The sample is not vacuous: the attributes changed midway are seen both before and after.
    const levels = new Set(exported.rows.map((row) => row.country));
    expect(levels.has('NZ')).toBe(true);
    expect(exported.rows.some((row) => Number(row.activity_count_28d) > 0)).toBe(true);
  });

  it('computes features and labels from daily tiles exactly as from the facts, at instants inside days and on window edges', async () => {
    // Instants a fact's own time puts on an edge: at the fact (it must not count), 1 ms after it,
    // exactly 1, 7 and 28 days after (it still counts) and 1 ms past that (it no longer does), and
    // the next midnight; plus random instants inside days.
    const facts = await data.warehouse.query<{ user_id: string; at: string }>(
      `SELECT f.user_id AS user_id, toString(toUnixTimestamp64Milli(f.ts)) AS at
       FROM fact_activity AS f INNER JOIN dim_users AS u ON u.pack = f.pack AND u.user_id = f.user_id
       WHERE f.pack = {pack:String} AND f.ts > u.signup_at ORDER BY cityHash64(f.source_key) LIMIT 6`,
      { pack: PACK },
    );
    const first = Date.parse(`${range.first.replace(' ', 'T')}Z`);
    const last = Date.parse(`${range.last.replace(' ', 'T')}Z`);
    const day = 86_400_000;
    const edges = facts.flatMap((fact) =>
      [0, 1, day, day + 1, 7 * day, 7 * day + 1, 28 * day, 28 * day + 1, day - (Number(fact.at) % day)]
        .map((offset) => Number(fact.at) + offset)
        .filter((at) => at > first && at < last)
        .map((at) => ({ entity_id: fact.user_id, timestamp: new Date(at).toISOString() })),
    );
    const spine = [...edges, ...(await sampleSpine(20, 19))].filter(
      (row, index, rows) =>
        rows.findIndex((other) => other.entity_id === row.entity_id && other.timestamp === row.timestamp) ===
        index,
    );
    expect(edges.length).toBeGreaterThan(20);
    const spinePath = await writeCsvSpine(spine);
    const compare = async (labels: string[]) => {
      const scanned = await exportRows({ spine: spinePath, labels, method: 'facts' });
      const tiled = await exportRows({ spine: spinePath, labels, method: 'tiles' });
      expect(tiled.leftOut).toEqual(scanned.leftOut);
      expectSameFeatures(tiled.rows, scanned.rows);
      return scanned.rows;
    };
    const rows = await compare([]);
    expect(rows.length).toBe(spine.length);
    // Not vacuous: the edges move windowed counts both ways.
    for (const column of ['activity_count_1d', 'activity_count_7d', 'activity_count_28d'])
      expect(new Set(rows.map((row) => row[column])).size).toBeGreaterThan(1);
    // Labels only where their window is complete (the data's first days).
    expect((await compare(['churn_14d', 'churn_7d'])).length).toBeGreaterThan(0);
  });

  it('writes Parquet, Arrow and CSV with the same values and the catalogue schema and metadata', async () => {
    const spine = await sampleSpine(25, 11);
    const spinePath = await writeCsvSpine(spine);
    const options = { pack: PACK, spine: spinePath, labels: ['churn_14d'] };
    const arrowPath = join(dir, 'round.arrow');
    const parquetPath = join(dir, 'round.parquet');
    const csvPath = join(dir, 'round.csv');
    await exportFeatures(data.warehouse, { ...options, format: 'arrow', out: arrowPath });
    await exportFeatures(data.warehouse, { ...options, format: 'parquet', out: parquetPath });
    await exportFeatures(data.warehouse, { ...options, format: 'csv', out: csvPath });
    const selection = selectFeatures(learningFeatures, { labels: ['churn_14d'] });
    const expectedSchema = arrowSchema(learningFeatures, selection);
    const arrow = tableFromIPC(readFileSync(arrowPath));
    expect(arrow.schema.fields.map((field) => [field.name, String(field.type), field.nullable])).toEqual(
      expectedSchema.fields.map((field) => [field.name, String(field.type), field.nullable]),
    );
    expect(arrow.schema.metadata.get('tributary.pack')).toBe(PACK);
    expect(arrow.schema.metadata.get('tributary.spine_sha256')).toMatch(/^[0-9a-f]{64}$/);
    expect(arrow.schema.metadata.get('tributary.feature_set_version')).toMatch(/^[0-9a-f]{16}$/);
    const arrowRows = arrow.toArray().map((row) => normaliseRow(row.toJSON() as Row));
    // Parquet through ClickHouse's own reader, handed over as Arrow to apache-arrow.
    const parquetMetadata = await readParquetMetadata(parquetPath);
    expect(parquetMetadata['tributary.spine_sha256']).toBe(
      arrow.schema.metadata.get('tributary.spine_sha256'),
    );
    expect(parquetMetadata['tributary.feature_set_version']).toBe(
      arrow.schema.metadata.get('tributary.feature_set_version'),
    );
    const parquetTypes = await data.warehouse.query<{ name: string; type: string }>(
      `DESCRIBE TABLE file(${quoteString(parquetPath)}, 'Parquet')`,
    );
    expect(parquetTypes.map((column) => [column.name, column.type.startsWith('Nullable(')])).toEqual(
      expectedSchema.fields.map((field) => [field.name, field.nullable]),
    );
    const parquet = tableFromIPC(
      await data.warehouse.queryBytes(
        `SELECT * FROM file(${quoteString(parquetPath)}, 'Parquet') ${UNCOMPRESSED}`,
        'ArrowStream',
      ),
    );
    expect(parquet.toArray().map((row) => normaliseRow(row.toJSON() as Row))).toEqual(arrowRows);
    // CSV through ClickHouse's reader with the catalogue's types.
    const csv = tableFromIPC(
      await data.warehouse.queryBytes(
        `SELECT * FROM file(${quoteString(csvPath)}, 'CSVWithNames', ${quoteString(
          parquetTypes.map((column) => `\`${column.name}\` ${column.type}`).join(', '),
        )}) ${UNCOMPRESSED}`,
        'ArrowStream',
      ),
    );
    expect(csv.toArray().map((row) => normaliseRow(row.toJSON() as Row))).toEqual(arrowRows);
    expect(JSON.parse(readFileSync(`${csvPath}.metadata.json`, 'utf8'))['tributary.pack']).toBe(PACK);
  });

  it('computes as of one instant, per user without the spine join, exactly as a spine of every user at that instant', async () => {
    // An instant at a fact's own time (that fact must not count), early enough for both labels'
    // windows to be complete, and one inside the data's last days.
    const [fact] = await data.warehouse.query<{ at: string }>(
      `SELECT toString(ts) AS at FROM fact_activity
       WHERE pack = {pack:String} AND ts < {last:DateTime64(3, 'UTC')} - toIntervalDay(15) ORDER BY ts DESC LIMIT 1`,
      { pack: PACK, last: range.last },
    );
    expect(fact).toBeDefined();
    const last = Date.parse(`${range.last.replace(' ', 'T')}Z`);
    const instants = [
      { asOf: `${String(fact?.at).replace(' ', 'T')}Z`, labels: ['churn_14d', 'churn_7d'] },
      { asOf: new Date(last - 3.5 * 86_400_000).toISOString(), labels: [] },
    ];
    for (const { asOf, labels } of instants) {
      const asOfRows = (await exportRows({ asOf, labels })).rows;
      expect(asOfRows.length).toBeGreaterThan(10);
      const spinePath = await writeCsvSpine(
        asOfRows.map((row) => ({ entity_id: String(row.user_id), timestamp: asOf })),
      );
      const spineRows = (await exportRows({ spine: spinePath, labels })).rows;
      expectSameFeatures(asOfRows, spineRows);
      // A few users per pass: the passes' rows, written out in spine order, are the same file's rows.
      expect((await exportRows({ asOf, labels, entitiesPerPass: 7 })).rows).toEqual(asOfRows);
      expect((await exportRows({ spine: spinePath, labels, entitiesPerPass: 5 })).rows).toEqual(spineRows);
      // Not vacuous: windowed counts, distinct counts, attributes and labels vary across users.
      for (const column of ['activity_count_7d', 'active_days_28d', 'sessions_28d', 'country'])
        expect(new Set(asOfRows.map((row) => row[column])).size).toBeGreaterThan(1);
      for (const label of labels)
        expect(new Set(asOfRows.map((row) => row[`label_${label}`])).size).toBeGreaterThan(1);
    }
  });

  it('labels look only after the timestamp and leave out rows whose window is not complete', async () => {
    // Random instants, and the instant after each user's last action (churned when complete).
    const { rows: lastActions } = await data.postgres.query<{ user_id: string; last: Date }>(
      'SELECT user_id, max(ts) AS last FROM oracle_facts WHERE user_id IN (SELECT id::text FROM users) GROUP BY user_id ORDER BY user_id',
    );
    const spine = [
      ...(await sampleSpine(30, 23, true)),
      ...lastActions
        .map((row) => ({ entity_id: row.user_id, timestamp: new Date(row.last.getTime() + 1).toISOString() }))
        .filter(
          (row) =>
            Date.parse(row.timestamp) + 7 * 86_400_000 <= Date.parse(`${range.last.replace(' ', 'T')}Z`),
        ),
    ].filter((row, index, all) => all.findIndex((other) => other.entity_id === row.entity_id) === index);
    const result = await exportRows({
      spine: await writeCsvSpine(spine),
      labels: ['churn_7d'],
      features: ['activity_count_7d'],
    });
    const last = Date.parse(`${range.last.replace(' ', 'T')}Z`);
    const complete = spine.filter((row) => Date.parse(row.timestamp) + 7 * 86_400_000 <= last);
    expect(result.leftOut.incompleteLabel).toBe(spine.length - complete.length);
    expect(result.rows.map((row) => `${String(row.user_id)}@${String(row.timestamp)}`)).toEqual(
      complete.map((row) => `${row.entity_id}@${row.timestamp}`),
    );
    expect(result.leftOut.incompleteLabel).toBeGreaterThan(0);
    for (const row of result.rows) {
      const { rows } = await data.postgres.query<{ n: string }>(
        `SELECT count(*) AS n FROM oracle_facts WHERE user_id = $1 AND ts >= $2::timestamp AND ts < $2::timestamp + interval '7 days'`,
        [row.user_id, String(row.timestamp).replace('Z', '')],
      );
      expect(row.label_churn_7d).toBe(Number(rows[0]?.n) === 0 ? 1 : 0);
    }
    expect(result.rows.length).toBeGreaterThan(5);
  });

  it('refuses bad spines with messages that say what is wrong', async () => {
    const [good] = await sampleSpine(1, 5);
    if (!good) throw new Error('no spine row');
    const run = async (path: string, extra: Partial<ExportOptions> = {}) =>
      exportFeatures(data.warehouse, {
        pack: PACK,
        spine: path,
        format: 'parquet',
        out: join(dir, 'bad.parquet'),
        ...extra,
      });
    await expect(run(await writeCsvSpine([good], 'user,timestamp'))).rejects.toThrow(
      /must have the columns entity_id and timestamp; .* has user, timestamp/,
    );
    await expect(run(await writeCsvSpine([good, good]))).rejects.toThrow(
      /repeats 1 \(entity_id, timestamp\) rows/,
    );
    const unknown = { entity_id: '00000000-0000-0000-0000-000000000000', timestamp: good.timestamp };
    await expect(run(await writeCsvSpine([good, unknown]))).rejects.toThrow(
      /1 of 2 spine rows name a user that is unknown or had not signed up .*--drop-unknown/,
    );
    const dropped = await run(await writeCsvSpine([good, unknown]), { dropUnknown: true });
    expect(dropped.rows).toBe(1);
    expect(dropped.leftOut.unknownEntity).toBe(1);
    await expect(run(await writeCsvSpine([{ ...good, timestamp: '2031-01-01T00:00:00Z' }]))).rejects.toThrow(
      /after it ends/,
    );
    await expect(run(await writeCsvSpine([{ ...good, timestamp: 'yesterday-ish' }]))).rejects.toThrow(
      /not a timestamp \(first at row 1\)/,
    );
    await expect(run(await writeCsvSpine([]))).rejects.toThrow(/has no rows/);
    // An Arrow spine whose timestamp is a number.
    const arrowSpine = join(dir, 'numbers.arrow');
    await writeFile(
      arrowSpine,
      tableToIPC(tableFromArrays({ entity_id: [good.entity_id], timestamp: Float64Array.from([1]) }), 'file'),
    );
    await expect(run(arrowSpine)).rejects.toThrow(
      /timestamp must be a timestamp, a date or ISO-8601 text \(e\.g\. 2026-10-01T12:00:00Z\), not (Nullable\()?Float64/,
    );
    await expect(run(join(dir, 'missing.parquet'))).rejects.toThrow(/does not exist/);
    await expect(run(join(dir, 'spine.txt'))).rejects.toThrow(/name it .parquet/);
  });

  it('never lets changes at or after a row’s timestamp move its features; changes before it do', async () => {
    let round = 0;
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 1_000_000 }), async (seed) => {
        round++;
        // Rounds alternate the fact scan and the daily tiles.
        const method = round % 2 === 0 ? 'tiles' : 'facts';
        // One row per user: a change at one row's timestamp is before a later row of the same user.
        const spine = await sampleSpine(4, seed, true);
        const spinePath = await writeCsvSpine(spine);
        const before = (await exportRows({ spine: spinePath, method })).rows;
        // At or after each row's timestamp: an exercise answer, a profile change, an exposure.
        for (const row of spine) await plantChanges(row, 0, round);
        await data.capture();
        await transform();
        const after = (await exportRows({ spine: spinePath, method })).rows;
        expect(after).toEqual(before);
        // One hour before the first row's timestamp: its activity and its level move.
        const [first] = spine;
        if (!first) return;
        const profileChangedAt = await plantChanges(first, -3_600_000, round);
        await data.capture();
        await transform();
        const moved = (await exportRows({ spine: spinePath, method })).rows;
        expect(moved[0]?.activity_count_1d).toBe(Number(before[0]?.activity_count_1d) + 1);
        // A profile's versions take effect at their updated_at, which never goes back: when the
        // application changed it later than an hour before, the planted change comes just after.
        expect(moved[0]?.country).toBe(
          profileChangedAt < Date.parse(first.timestamp) ? `Z${round}` : before[0]?.country,
        );
        if (before[0]?.variant_exp_aa_null === null)
          expect(moved[0]?.variant_exp_aa_null).toBe(`planted_${round}`);
      }),
      { numRuns: 2 },
    );
  });

  it('takes an attribute from its newest version before the instant, a NULL one too, as of one instant and for a spine', async () => {
    const last = Date.parse(`${range.last.replace(' ', 'T')}Z`);
    const { rows } = await data.postgres.query<{ user_id: string }>(
      `SELECT user_id::text AS user_id FROM user_profiles
       WHERE updated_at < $1::timestamp AND country_code IS NOT NULL ORDER BY user_id LIMIT 1`,
      [new Date(last - 3 * 3_600_000).toISOString().replace('Z', '')],
    );
    const user = rows[0]?.user_id;
    expect(user).toBeDefined();
    // Two newer versions: a country two hours before the data's end, then none an hour later.
    for (const [country, hoursBeforeEnd] of [
      ['AA', 2],
      [null, 1],
    ] as const)
      await data.postgres.query(
        'UPDATE user_profiles SET country_code = $2, updated_at = $3::timestamp WHERE user_id = $1::uuid',
        [user, country, new Date(last - hoursBeforeEnd * 3_600_000).toISOString().replace('Z', '')],
      );
    await data.capture();
    await transform();
    for (const [minutesBeforeEnd, expected] of [
      [150, 'before'],
      [90, 'AA'],
      [30, null],
    ] as const) {
      const asOf = new Date(last - minutesBeforeEnd * 60_000).toISOString();
      const asOfRow = (await exportRows({ asOf })).rows.find((row) => row.user_id === user);
      const spinePath = await writeCsvSpine([{ entity_id: String(user), timestamp: asOf }]);
      const [spineRow] = (await exportRows({ spine: spinePath })).rows;
      if (expected === 'before') expect(asOfRow?.country).not.toBe('AA');
      else expect(asOfRow?.country).toBe(expected);
      expect(asOfRow?.country, `as of ${asOf}: one instant and a spine agree`).toBe(spineRow?.country);
    }
  });

  it('ends a deleted row’s attributes when its deletion lands: a deleted profile has none, a deleted session gives way to the one before', async () => {
    const { rows: profiles } = await data.postgres.query<{ user_id: string; country: string }>(
      `SELECT user_id::text AS user_id, country_code AS country FROM user_profiles
       WHERE country_code IS NOT NULL ORDER BY user_id DESC LIMIT 1`,
    );
    // A user with two sessions or more: the newest, on a platform of its own, is deleted.
    const { rows: sessions } = await data.postgres.query<{ user_id: string; id: string; platform: string }>(
      `SELECT user_id::text AS user_id, id::text AS id, device_info ->> 'platform' AS platform
       FROM user_sessions WHERE user_id = (
         SELECT user_id FROM user_sessions GROUP BY user_id HAVING count(*) > 1 ORDER BY user_id LIMIT 1)
       ORDER BY created_at DESC, id DESC`,
    );
    const profile = profiles[0];
    const [newest, previous] = sessions;
    expect(profile && newest && previous).toBeTruthy();
    if (!profile || !newest || !previous) return;
    await data.postgres.query(
      `UPDATE user_sessions SET device_info = '{"platform": "deleted-device"}' WHERE id = $1::uuid`,
      [newest.id],
    );
    await data.capture();
    const beforeDeletes = new Date(Date.now() - 1000).toISOString();
    await data.postgres.query('DELETE FROM user_profiles WHERE user_id = $1::uuid', [profile.user_id]);
    await data.postgres.query('DELETE FROM user_sessions WHERE id = $1::uuid', [newest.id]);
    await data.capture();
    await transform();
    const afterDeletes = new Date(Date.now() + 1000).toISOString();
    // A fact after the deletions landed, so that a spine may have rows then (within the data).
    await plantChanges({ entity_id: previous.user_id, timestamp: afterDeletes }, 60_000, 99);
    await data.capture();
    await transform();
    for (const [at, country, platform] of [
      [beforeDeletes, profile.country, 'deleted-device'],
      [afterDeletes, null, previous.platform],
    ] as const) {
      const asOf = (await exportRows({ asOf: at })).rows;
      const spinePath = await writeCsvSpine([
        { entity_id: profile.user_id, timestamp: at },
        { entity_id: newest.user_id, timestamp: at },
      ]);
      const spine = (await exportRows({ spine: spinePath })).rows;
      for (const rows of [asOf, spine]) {
        const deletedProfile = rows.find((row) => row.user_id === profile.user_id);
        expect(deletedProfile?.country, `country as of ${at}`).toBe(country);
        if (country === null) expect(deletedProfile?.proficiency_level).toBeNull();
        expect(rows.find((row) => row.user_id === newest.user_id)?.platform, `platform as of ${at}`).toBe(
          platform,
        );
      }
    }
  });
});

describe('content features', () => {
  it('declares content features with the content entity, listed in the content schema and by the CLI', async () => {
    expect(learningContentFeatures.features.length).toBeGreaterThanOrEqual(20);
    expect(learningContentFeatures.features.every((feature) => feature.entity === 'content')).toBe(true);
    const schema = arrowSchema(learningContentFeatures, selectFeatures(learningContentFeatures, {}));
    expect(schema.fields[0]?.name).toBe('content_id');
    // The CLI lists both entities' catalogues, and refuses an entity it does not know.
    const { stdout } = await run(process.execPath, [
      CLI,
      'features',
      'list',
      '--pack',
      PACK,
      '--format',
      'json',
    ]);
    const listed = JSON.parse(stdout) as { name: string; entity: string }[];
    expect(listed.filter((entry) => entry.entity === 'content').map((entry) => entry.name)).toEqual(
      catalogue(learningContentFeatures).map((entry) => entry.name),
    );
    expect(listed.filter((entry) => entry.entity === 'user').length).toBe(catalogue(learningFeatures).length);
    const exportCli = (...flags: string[]) =>
      run(process.execPath, [
        CLI,
        'export',
        'features',
        '--pack',
        PACK,
        '--warehouse',
        dir,
        '--as-of',
        'now',
        '--format',
        'csv',
        '--out',
        join(dir, 'never.csv'),
        ...flags,
      ]);
    for (const [flags, message] of [
      [['--entity', 'lesson'], /--entity must be user or content/],
      [['--entity', 'content', '--method', 'tiles'], /--method tiles builds per-user tiles/],
    ] as const)
      await expect(exportCli(...flags)).rejects.toMatchObject({
        code: 2,
        stderr: expect.stringMatching(message),
      });
  });

  it('computes every content feature of sampled (content, timestamp) rows, and as of one instant, as the Postgres oracle does', async () => {
    const spine = await sampleContentSpine(40, 11);
    const exported = await exportRows({ entity: 'content', spine: await writeCsvSpine(spine) });
    expectSameFeatures(exported.rows, await oracleRows(spine, learningContentFeatures));
    // Not vacuous: items with learners, scores, ratings and a lesson's own attributes.
    for (const column of [
      'learners_28d',
      'interactions_all',
      'avg_score_ratio_90d',
      'ratings_all',
      'difficulty_level',
    ])
      expect(new Set(exported.rows.map((row) => row[column])).size, column).toBeGreaterThan(1);
    // As of one instant: every item created by then, per item without the spine join.
    const asOf = new Date(Date.parse(`${range.last.replace(' ', 'T')}Z`) - 2.5 * 86_400_000).toISOString();
    const asOfRows = (await exportRows({ entity: 'content', asOf })).rows;
    expect(asOfRows.length).toBeGreaterThan(20);
    const sample = asOfRows.filter((_, index) => index % 5 === 0);
    expectSameFeatures(
      sample,
      await oracleRows(
        sample.map((row) => ({ entity_id: String(row.content_id), timestamp: asOf })),
        learningContentFeatures,
      ),
    );
    await expect(exportRows({ entity: 'content', asOf, method: 'tiles' })).rejects.toThrow(
      /tiles are per user/,
    );
  });

  it('never lets an action on the item at the timestamp move its features; one before it does', async () => {
    const { rows: lessons } = await data.postgres.query<{ id: string }>('SELECT id::text AS id FROM lessons');
    const lesson = (await sampleContentSpine(60, 9)).find((candidate) =>
      lessons.some((item) => item.id === candidate.entity_id),
    );
    expect(lesson).toBeDefined();
    if (!lesson) return;
    const spinePath = await writeCsvSpine([lesson]);
    const features = [
      'interactions_7d',
      'exercise_attempts_28d',
      'learners_7d',
      'completions_28d',
      'starts_28d',
      'completion_rate_28d',
    ];
    const before = (await exportRows({ entity: 'content', spine: spinePath, features })).rows;
    const answer = (offsetMs: number) =>
      data.postgres.query(
        `INSERT INTO user_activity_results (user_id, lesson_id, score, max_score, time_taken, completed_at)
         SELECT id, $1::uuid, 7, 10, 20, $2::timestamp FROM users ORDER BY id LIMIT 1`,
        [lesson.entity_id, new Date(Date.parse(lesson.timestamp) + offsetMs).toISOString().replace('Z', '')],
      );
    await answer(0);
    await data.capture();
    await transform();
    expect((await exportRows({ entity: 'content', spine: spinePath, features })).rows).toEqual(before);
    await answer(-3_600_000);
    // More completions than starts in the window (their starts lie before it, or were not
    // recorded): the completion rate is a share and stays 1, not above.
    const completions = Math.max(1, Number(before[0]?.starts_28d) - Number(before[0]?.completions_28d) + 1);
    await data.postgres.query(
      `INSERT INTO user_lesson_progress (user_id, lesson_id, status, score, max_score, completed_at)
       SELECT id, $1::uuid, 'completed', 8, 10, $2::timestamp FROM users
       WHERE id NOT IN (SELECT user_id FROM user_lesson_progress WHERE lesson_id = $1::uuid) ORDER BY id LIMIT $3`,
      [
        lesson.entity_id,
        new Date(Date.parse(lesson.timestamp) - 3_600_000).toISOString().replace('Z', ''),
        completions,
      ],
    );
    await data.capture();
    await transform();
    const [moved] = (await exportRows({ entity: 'content', spine: spinePath, features })).rows;
    expect(Number(moved?.completions_28d)).toBeGreaterThan(Number(moved?.starts_28d));
    expect(moved?.completion_rate_28d).toBe(1);
    expect(moved?.interactions_7d).toBe(Number(before[0]?.interactions_7d) + 1 + completions);
    expect(moved?.exercise_attempts_28d).toBe(Number(before[0]?.exercise_attempts_28d) + 1);
    expectSameFeatures(
      [moved ?? {}],
      (await oracleRows([lesson], learningContentFeatures)).map((expected) =>
        Object.fromEntries(
          Object.entries(expected).filter(([key]) => key === 'content_id' || features.includes(key)),
        ),
      ),
    );
  });
});

/** Source changes for a row's user at its timestamp plus `offsetMs` (0: exactly at it). */
/** Returns when the profile change takes effect (ms since the epoch). */
async function plantChanges(row: SpineRow, offsetMs: number, round: number): Promise<number> {
  const at = new Date(Date.parse(row.timestamp) + offsetMs).toISOString().replace('Z', '');
  await data.postgres.query(
    `INSERT INTO user_activity_results (user_id, lesson_id, score, max_score, time_taken, completed_at)
     SELECT $1::uuid, id, 5, 10, 30, $2::timestamp FROM lessons ORDER BY id LIMIT 1`,
    [row.entity_id, at],
  );
  const { rows } = await data.postgres.query<{ at: string }>(
    `UPDATE user_profiles
     SET country_code = $3, updated_at = GREATEST($2::timestamp, updated_at + interval '1 millisecond')
     WHERE user_id = $1::uuid
     RETURNING to_char(updated_at, 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS at`,
    [row.entity_id, at, `Z${round}`],
  );
  await data.mongoClient
    .db(data.mongoDatabase)
    .collection('user_interactions')
    .insertOne({
      user_id: row.entity_id,
      session_id: `planted-${round}`,
      // Not an activity fact (Postgres records failures), but it carries an exposure.
      event_type: 'lesson_fail',
      event_category: 'learning',
      timestamp: new Date(`${at}Z`),
      experiments: [
        { experiment_name: 'exp_aa_null', variant: `planted_${round}`, started_at: new Date(`${at}Z`) },
      ],
    });
  return Date.parse(rows[0]?.at ?? `${at}Z`);
}
