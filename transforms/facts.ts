// Facts from raw mirrors. A full refresh rebuilds a pack's facts; an incremental one finds the
// source rows whose mirror received a version since the last run (updates and deletes included),
// replaces exactly their facts, and reports the days those facts were on before and after, which
// are the mart partitions to recompute.
import type { FactSource, PackMapping } from '../packs/index.ts';
import { TributaryError } from '../errors/index.ts';
import {
  bookkeepingTable,
  quoteIdentifier as q,
  quoteTable,
  WarehouseError,
  type Warehouse,
} from '../warehouse/index.ts';

/** Every fact table, with the columns its mapping's SELECT yields (after pack and source_key). */
const FACT_TABLES = {
  activity: {
    table: 'fact_activity',
    columns:
      'user_id, ts, day, event_type, content_id, content_type, session_id, duration_s, score, max_score, is_completion, value, source_position',
    // `day` and the position are derived here, the same for every source.
    derive: (select: string) =>
      `SELECT user_id, ts, toDate(ts) AS day, event_type, content_id, content_type, session_id, duration_s, score, max_score, is_completion, value, '' AS source_position, source_key FROM (${select})`,
    derived: ['day', 'source_position'],
    userKeys: true,
    // Filled by a view on the table's inserts (migration 240); its deletes are the transforms'.
    copies: ['fact_activity_by_user'],
  },
  exposures: {
    table: 'fact_exposure_events',
    columns: 'experiment, variant, user_id, exposed_at',
    derive: (select: string) =>
      `SELECT experiment, variant, user_id, exposed_at, source_key FROM (${select})`,
    derived: [],
    userKeys: true,
    copies: [],
  },
  ratings: {
    table: 'fact_ratings',
    columns: 'user_id, content_id, content_type, day, rating',
    derive: (select: string) =>
      `SELECT user_id, content_id, content_type, day, rating, source_key FROM (${select})`,
    derived: [],
    userKeys: false,
    copies: [],
  },
} as const;

type FactKind = keyof typeof FACT_TABLES;

/** Days whose facts changed, per fact kind; `all` after a full refresh. */
export interface ChangedDays {
  all: boolean;
  activity: Set<string>;
  ratings: Set<string>;
  /** Whether any exposure fact changed (A/B results depend on them). */
  exposures: boolean;
}

export const CHANGED_KEYS_TABLE = bookkeepingTable('changed_keys');

export async function refreshFactsFull(
  warehouse: Warehouse,
  pack: string,
  mapping: PackMapping,
  existing: Set<string>,
): Promise<void> {
  for (const kind of Object.keys(FACT_TABLES) as FactKind[]) {
    await deleteFacts(warehouse, kind, 'pack = {pack:String}', { pack });
    for (const source of mapping[kind]) {
      if (!existing.has(source.mirror)) continue;
      await insertFacts(warehouse, pack, kind, source, undefined);
    }
  }
}

/**
 * Replaces the facts of source rows whose mirror changed after `since`; returns the days touched.
 * The keys are written to a work table first, so the replacement is keyed, not scanned.
 */
