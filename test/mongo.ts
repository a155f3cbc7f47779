// The MongoDB server the Mongo tests run against. No real mongod can be installed on this machine
// kind, so by default each test file starts the mongo-java-server stand-in (in memory, oplog on);
// with TRIBUTARY_MONGO_URL set (a real replica set), the same tests run against that instead. Test
// titles carry MONGO_SERVER so every result says which server it was proven against.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MongoClient, type Document } from 'mongodb';
import { expect } from 'vitest';
import { canonicalJson, documentIdText } from '../ingest/documents/extended-json.ts';
import { protectDocument } from '../ingest/documents/protect-document.ts';
import type { PiiPolicy } from '../ingest/pii.ts';
import { startMongoStandIn, type RunningMongo } from '../stack/index.ts';
import { quoteTable, type Warehouse } from '../warehouse/index.ts';

const REAL_MONGO_URL = process.env.TRIBUTARY_MONGO_URL;

export const MONGO_SERVER = REAL_MONGO_URL
  ? 'real MongoDB at TRIBUTARY_MONGO_URL'
  : 'mongo-java-server stand-in, not a real mongod';

export interface TestMongo {
  url: string;
  /** Only the stand-in can be restarted empty (oplog included); undefined against a real server. */
  restartEmpty: (() => Promise<void>) | undefined;
  stop(): Promise<void>;
}

export async function startTestMongo(): Promise<TestMongo> {
  if (REAL_MONGO_URL) return { url: REAL_MONGO_URL, restartEmpty: undefined, stop: async () => undefined };
  const dir = await mkdtemp(join(tmpdir(), 'tributary-mongo-'));
  let server: RunningMongo = await startMongoStandIn({ dataDir: dir });
  return {
    url: server.url,
    restartEmpty: async () => {
      const { port } = server;
      await server.stop();
      server = await startMongoStandIn({ dataDir: dir, port });
    },
    stop: async () => {
      await server.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** A database name no other test uses, so tests against one real server do not meet. */
export function uniqueDatabaseName(prefix: string): string {
  return `${prefix}_${randomBytes(4).toString('hex')}`;
}

/** Connects with BSON values unpromoted, so documents read back with their exact types. */
export async function connectMongo(url: string): Promise<MongoClient> {
  const client = new MongoClient(url, { promoteValues: false, promoteLongs: false });
  await client.connect();
  return client;
}

/** The collection's documents as the mirror should hold them: _id text → canonical extended JSON. */
export async function readCollection(
  client: MongoClient,
  database: string,
  collection: string,
  pii: PiiPolicy,
): Promise<Map<string, string>> {
  const documents = await client.db(database).collection<Document>(collection).find({}).toArray();
  return new Map(
    documents.map((document) => [
      documentIdText(document._id),
      canonicalJson(protectDocument(document, pii)),
    ]),
  );
}

/** The mirror's live documents (FINAL, not deleted): _id → doc. */
export async function readDocumentMirror(warehouse: Warehouse, mirror: string): Promise<Map<string, string>> {
  const rows = await warehouse.query<{ _id: string; doc: string }>(
    `SELECT _id, doc FROM ${quoteTable(mirror)} FINAL WHERE _is_deleted = 0`,
  );
  return new Map(rows.map((row) => [row._id, row.doc]));
}

export async function expectDocumentMirrorEqualsCollection(options: {
  client: MongoClient;
  warehouse: Warehouse;
  database: string;
  collection: string;
  mirror: string;
  pii: PiiPolicy;
}): Promise<void> {
  const source = await readCollection(options.client, options.database, options.collection, options.pii);
  const mirror = await readDocumentMirror(options.warehouse, options.mirror);
  const differing = [...source].filter(([id, doc]) => mirror.get(id) !== doc).map(([id]) => id);
  const extra = [...mirror.keys()].filter((id) => !source.has(id));
  expect({ missingOrDifferent: differing.slice(0, 5), extra: extra.slice(0, 5) }).toEqual({
    missingOrDifferent: [],
    extra: [],
  });
  expect(mirror.size).toBe(source.size);
}
