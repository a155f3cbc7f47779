// Table shapes from the data itself: Debezium's JSON converter with schemas enabled wraps every
// value with its Kafka Connect schema, and with `column.propagate.source.type` each field names its
// Postgres or MySQL type (`__debezium.source.column.type`, `.length`, `.scale`). The worker turns that
// into the same SourceTable the native capture builds from the catalog, through the same type
// mapping, so a column added at the source reaches the mirror without the worker ever connecting to
// the source.
import { z } from 'zod';
import { createMysqlTableCodec } from '../mysql/table-codec.ts';
import type { PiiPolicy } from '../pii.ts';
import type { PgTypeInfo } from '../postgres/pg-types.ts';
import { createTableCodec } from '../postgres/table-codec.ts';
import type { SourceTable } from '../source-table.ts';

const fieldSchema = z
  .object({
    field: z.string(),
    type: z.string(),
    name: z.string().optional(),
    parameters: z.record(z.string(), z.string()).optional(),
  })
  .loose();

const structSchema = z.object({ type: z.literal('struct'), fields: z.array(fieldSchema) }).loose();

/** The Connect schema of a Debezium envelope: `before`/`after` are structs of the row's fields. */
const envelopeSchemaSchema = z
  .object({ fields: z.array(fieldSchema.extend({ fields: z.array(fieldSchema).optional() })) })
  .loose();

export type ConnectSchema = z.infer<typeof envelopeSchemaSchema>;

const SOURCE_TYPE_PARAMETERS = [
  '__debezium.source.column.type',
  '__debezium.source.column.length',
  '__debezium.source.column.scale',
] as const;

/**
 * What of an envelope's Connect schema decides its row's shape (each field's name, type, logical
 * type and source type), as one text; undefined when the schema has no row struct. Read off every
 * event (no validation, no allocation but the text): equal texts derive equal shapes.
 */
export function connectSchemaFingerprint(schema: unknown): string | undefined {
  const fields = (schema as { fields?: unknown } | null)?.fields;
  if (!Array.isArray(fields)) return undefined;
  const row = (fields as { field?: unknown; fields?: unknown }[]).find(
    (field) => field.field === 'after' || field.field === 'before',
  );
  if (!row || !Array.isArray(row.fields)) return undefined;
  let text = '';
  for (const field of row.fields as {
    field?: unknown;
    type?: unknown;
    name?: unknown;
    parameters?: Record<string, unknown>;
  }[]) {
    text += `${String(field.field)}\u0001${String(field.type)}\u0001${String(field.name ?? '')}`;
    for (const parameter of SOURCE_TYPE_PARAMETERS)
      text += `\u0001${String(field.parameters?.[parameter] ?? '')}`;
    text += '\u0002';
  }
  return text;
}

export interface DerivedShapeOptions {
  /** The events' `source.connector`: `postgresql`, or `mysql`/`mariadb`. */
  connector: string;
  source: string;
  schema: string;
  table: string;
  /** The row key: the known shape's, or the message key's fields (none: a MySQL table without a key). */
  key: string[];
  beforeImage?: 'key' | 'row';
  pii: PiiPolicy;
  warn?: (message: string) => void;
}

/**
 * The table's shape from the envelope's Connect schema; undefined when the schema does not name
 * the source types (a connector without `column.propagate.source.type`).
 */
