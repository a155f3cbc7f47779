// A write-back target in MongoDB: each row becomes one upsert by the document's natural key that
// sets only the fields Tributary owns (dotted paths, so the application's other fields, nested
// or not, stay as they are) and never deletes anything.
import type { Collection, Document } from 'mongodb';
import type { TargetRow, WritebackTarget, WriteResult } from './engine.ts';

export interface MongoTargetSpec {
  collection: Collection;
  sql: string;
  valueColumns: readonly string[];
  /** The natural key as a filter (it is also what an upsert creates the document with). */
  filter(row: TargetRow): Document;
  /** The owned fields, as dotted paths. */
  fields(row: TargetRow): Record<string, unknown>;
  /** A field stamped with the write time whenever the document is written (e.g. computed_at). */
  stampedField?: string;
}

export function mongoTarget(spec: MongoTargetSpec): WritebackTarget {
  const { collection } = spec;
  return {
    name: `mongo:${collection.dbName}.${collection.collectionName}`,
    sql: spec.sql,
    valueColumns: spec.valueColumns,
    hashed: true,
    async write(rows: TargetRow[]): Promise<WriteResult> {
      if (rows.length === 0) return { inserted: 0, updated: 0 };
      const now = new Date();
      const result = await collection.bulkWrite(
        rows.map((row) => ({
          updateOne: {
            filter: spec.filter(row),
            update: {
              $set: { ...spec.fields(row), ...(spec.stampedField ? { [spec.stampedField]: now } : {}) },
              $setOnInsert: { created_at: now },
            },
            upsert: true,
          },
        })),
        { ordered: false },
      );
      return { inserted: result.upsertedCount, updated: result.modifiedCount };
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