export async function refreshFactsIncremental(
  warehouse: Warehouse,
  pack: string,
  mapping: PackMapping,
  existing: Set<string>,
  since: string,
): Promise<ChangedDays> {
  const changed: ChangedDays = { all: false, activity: new Set(), ratings: new Set(), exposures: false };
  for (const kind of Object.keys(FACT_TABLES) as FactKind[]) {
    const { table } = FACT_TABLES[kind];
    for (const source of mapping[kind]) {
      if (!existing.has(source.mirror)) continue;
      await warehouse.command(`TRUNCATE TABLE ${CHANGED_KEYS_TABLE}`);
      await warehouse.command(
        `INSERT INTO ${CHANGED_KEYS_TABLE} (source_key) SELECT DISTINCT ${source.sourceKey} FROM ${quoteTable(source.mirror)}
         WHERE _ingested_at > {since:DateTime64(3, 'UTC')}`,
        { since },
      );
      const keyFilter = `source_key IN (SELECT source_key FROM ${CHANGED_KEYS_TABLE})`;
      const changedCount = await warehouse.query<{ n: string }>(
        `SELECT count() AS n FROM ${CHANGED_KEYS_TABLE}`,
      );
      if (Number(changedCount[0]?.n ?? 0) === 0) continue;
      const before = kind === 'exposures' ? undefined : await factDays(warehouse, table, pack, keyFilter);
      // Keys with no facts yet (a new day's rows, mostly) need no delete, a mutation of every part.
      if (before === undefined || before.length > 0)
        await deleteFacts(warehouse, kind, `pack = {pack:String} AND ${keyFilter}`, { pack });
      await insertFacts(warehouse, pack, kind, source, keyFilter);
      if (kind === 'exposures') {
        changed.exposures = true;
        continue;
      }
      const after = await factDays(warehouse, table, pack, keyFilter);
      for (const day of [...(before ?? []), ...after]) changed[kind].add(day);
    }
  }
  return changed;
}

/** Deletes a fact table's rows matching `where`, and its copies' (a view copies inserts, not deletes). */
async function deleteFacts(
  warehouse: Warehouse,
  kind: FactKind,
  where: string,
  params: Record<string, unknown>,
): Promise<void> {
  const { table, copies } = FACT_TABLES[kind];
  for (const target of [table, ...copies])
    await warehouse.command(`DELETE FROM ${q(target)} WHERE ${where}`, params);
}

/** The mapping's SELECT over `source`'s mirror, with each row's `source_key`. */
function keyedRows(source: FactSource): string {
  const select = source.select.replaceAll('{mirror}', quoteTable(source.mirror));
  // The key is computed inside the mapping's SELECT so it can filter before the facts are built.
  return select.replace(/^\s*SELECT\s/i, `SELECT ${source.sourceKey} AS source_key, `);
}

/** A pack's mapping does not yield what a fact table holds; says which source, column and types. */
export class FactMappingError extends TributaryError {}

/** Broad kinds of ClickHouse types: an INSERT converts within a kind, not across kinds. */
function typeKind(type: string): 'number' | 'text' | 'time' | 'other' {
  const bare = type
    .replace(/^(?:Nullable|LowCardinality)\((.*)\)$/, '$1')
    .replace(/^Nullable\((.*)\)$/, '$1');
  if (/^(?:U?Int\d+|Float\d+|Decimal|Bool)/.test(bare)) return 'number';
  if (/^(?:String|FixedString|Enum|UUID)/.test(bare)) return 'text';
  if (/^(?:Date|DateTime)/.test(bare)) return 'time';
  return 'other';
}

/** Why a column of type `yielded` cannot fill a fact column of type `expected`, or undefined. */
export function columnMismatch(expected: string, yielded: string | undefined): string | undefined {
  if (yielded === undefined) return 'is missing';
  if (expected === yielded || typeKind(expected) === typeKind(yielded)) return undefined;
  return `is ${yielded}, the fact column is ${expected}`;
}

const checkedSources = new WeakMap<FactSource, true>();

/**
 * Checks, once per source, that each mapping SELECT over an existing mirror yields every fact
 * column with a type the fact table accepts (DESCRIBE, nothing read), so that a pack whose mapping
 * drifted from the facts fails at start naming the column instead of mid-run or silently.
 */
