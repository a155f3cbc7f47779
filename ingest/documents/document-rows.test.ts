import { Code, Decimal128, Double, Int32, Long, ObjectId } from 'mongodb';
import { describe, expect, it } from 'vitest';
import { createPiiPolicy } from '../pii.ts';
import { createDocumentConverter, deleteImageFromKey, documentSourceTable } from './document-rows.ts';
import { canonicalJson, documentIdText, parseDebeziumJson, parseExtendedJson } from './extended-json.ts';
import { protectDocument } from './protect-document.ts';

const table = documentSourceTable('app', 'learning', 'user_interactions', [
  { name: 'user_id', type: 'string' },
  { name: 'timestamp', type: 'datetime' },
  { name: 'attempts', type: 'int' },
]);
const converter = createDocumentConverter(table);

describe('document mirrors', () => {
  it('names the mirror after the collection and keys it by _id', () => {
    expect(table.columns.map((column) => `${column.name} ${column.clickhouseType}`)).toEqual([
      '_id String',
      'doc String',
      'user_id String',
      "timestamp DateTime64(3, 'UTC')",
      'attempts Int64',
    ]);
    expect(table.key).toEqual(['_id']);
  });

  it('keeps every BSON type through canonical extended JSON, and copies declared fields', () => {
    const id = new ObjectId('596e275826f08b2730779e1f');
    const document = {
      _id: id,
      user_id: 'u1',
      timestamp: new Date(Date.UTC(2026, 10, 1, 12, 0, 0, 250)),
      attempts: new Long(3),
      ratio: new Double(2),
      count: new Int32(2),
      price: Decimal128.fromString('19.90'),
      nested: { list: [new Int32(1), { deep: new Date(0) }] },
    };
    const converted = converter.convert(canonicalJson(document));
    expect(converted).toEqual({
      ok: true,
      unavailable: undefined,
      row: {
        _id: '596e275826f08b2730779e1f',
        doc: canonicalJson(document),
        user_id: 'u1',
        timestamp: Date.UTC(2026, 10, 1, 12, 0, 0, 250),
        attempts: '3',
      },
    });
    const roundTrip = parseExtendedJson(converted.ok ? (converted.row.doc as string) : '{}');
    expect(canonicalJson(roundTrip)).toBe(canonicalJson(document));
    expect(canonicalJson(roundTrip)).toContain('"ratio":{"$numberDouble":"2.0"}');
  });

  it('writes non-ObjectId ids as canonical extended JSON', () => {
    expect(documentIdText('lesson-1')).toBe('"lesson-1"');
    expect(documentIdText(new Int32(1004))).toBe('{"$numberInt":"1004"}');
    expect(documentIdText({ a: 1 })).toBe('{"a":{"$numberInt":"1"}}');
  });

  it('refuses documents it cannot hold, saying why', () => {
    const reason = (document: object) => {
      const converted = converter.convert(canonicalJson(document));
      return converted.ok ? 'stored' : converted.reason;
    };
    expect(reason({ _id: 1, _version: 2 })).toBe(
      'top-level field "_version" collides with the mirror column of that name',
    );
    expect(reason({ _id: 1, a: { b: [new Code('x()')] } })).toBe(
      'field "a.b.0" holds a BSON JavaScript code value, which the warehouse does not store',
    );
    expect(reason({ _id: 1, user_id: new Int32(5) })).toBe(
      'field "user_id" holds a BSON Int32, but the pack declares it string',
    );
    expect(reason({ user_id: 'no id' })).toBe('the document has no _id');
    expect(converter.convert('{"_id": ')).toMatchObject({ ok: false });
    expect(converter.convert({ id: 1 })).toMatchObject({ ok: false });
  });
});

describe("Debezium's extended JSON", () => {
  it('keeps a Double written as 7.0 apart from an Int32 written as 7', () => {
    const document = parseDebeziumJson(
      '{"a": 7, "b": 7.0, "c": {"$numberLong": "12"}, "d": {"$date": 1558965508000}, "e": 3000000000}',
    );
    expect(canonicalJson(document)).toBe(
      '{"a":{"$numberInt":"7"},"b":{"$numberDouble":"7.0"},"c":{"$numberLong":"12"},' +
        '"d":{"$date":{"$numberLong":"1558965508000"}},"e":{"$numberLong":"3000000000"}}',
    );
  });

  it('reads the document id of a delete from the message key', () => {
    expect(deleteImageFromKey('{"id": "{\\"$oid\\": \\"596e275826f08b2730779e1f\\"}"}')).toBe(
      '{"_id":{"$oid":"596e275826f08b2730779e1f"}}',
    );
    expect(deleteImageFromKey('{"id": "1004"}')).toBe('{"_id":{"$numberInt":"1004"}}');
    expect(deleteImageFromKey('{"other": 1}')).toBeUndefined();
    expect(deleteImageFromKey(null)).toBeUndefined();
  });
});

describe('document PII rules', () => {
  it('drops secrets and hashes contact fields at every depth', () => {
    const pii = createPiiPolicy({
      dropFields: ['password_hash', '*token*'],
      hashFields: ['email'],
      hashPii: true,
      hashKey: 'unit-test-key-0123456789',
    });
    const protectedDocument = protectDocument(
      {
        _id: 1,
        email: 'A@b.c',
        profile: { password_hash: 'x', devices: [{ push_token: 't', email: 'a@b.c' }] },
      },
      pii,
    );
    expect(protectedDocument.profile).toEqual({ devices: [{ email: protectedDocument.email as string }] });
    expect(protectedDocument.email).toMatch(/^[0-9a-f]{8}:[0-9a-f]{64}$/);
  });
});
