// Documents as text: MongoDB's canonical extended JSON v2, which keeps every BSON type (ObjectId,
// Date, Decimal128, Int64, Int32 against Double) so the mirror's `doc` round-trips field for field.
import { BSON, ObjectId, type Document } from 'mongodb';

const { EJSON } = BSON;

export function canonicalJson(value: unknown): string {
  return EJSON.stringify(value as Document, { relaxed: false });
}

/** Parses canonical or relaxed extended JSON, and the legacy "strict" form Debezium may write. */
export function parseExtendedJson(text: string): unknown {
  return EJSON.parse(text, { relaxed: false });
}

/** The mirror's `_id`: an ObjectId as its 24 hex digits, any other id as canonical extended JSON. */
export function documentIdText(id: unknown): string {
  return id instanceof ObjectId ? id.toHexString() : canonicalJson(id);
}

/** A plain (sub)document, as opposed to a BSON value object (ObjectId, Date, Decimal128, …) or array. */
export function isPlainDocument(value: unknown): value is Document {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const prototype: unknown = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}