export async function checkFactSelects(
  warehouse: Warehouse,
  mapping: PackMapping,
  existing: Set<string>,
): Promise<void> {
  for (const kind of Object.keys(FACT_TABLES) as FactKind[]) {
    const { table, columns, derived } = FACT_TABLES[kind];
    const sources = mapping[kind].filter(
      (source) => existing.has(source.mirror) && !checkedSources.has(source),
    );
    if (sources.length === 0) continue;
    const factTypes = await describe(warehouse, `TABLE ${q(table)}`);
    for (const source of sources) {
      let yielded: Map<string, string>;
      try {
        yielded = await describe(warehouse, `(${keyedRows(source)})`);
      } catch (error) {
        if (!(error instanceof WarehouseError) || error.retriable) throw error;
        throw new FactMappingError(
          `the ${kind} mapping over ${source.mirror} does not run: ${error.message}`,
          {
            cause: error,
          },
        );
      }
      const mapped = columns.split(', ').filter((column) => !(derived as readonly string[]).includes(column));
      const problems = mapped.flatMap((column) => {
        const problem = columnMismatch(factTypes.get(column) ?? '', yielded.get(column));
        return problem ? [`${column} ${problem}`] : [];
      });
      if (problems.length > 0)
        throw new FactMappingError(
          `the ${kind} mapping over ${source.mirror} does not fit ${table}: ${problems.join('; ')}; fix the pack's mapping`,
        );
      checkedSources.set(source, true);
    }
  }
}

async function describe(warehouse: Warehouse, what: string): Promise<Map<string, string>> {
  const rows = await warehouse.query<{ name: string; type: string }>(`DESCRIBE ${what}`);
  return new Map(rows.map((row) => [row.name, row.type]));
}

async function insertFacts(
  warehouse: Warehouse,
  pack: string,
  kind: FactKind,
  source: FactSource,
  keyFilter: string | undefined,
): Promise<void> {
  const { table, columns, derive, userKeys } = FACT_TABLES[kind];
  const keyed = keyedRows(source);
  const facts = derive(keyFilter ? `SELECT * FROM (${keyed}) WHERE ${keyFilter}` : keyed);
  if (!userKeys) {
    await warehouse.command(
      `INSERT INTO ${q(table)} (pack, source_key, ${columns}) SELECT {pack:String}, source_key, ${columns} FROM (${facts})`,
      { pack },
    );
    return;
  }
  await assignUserKeys(warehouse, pack, facts);
  await warehouse.command(
    `INSERT INTO ${q(table)} (pack, source_key, ${columns}, user_key)
     SELECT {pack:String}, source_key, ${columns}, user_key FROM (${withUserKeys(facts)})`,
    { pack },
  );
}

/**
 * Gives every user id `select` yields that has none yet a key: dense, never reused, per pack
 * (`{pack:String}` is bound). Keys are only compared to keys of the same pack, so their numbering
 * may differ between runs; the marts never show them.
 */
export async function assignUserKeys(warehouse: Warehouse, pack: string, select: string): Promise<void> {
  // The known ids are looked up among the ids at hand, not loaded whole: an incremental run brings few.
  await warehouse.command(
    `INSERT INTO dim_user_keys (pack, user_id, user_key)
     SELECT {pack:String}, user_id,
         toUInt32((SELECT max(user_key) FROM dim_user_keys WHERE pack = {pack:String}) + rowNumberInAllBlocks() + 1)
     FROM (
       SELECT DISTINCT user_id FROM (${select})
       WHERE user_id NOT IN (SELECT user_id FROM dim_user_keys
                             WHERE pack = {pack:String} AND user_id IN (SELECT user_id FROM (${select})))
     )`,
    { pack },
  );
}

/** `select`'s rows with their user's key (assigned before by assignUserKeys) as `user_key`. */
export function withUserKeys(select: string): string {
  return `SELECT * FROM (${select}) AS rows
    INNER JOIN (SELECT user_id, user_key FROM dim_user_keys WHERE pack = {pack:String}) AS keys USING (user_id)`;
}

async function factDays(
  warehouse: Warehouse,
  table: string,
  pack: string,
  keyFilter: string,
): Promise<string[]> {
  const rows = await warehouse.query<{ day: string }>(
    `SELECT DISTINCT toString(day) AS day FROM ${q(table)} WHERE pack = {pack:String} AND ${keyFilter}`,
    { pack },
  );
  return rows.map((row) => row.day);
}
