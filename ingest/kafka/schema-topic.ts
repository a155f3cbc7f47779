// Table shapes travel beside the changes: whoever knows a table's columns (the native capture, or
// `connectors apply` reading the source catalog) publishes its SourceTable to a compacted topic,
// and workers build mirrors from it. Kafka events themselves carry no types (schemas disabled).
// Besides each table's newest shape (keyed by the table), the native capture publishes every shape
// it read changes with (keyed by table and digest), and names it on each such change (SHAPE_HEADER):
// a change logged before an ALTER is decoded with its own shape, not with the newest.
import { createHash } from 'node:crypto';
import type { Kafka, Producer } from 'kafkajs';
import { z } from 'zod';
import { tableKey, VALUE_ENCODINGS, type SourceTable } from '../source-table.ts';
import { CompactedTopicView } from './compacted-topic.ts';

export const SCHEMA_TOPIC = 'tributary.schemas';

const sourceTableSchema = z.object({
  source: z.string(),
  schema: z.string(),
  table: z.string(),
  description: z.string().optional(),
  document: z
    .object({
      fields: z.array(
        z.object({ name: z.string(), type: z.enum(['string', 'datetime', 'int', 'float', 'bool']) }),
      ),
    })
    .optional(),
  key: z.array(z.string()).min(1),
  // Without these a table without a key lost its `_row_id` digest, and a whole-row before image
  // was taken for a key-only one, once its shape had gone through the topic.
  rowIdentity: z.enum(['key', 'row', 'append']).optional(),
  beforeImage: z.enum(['key', 'row']).optional(),
  columns: z.array(
    z.object({
      name: z.string(),
      clickhouseType: z.string(),
      encoding: z.enum(VALUE_ENCODINGS),
      isArray: z.boolean(),
      sourceType: z.string(),
      description: z.string().optional(),
    }),
  ),
});

export async function publishTableSchemas(producer: Producer, tables: SourceTable[]): Promise<void> {
  await producer.send({
    topic: SCHEMA_TOPIC,
    messages: tables.map((table) => ({
      key: tableKey(table),
      value: JSON.stringify(table),
    })),
  });
}

const digests = new WeakMap<SourceTable, string>();

/** A shape's digest (of its JSON): what SHAPE_HEADER carries. Computed once per shape object. */
export function shapeDigest(table: SourceTable): string {
  let digest = digests.get(table);
  if (digest === undefined) {
    digest = createHash('sha256').update(JSON.stringify(table)).digest('hex').slice(0, 16);
    digests.set(table, digest);
  }
  return digest;
}

/** The schema topic's key of one shape of a table: `<source>.<schema>.<table>@<digest>`. */
export const shapeVersionKey = (table: string, digest: string) => `${table}@${digest}`;
const VERSION_KEY = /@[0-9a-f]{16}$/;

/** Publishes shapes changes were read with, each under its version key. */
export async function publishShapeVersions(producer: Producer, shapes: SourceTable[]): Promise<void> {
  await producer.send({
    topic: SCHEMA_TOPIC,
    messages: shapes.map((shape) => ({
      key: shapeVersionKey(tableKey(shape), shapeDigest(shape)),
      value: JSON.stringify(shape),
    })),
  });
}

/** The latest SourceTable per table, as published on the schema topic. */
export class SchemaCatalog {
  private readonly view: CompactedTopicView;
  /** Parsed shapes, by key, with the text they were parsed from (every event asks). */
  private readonly parsed = new Map<string, { text: string; table: SourceTable | undefined }>();

  constructor(
    kafka: Kafka,
    private readonly onInvalid: (key: string, reason: string) => void,
  ) {
    this.view = new CompactedTopicView(kafka, SCHEMA_TOPIC);
  }

  get(source: string, schema: string, table: string): SourceTable | undefined {
    return this.parse(tableKey({ source, schema, table }));
  }

  /** The shape of `table` (`<source>.<schema>.<table>`) with this digest, as published. */
  version(table: string, digest: string): SourceTable | undefined {
    return this.parse(shapeVersionKey(table, digest));
  }

  private parse(key: string): SourceTable | undefined {
    const text = this.view.get(key);
    if (text === undefined) return undefined;
    const cached = this.parsed.get(key);
    if (cached?.text === text) return cached.table;
    const parsed = sourceTableSchema.safeParse(parseJson(text));
    if (!parsed.success) this.onInvalid(key, parsed.error.message);
    const shape = parsed.success ? parsed.data : undefined;
    this.parsed.set(key, { text, table: shape });
    return shape;
  }

  /** Every table whose shape is known, keyed `<source>.<schema>.<table>` (its topic's name). */
  all(): Map<string, SourceTable> {
    const tables = new Map<string, SourceTable>();
    for (const [key] of this.view.entries()) {
      if (VERSION_KEY.test(key)) continue;
      const [source = '', schema = '', ...table] = key.split('.');
      const shape = this.get(source, schema, table.join('.'));
      if (shape) tables.set(key, shape);
    }
    return tables;
  }

  start(): Promise<void> {
    return this.view.open();
  }

  /** Reads the schema topic up to now: a shape published just before its rows is then known. */
  catchUp(): Promise<void> {
    return this.view.catchUp();
  }

  stop(): Promise<void> {
    return this.view.close();
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
