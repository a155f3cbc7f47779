// A write-back target in MongoDB: each row updates the document with its natural key, or inserts
// it, setting only the fields Tributary owns (dotted paths, so the application's other fields,
// nested or not, stay as they are); nothing is ever deleted. Documents are found in bulk: the
// documents of a row's scope (e.g. one date) are read once per run, natural key → _id, and the
// writes go by _id, so no write searches the collection.
import {
  ObjectId,
  type AnyBulkWriteOperation,
  type Collection,
  type Document,
  type IndexDescription,
} from 'mongodb';
import type { TargetRow, WritebackTarget, WriteResult } from './engine.ts';

export interface MongoTargetSpec {
  collection: Collection;
  sql: string;
  valueColumns: readonly string[];
  /**
   * See WritebackTarget.dayMart. With it, `scope` and the keys of `filter` depend on nothing but
   * the row's day: a limited run reads its days' scopes while the warehouse finds the rows.
   */
  dayMart?: WritebackTarget['dayMart'];
  /** The natural key as a filter (it is also what a new document is created with). */
  filter(row: TargetRow): Document;
  /** A coarser filter (a subset of the natural key, e.g. the date) whose documents are read at once. */
  scope(row: TargetRow): Document;
  /** Rows come in this order (their scope first), so a scope's documents are read once. */
  orderBy?: string;
  /** The owned fields, as dotted paths. */
  fields(row: TargetRow): Record<string, unknown>;
  /** A field stamped with the write time whenever the document is written (e.g. computed_at). */
  stampedField?: string;
  /**
   * The seed's indexes the target's reads use, created if missing, as the seed's application would:
   * the natural key's (the dry run's look-ups) and, where the seed declares one, the scope's (each
   * run's read of a scope: an index scan of that scope's documents, none for a new day, instead of
   * a scan of the collection). Options (e.g. unique) as the seed's: an index of the same key with
   * other options is refused.
   */
  indexes: readonly MongoIndexSpec[];
}

export interface MongoIndexSpec {
  key: Record<string, 1 | -1>;
  options?: Omit<IndexDescription, 'key'>;
}

/**
 * Bulk writes in flight at once: each is a round trip whose server side (decoding, storing) can
 * run while the next batch is prepared and sent.
 */
const CONCURRENT_WRITES = 2;

