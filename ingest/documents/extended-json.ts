// Documents as text: MongoDB's canonical extended JSON v2, which keeps every BSON type (ObjectId,
// Date, Decimal128, Int64, Int32 against Double) so the mirror's `doc` round-trips field for field.
import { parse as parseLossless } from 'lossless-json';
import { BSON, ObjectId, type Document } from 'mongodb';

const { EJSON } = BSON;

export function canonicalJson(value: unknown): string {
  return EJSON.stringify(value as Document, { relaxed: false });
}

/** Parses canonical extended JSON (what the native reader writes) into BSON values. */
export function parseExtendedJson(text: string): unknown {
  return EJSON.parse(text, { relaxed: false });
}

/**
 * Parses the extended JSON Debezium's MongoDB connector writes: the Java driver's "strict" mode, or
 * relaxed, where an Int32 is a bare `7` and a Double a bare `7.0`. JSON.parse would read both as 7;
 * the number's text decides instead, so a Double stays a Double.
 */
export function parseDebeziumJson(text: string): unknown {
  const tree = parseLossless(text, undefined, (digits) => ({ [NUMBER_TEXT]: digits }));
  return EJSON.parse(JSON.stringify(typedNumbers(tree)), { relaxed: false });
}

const NUMBER_TEXT = '\u0000number';
const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;

function typedNumbers(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(typedNumbers);
  if (typeof value !== 'object' || value === null) return value;
  const digits = (value as Record<string, unknown>)[NUMBER_TEXT];
  if (typeof digits === 'string') {
    if (/[.eE]/.test(digits)) return { $numberDouble: String(Number(digits)) };
    const integer = Number(digits);
    return integer >= INT32_MIN && integer <= INT32_MAX ? { $numberInt: digits } : { $numberLong: digits };
  }
  const result: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    // `{"$date": 1558965508000}`, `{"$timestamp": {"t": 1, "i": 2}}`: an operator's operand keeps
    // its plain numbers.
    result[key] = key.startsWith('$') ? plainNumbers(item) : typedNumbers(item);
  }
  return result;
}

function plainNumbers(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(plainNumbers);
  if (typeof value !== 'object' || value === null) return value;
  const digits = (value as Record<string, unknown>)[NUMBER_TEXT];
  if (typeof digits === 'string') return Number(digits);
  return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, plainNumbers(item)]));
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
