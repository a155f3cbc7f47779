// The mirror of a collection: `_id`, the whole document as canonical extended JSON in `doc`, and
// the top-level fields a pack declares in typed columns (so analysts filter on `user_id` without
// parsing JSON). A document the mirror cannot hold faithfully is refused with the reason.
import { BSONSymbol, Code, Decimal128, Double, Int32, Long, type Document } from 'mongodb';
import { MIRROR_META_COLUMNS } from '../../warehouse/index.ts';
import type { ChangeEnvelope } from '../envelope.ts';
import type { ConvertedRow, RowConverter } from '../mirror/mirror-rows.ts';
import type { DocumentField, DocumentFieldType, SourceColumn, SourceTable } from '../source-table.ts';
import {
  canonicalJson,
  documentIdText,
  isPlainDocument,
  parseDebeziumJson,
  parseExtendedJson,
} from './extended-json.ts';
import { InvariantError } from '../../errors/index.ts';

const CLICKHOUSE_TYPES: Record<DocumentFieldType, string> = {
  string: 'String',
  datetime: "DateTime64(3, 'UTC')",
  int: 'Int64',
  float: 'Float64',
  bool: 'Bool',
};

/** Names a document field may not take at the top level: the mirror's own columns. */
const RESERVED_FIELDS = new Set<string>(MIRROR_META_COLUMNS);

export function documentSourceTable(
  source: string,
  database: string,
  collection: string,
  fields: DocumentField[],
): SourceTable {
  const column = (name: string, clickhouseType: string, sourceType: string): SourceColumn => ({
    name,
    clickhouseType,
    encoding: 'plain',
    isArray: false,
    sourceType,
  });
  return {
    source,
    schema: database,
    table: collection,
    document: { fields },
    key: ['_id'],
    columns: [
      column('_id', 'String', 'document id'),
      column('doc', 'String', 'document'),
      ...fields
        .filter((field) => field.name !== '_id' && field.name !== 'doc')
        .map((field) => column(field.name, CLICKHOUSE_TYPES[field.type], field.type)),
    ],
  };
}

export function createDocumentConverter(table: SourceTable): RowConverter {
  const fields = (table.document?.fields ?? []).filter(
    (field) => field.name !== '_id' && field.name !== 'doc',
  );
  const fail = (reason: string): ConvertedRow => ({ ok: false, reason });
  return {
    convert(image) {
      if (typeof image !== 'string') return fail('a table row where a document (extended JSON) was expected');
      let document: unknown;
      try {
        document = parseExtendedJson(image);
      } catch (error) {
        return fail(`the document is not extended JSON: ${(error as Error).message}`);
      }
      if (!isPlainDocument(document)) return fail('the image is not a document');
      if (!('_id' in document)) return fail('the document has no _id');
      const reserved = Object.keys(document).find((field) => RESERVED_FIELDS.has(field));
      if (reserved) return fail(`top-level field "${reserved}" collides with the mirror column of that name`);
      const unsupported = findUnsupported(document, '');
      if (unsupported) return fail(unsupported);
      const row: Record<string, unknown> = {
        _id: documentIdText(document._id),
        // Images reach the mirror as canonical extended JSON already (the native reader writes it,
        // the worker rewrites Debezium's text into it): stored as they came, not written again.
        doc: image,
      };
      for (const field of fields) {
        const value = typedValue(document[field.name], field.type);
        if (value === INVALID)
          return fail(
            `field "${field.name}" holds ${describe(document[field.name])}, but the pack declares it ${field.type}`,
          );
        row[field.name] = value;
      }
      return { ok: true, row, unavailable: undefined };
    },
  };
}

/**
 * BSON types the warehouse does not keep: JavaScript code is executable content rather than data,
 * and Symbol is deprecated with no faithful counterpart in the marts.
 */
function findUnsupported(value: unknown, path: string): string | undefined {
  if (value instanceof Code || value instanceof BSONSymbol)
    return `field "${path}" holds a BSON ${value instanceof Code ? 'JavaScript code' : 'Symbol'} value, which the warehouse does not store`;
  if (Array.isArray(value)) {
    for (const [index, item] of value.entries()) {
      const found = findUnsupported(item, `${path}.${index}`);
      if (found) return found;
    }
  } else if (isPlainDocument(value)) {
    for (const [field, item] of Object.entries(value)) {
      const found = findUnsupported(item, path ? `${path}.${field}` : field);
      if (found) return found;
    }
  }
  return undefined;
}

const INVALID = Symbol('invalid');

/** The value for a typed column, null when absent, INVALID when its BSON type does not fit. */
function typedValue(value: unknown, type: DocumentFieldType): unknown {
  if (value === undefined || value === null) return null;
  switch (type) {
    case 'string':
      return typeof value === 'string' ? value : INVALID;
    case 'datetime':
      // DateTime64(3) reads an integer as milliseconds since the epoch.
      return value instanceof Date ? value.getTime() : INVALID;
    case 'int':
      if (value instanceof Int32) return value.value;
      // Int64 as text: beyond 2^53 a JSON number would lose digits.
      if (value instanceof Long) return value.toString();
      return typeof value === 'number' && Number.isInteger(value) ? value : INVALID;
    case 'float':
      if (value instanceof Double || value instanceof Int32) return value.value;
      if (value instanceof Long || value instanceof Decimal128) return Number(value.toString());
      return typeof value === 'number' ? value : INVALID;
    case 'bool':
      return typeof value === 'boolean' ? value : INVALID;
  }
}

function describe(value: unknown): string {
  if (Array.isArray(value)) return 'an array';
  if (value instanceof Date) return 'a date';
  if (isPlainDocument(value)) return 'a document';
  if (typeof value === 'object' && value !== null && '_bsontype' in value)
    return `a BSON ${String((value as { _bsontype: unknown })._bsontype)}`;
  return `a ${typeof value}`;
}

/** Reads `doc` back into a document, for tests and tools that compare a mirror with its collection. */
export function documentFromMirror(text: string): Document {
  const document = parseExtendedJson(text);
  if (!isPlainDocument(document)) throw new InvariantError('the mirror holds a doc that is not a document');
  return document;
}

/** The `_id` of the event's document as canonical extended JSON: Debezium's message key `id`. */
export function documentKey(envelope: ChangeEnvelope): string | null {
  const image = envelope.op === 'd' ? envelope.before : envelope.after;
  if (typeof image !== 'string') return null;
  const document = parseExtendedJson(image);
  return isPlainDocument(document) && '_id' in document ? canonicalJson(document._id) : null;
}

/**
 * A Debezium MongoDB delete names its document only in the message key (`{"id": "<extended JSON>"}`):
 * the `before` image the mirror needs, holding just that `_id`. Undefined when the key has no id.
 */
export function deleteImageFromKey(key: string | null | undefined): string | undefined {
  if (!key) return undefined;
  try {
    const parsed: unknown = JSON.parse(key);
    const id =
      (parsed as { id?: unknown; payload?: { id?: unknown } }).id ??
      (parsed as { payload?: { id?: unknown } }).payload?.id;
    if (typeof id !== 'string') return undefined;
    return canonicalJson({ _id: parseDebeziumJson(id) });
  } catch {
    return undefined;
  }
}
