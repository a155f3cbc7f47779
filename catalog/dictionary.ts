// The data dictionary, read from the warehouse itself: every table an analyst may query, its
// columns, types and comments, its rows, when it last changed, and what it is computed from.
import { getPack, packs } from '../packs/index.ts';
import { lineageOf } from '../transforms/index.ts';
import {
  ANALYTICS_DATABASE,
  bookkeepingTable,
  currentStateView,
  mirrorKey,
  quoteTable,
  RAW_DATABASE,
  rawTableKind,
  splitTable,
  type Warehouse,
} from '../warehouse/index.ts';
import { InvariantError } from '../errors/index.ts';

export type TableKind =
  'current state' | 'mirror' | 'fact' | 'dimension' | 'mart' | 'partial aggregate' | 'pipeline';

/** In the order the dictionary lists them: what analysts read first comes first. */
export const TABLE_KINDS: readonly TableKind[] = [
  'mart',
  'fact',
  'dimension',
  'current state',
  'mirror',
  'partial aggregate',
  'pipeline',
];

export interface DictionaryColumn {
  name: string;
  type: string;
  comment: string;
}

export interface DictionaryTable {
  /** As SQL names it from `analytics`, the default database: `fact_activity`, `raw.learning_users`. */
  name: string;
  database: string;
  kind: TableKind;
  engine: string;
  comment: string;
  /** Rows (a mirror's are row versions; a current-state view's are live rows); null for other views. */
  rows: number | null;
  /** When data last landed in it (UTC), when the warehouse knows. */
  freshness: string | null;
  columns: DictionaryColumn[];
  /** The tables, mirrors or source tables it is computed from. */
  upstream: string[];
}

export interface DataDictionary {
  generatedAt: string;
  tables: DictionaryTable[];
}

/** The kind of a table named as layout.ts names it (`raw.x`, or unqualified in `analytics`). */
export function kindOf(table: string): TableKind {
  const { database, name } = splitTable(table);
  if (database === RAW_DATABASE) {
    const kind = rawTableKind(name);
    return kind === 'history' ? 'pipeline' : kind;
  }
  if (database !== ANALYTICS_DATABASE) return 'pipeline';
  table = name;
  if (table.startsWith('fact_')) return 'fact';
  if (table.startsWith('dim_')) return 'dimension';
  if (table.startsWith('mart_')) return 'mart';
  if (table.startsWith('agg_')) return 'partial aggregate';
  return 'pipeline';
}

export interface DictionaryOptions {
  /** The mirror prefix each pack was captured under, when it is not the pack's name. */
  sources?: Readonly<Record<string, string>>;
}

/** What analysts may read: `analytics` (names unqualified, as the default database) and `raw`. */
const DATABASES = { databases: [ANALYTICS_DATABASE, RAW_DATABASE], analytics: ANALYTICS_DATABASE };
const layoutName = (column: string) =>
  `if(database = {analytics:String}, ${column}, concat(database, '.', ${column}))`;

/** `raw.current_x` → `raw.x`. */
function mirrorOfView(view: string): string {
  const mirror = `${RAW_DATABASE}.${mirrorKey(view).replace(/^current_/, '')}`;
  if (currentStateView(mirror) !== view) throw new InvariantError(`${view} is not a current-state view`);
  return mirror;
}

export async function readDataDictionary(
  warehouse: Warehouse,
  options: DictionaryOptions = {},
): Promise<DataDictionary> {
  const tables = await warehouse.query<{
    name: string;
    engine: string;
    comment: string;
    rows: string | null;
  }>(
    `SELECT ${layoutName('name')} AS name, engine, comment, toString(total_rows) AS rows FROM system.tables
     WHERE database IN {databases:Array(String)} ORDER BY database != {analytics:String}, name`,
    DATABASES,
  );
  const columns = await warehouse.query<{ table: string; name: string; type: string; comment: string }>(
    `SELECT ${layoutName('table')} AS table, name, type, comment FROM system.columns
     WHERE database IN {databases:Array(String)} ORDER BY table, position`,
    DATABASES,
  );
  const names = new Set(tables.map((table) => table.name));
  const upstream = await lineage(warehouse, names, options);
  const [lastTransform] = await warehouse.query<{ at: string | null }>(
    `SELECT if(count() = 0, NULL, toString(max(updated_at))) AS at FROM ${bookkeepingTable('checkpoints')} FINAL
     WHERE startsWith(pipeline, 'transform:')`,
  );
  const [generated] = await warehouse.query<{ now: string }>("SELECT toString(now64(3, 'UTC')) AS now");
  const entries: DictionaryTable[] = [];
  for (const table of tables) {
    const kind = kindOf(table.name);
    const own = columns.filter((column) => column.table === table.name);
    const mirror = kind === 'current state' ? mirrorOfView(table.name) : table.name;
    entries.push({
      name: table.name,
      database: splitTable(table.name).database,
      kind,
      engine: table.engine,
      comment: table.comment,
      rows:
        kind === 'current state'
          ? await count(warehouse, table.name)
          : table.rows === null
            ? null
            : Number(table.rows),
      freshness:
        kind === 'mirror' || kind === 'current state'
          ? await newestIngestion(warehouse, mirror, names)
          : kind === 'pipeline'
            ? null
            : (lastTransform?.at ?? null),
      columns: kind === 'pipeline' ? [] : own.map(({ name, type, comment }) => ({ name, type, comment })),
      upstream:
        kind === 'current state'
          ? [mirror]
          : kind === 'mirror'
            ? [`source table ${mirrorKey(table.name)}`]
            : (upstream.get(table.name) ?? []),
    });
  }
  return { generatedAt: generated?.now ?? '', tables: entries };
}

/** Table → inputs, over every known pack with facts in the warehouse; inputs that exist only. */
async function lineage(
  warehouse: Warehouse,
  names: Set<string>,
  options: DictionaryOptions,
): Promise<Map<string, string[]>> {
  const result = new Map<string, string[]>();
  if (!names.has('dim_users')) return result;
  const present = await warehouse.query<{ pack: string }>(
    'SELECT DISTINCT pack FROM dim_users UNION DISTINCT SELECT DISTINCT pack FROM fact_activity',
  );
  for (const { pack: name } of present) {
    if (!(name in packs)) continue;
    const pack = getPack(name);
    const source = options.sources?.[name] ?? name;
    for (const [table, inputs] of lineageOf(pack.mapping(source), pack.marts ?? [], source))
      result.set(table, [
        ...new Set([...(result.get(table) ?? []), ...inputs.filter((input) => names.has(input))]),
      ]);
  }
  return result;
}

async function count(warehouse: Warehouse, table: string): Promise<number> {
  const [row] = await warehouse.query<{ n: string }>(`SELECT count() AS n FROM ${quoteTable(table)}`);
  return Number(row?.n ?? 0);
}

async function newestIngestion(
  warehouse: Warehouse,
  mirror: string,
  names: Set<string>,
): Promise<string | null> {
  if (!names.has(mirror)) return null;
  const [row] = await warehouse.query<{ at: string | null }>(
    `SELECT if(count() = 0, NULL, toString(max(_ingested_at))) AS at FROM ${quoteTable(mirror)}`,
  );
  return row?.at ?? null;
}