export function mongoTarget(spec: MongoTargetSpec): WritebackTarget {
  const { collection } = spec;
  let indexed: Promise<unknown> | undefined;
  /** Natural key → _id of every document in the scopes read so far (this run). */
  const ids = new Map<string, unknown>();
  /** Each scope's read, once: batches written at once wait for the same read. */
  const scopeReads = new Map<string, Promise<void>>();
  /** Before the first read or write of a run: a scope's read goes through its index from the start. */
  const ensureIndexes = () =>
    (indexed ??= collection
      .createIndexes(spec.indexes.map((index) => ({ key: index.key, ...index.options })))
      .catch((error: unknown) => {
        indexed = undefined;
        throw error;
      }));
  const readScope = async (scope: Document, fields: readonly string[]) => {
    await ensureIndexes();
    const projection = Object.fromEntries([['_id', 1], ...fields.map((field) => [field, 1])]);
    for await (const document of collection.find(scope, { projection }))
      ids.set(naturalKey(document, fields), document._id);
  };
  /** The read of the row's scope, started if no batch (or `prepare`) has started it yet. */
  const scopeRead = (row: TargetRow, scopeKey: string): Promise<void> => {
    let read = scopeReads.get(scopeKey);
    if (!read) {
      read = readScope(spec.scope(row), Object.keys(spec.filter(row)));
      // A failed read is tried again by the next batch that needs it.
      read.catch(() => scopeReads.delete(scopeKey));
      scopeReads.set(scopeKey, read);
    }
    return read;
  };
  const lookup = async (rows: TargetRow[]): Promise<Map<string, unknown>> => {
    const reads = new Set<Promise<void>>();
    let lastKey: string | undefined;
    for (const row of rows) {
      const scopeKey = JSON.stringify(spec.scope(row));
      // Rows come ordered by scope: most are in the previous row's.
      if (scopeKey === lastKey) continue;
      lastKey = scopeKey;
      reads.add(scopeRead(row, scopeKey));
    }
    await Promise.all(reads);
    return ids;
  };
  const { dayMart } = spec;
  return {
    name: `mongo:${collection.dbName}.${collection.collectionName}`,
    sql: spec.sql,
    orderBy: spec.orderBy,
    valueColumns: spec.valueColumns,
    dayMart: spec.dayMart,
    hashed: true,
    concurrentWrites: CONCURRENT_WRITES,
    // A scope's read starts while the warehouse's candidate query runs instead of after it.
    prepare: dayMart
      ? (days) => {
          for (const day of days) {
            const row: TargetRow = {
              natural_key: '',
              content_hash: '',
              change: 'insert',
              [dayMart.dayColumn]: day,
            };
            void scopeRead(row, JSON.stringify(spec.scope(row))).catch(() => undefined);
          }
        }
      : undefined,
    async write(rows: TargetRow[]): Promise<WriteResult> {
      if (rows.length === 0) return { inserted: 0, updated: 0 };
      await ensureIndexes();
      const known = await lookup(rows);
      const now = new Date();
      const result = await collection.bulkWrite(
        rows.map((row): AnyBulkWriteOperation => {
          const filter = spec.filter(row);
          const key = naturalKey(filter, Object.keys(filter));
          const set = { ...spec.fields(row), ...(spec.stampedField ? { [spec.stampedField]: now } : {}) };
          const id = known.get(key);
          if (id !== undefined)
            return { updateOne: { filter: { _id: id } as Document, update: { $set: set } } };
          const document = { _id: new ObjectId(), ...filter, ...unflatten(set), created_at: now };
          known.set(key, document._id);
          return { insertOne: { document } };
        }),
        { ordered: false },
      );
      return { inserted: result.insertedCount, updated: result.modifiedCount };
    },
    async diff(rows: TargetRow[]): Promise<string[]> {
      const lines: string[] = [];
      for (const row of rows) {
        const existing = await collection.findOne(spec.filter(row));
        const wanted = spec.fields(row);
        const changes = Object.entries(wanted)
          .filter(([path, value]) => !sameValue(valueAt(existing, path), value))
          .map(([path, value]) => `${path}: ${show(valueAt(existing, path))} → ${show(value)}`);
        lines.push(
          `${existing ? 'update' : 'insert'} ${JSON.stringify(spec.filter(row))}: ${changes.slice(0, 6).join(', ')}${changes.length > 6 ? ', …' : ''}`,
        );
      }
      return lines;
    },
  };
}

export function valueAt(document: Document | null, path: string): unknown {
  let value: unknown = document ?? undefined;
  for (const part of path.split('.'))
    value = value !== null && typeof value === 'object' ? (value as Document)[part] : undefined;
  return value;
}

function sameValue(a: unknown, b: unknown): boolean {
  return JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
}

function show(value: unknown): string {
  return value === undefined ? '(absent)' : JSON.stringify(value);
}

/** The natural key's values as one string (dates by their instant). */
function naturalKey(document: Document, fields: readonly string[]): string {
  return fields
    .map((field) => {
      const value: unknown = document[field];
      return value instanceof Date ? value.toISOString() : String(value);
    })
    .join('\u0000');
}

/** `{ 'a.b': 1, c: 2 }` → `{ a: { b: 1 }, c: 2 }`: a new document holds the fields nested. */
export function unflatten(fields: Record<string, unknown>): Document {
  const document: Document = {};
  for (const [path, value] of Object.entries(fields)) {
    const parts = path.split('.');
    let node = document;
    for (const part of parts.slice(0, -1)) node = (node[part] ??= {}) as Document;
    node[parts.at(-1) ?? path] = value;
  }
  return document;
}
