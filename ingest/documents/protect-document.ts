// The secret and PII rules of tables, applied to documents at every depth: a field named like a
// secret is dropped wherever it sits, an email or phone field is replaced by its keyed hash.
import type { Document } from 'mongodb';
import type { PiiPolicy } from '../pii.ts';
import { canonicalJson, isPlainDocument, parseDebeziumJson } from './extended-json.ts';

export function protectDocument(document: Document, pii: PiiPolicy): Document {
  const result: Document = {};
  for (const [field, value] of Object.entries(document)) {
    const treatment = field === '_id' ? 'keep' : pii.treatmentOf(field);
    if (treatment === 'drop') continue;
    result[field] = treatment === 'hash' ? pii.hash(plainValue(value)) : protectValue(value, pii);
  }
  return result;
}

function protectValue(value: unknown, pii: PiiPolicy): unknown {
  if (isPlainDocument(value)) return protectDocument(value, pii);
  if (Array.isArray(value)) return value.map((item) => protectValue(item, pii));
  return value;
}

/** Hashes read the value a person typed, not its BSON wrapper (`Int32`, `Long`). */
function plainValue(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(plainValue);
  return typeof value === 'object' && value !== null ? String(value) : value;
}

/**
 * The same rules on a document in Debezium's extended-JSON text; the result is canonical extended
 * JSON, as the native reader writes it.
 */
export function protectDocumentText(text: string, pii: PiiPolicy): string {
  let document: unknown;
  try {
    document = parseDebeziumJson(text);
  } catch {
    // Not extended JSON: the mirror refuses it, with the reason, as a dead letter.
    return text;
  }
  return isPlainDocument(document) ? canonicalJson(protectDocument(document, pii)) : text;
}