export function shapeFromConnectSchema(
  schema: unknown,
  options: DerivedShapeOptions,
): SourceTable | undefined {
  const parsed = envelopeSchemaSchema.safeParse(schema);
  if (!parsed.success) return undefined;
  const row = parsed.data.fields.find((field) => field.field === 'after' || field.field === 'before');
  const struct = structSchema.safeParse(row);
  if (!struct.success) return undefined;
  if (options.connector === 'mysql' || options.connector === 'mariadb')
    return mysqlShape(struct.data.fields, options);
  const columns = struct.data.fields.map((field) => ({
    name: field.field,
    type: pgTypeOf(field),
    generated: false,
  }));
  if (columns.some((column) => column.type === undefined)) return undefined;
  return createTableCodec({
    source: options.source,
    schema: options.schema,
    table: options.table,
    columns: columns as { name: string; type: PgTypeInfo; generated: boolean }[],
    key: options.key,
    fullIdentity: options.beforeImage === 'row',
    pii: options.pii,
    // Debezium streams generated columns where Postgres does (18+); the schema lists what it sends.
    generatedColumnsStreamed: true,
    onUnknownType: (type) =>
      options.warn?.(`type ${type} is not known to Tributary; its values are kept as text`),
  }).table;
}

/** The MySQL COLUMN_TYPE each field's parameters spell, through the native capture's codec. */
function mysqlShape(
  fields: z.infer<typeof fieldSchema>[],
  options: DerivedShapeOptions,
): SourceTable | undefined {
  const columns = fields.map((field) => ({ name: field.field, ...mysqlColumnTypeOf(field) }));
  if (columns.some((column) => column.columnType === undefined)) return undefined;
  return createMysqlTableCodec({
    source: options.source,
    database: options.schema,
    table: options.table,
    columns: columns as { name: string; columnType: string; charset: string | null }[],
    key: options.key,
    pii: options.pii,
    onUnknownType: (type) =>
      options.warn?.(`type ${type} is not known to Tributary; its values are kept as text`),
  }).table;
}

/** Types whose length and scale matter to the mapping: DECIMAL(p,s), BIT(n), DATETIME(fsp), … */
const MYSQL_SIZED = new Set(['decimal', 'numeric', 'bit', 'datetime', 'timestamp', 'time']);
const MYSQL_BINARY = new Set(['binary', 'varbinary', 'tinyblob', 'blob', 'mediumblob', 'longblob']);

function mysqlColumnTypeOf(field: z.infer<typeof fieldSchema>): {
  columnType: string | undefined;
  charset: string | null;
} {
  const parameters = field.parameters ?? {};
  const sourceType = parameters['__debezium.source.column.type']?.toLowerCase();
  if (!sourceType) return { columnType: undefined, charset: null };
  const [base = sourceType, ...modifiers] = sourceType.split(' ');
  const length = parameters['__debezium.source.column.length'];
  const scale = parameters['__debezium.source.column.scale'];
  const size =
    MYSQL_SIZED.has(base) && length !== undefined
      ? `(${length}${scale !== undefined ? `,${scale}` : ''})`
      : '';
  // Only binary strings lack a character set; which one a text column has does not change its mapping.
  const charset = MYSQL_BINARY.has(base) ? null : 'utf8mb4';
  return { columnType: [`${base}${size}`, ...modifiers].join(' '), charset };
}

/** The key columns a Debezium message key's Connect schema names. */
export function keyColumnsOf(keySchema: unknown): string[] | undefined {
  const parsed = structSchema.safeParse(keySchema);
  return parsed.success ? parsed.data.fields.map((field) => field.field) : undefined;
}

function pgTypeOf(field: z.infer<typeof fieldSchema>): PgTypeInfo | undefined {
  const parameters = field.parameters ?? {};
  const sourceType = parameters['__debezium.source.column.type'];
  if (!sourceType) return undefined;
  const name = sourceType.toLowerCase();
  const length = Number(parameters['__debezium.source.column.length'] ?? -1);
  const scale = Number(parameters['__debezium.source.column.scale'] ?? 0);
  // Postgres' typmod of numeric(p, s); unconstrained numeric has none (-1).
  const typmod = name === 'numeric' && length > 0 ? ((length << 16) | scale) + 4 : -1;
  if (field.name === 'io.debezium.data.Enum') return { name, category: 'E', typmod };
  if (name.startsWith('_')) return { name, category: 'A', elementName: name.slice(1), typmod };
  return { name, category: 'U', typmod };
}
