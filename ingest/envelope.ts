// The change-event contract (DESIGN.md §2): Debezium's JSON envelope with schemas disabled. Native
// readers emit exactly this shape, so this one decoder serves Debezium and Tributary alike.
import { z } from 'zod';

/** Debezium's placeholder for a TOASTed value Postgres did not resend because it did not change. */
export const UNAVAILABLE_VALUE = '__debezium_unavailable_value';

export const changeOperationSchema = z.enum(['c', 'u', 'd', 'r', 't']);
export type ChangeOperation = z.infer<typeof changeOperationSchema>;

const snapshotFlagSchema = z.union([
  z.boolean(),
  z.enum([
    'true',
    'false',
    'first',
    'last',
    'incremental',
    'first_in_data_collection',
    'last_in_data_collection',
  ]),
]);

export const changeSourceSchema = z
  .object({
    connector: z.string(),
    name: z.string(),
    db: z.string(),
    schema: z.string().optional(),
    table: z.string().optional(),
    collection: z.string().optional(),
    /** Postgres: LSN of the change's WAL record (native snapshots: the slot's restart position). */
    lsn: z.number().int().nonnegative().optional(),
    /** MongoDB: the change's cluster time is `ts_ms / 1000` seconds and increment `ord`. */
    ord: z.number().int().nonnegative().optional(),
    /** MySQL: the binary log file and the offset of the change's rows event, and the row in it. */
    file: z.string().optional(),
    pos: z.number().int().nonnegative().optional(),
    row: z.number().int().nonnegative().optional(),
    txId: z.number().int().optional(),
    ts_ms: z.number(),
    snapshot: snapshotFlagSchema.optional(),
  })
  .loose();
export type ChangeSource = z.infer<typeof changeSourceSchema>;

/**
 * A row: a plain object of column values. Checked, not rebuilt: `z.record` would copy every row of
 * every event (the Kafka worker's largest allocation), and a JSON object's keys are strings anyway.
 */
const rowSchema = z.custom<Record<string, unknown>>(
  (value) =>
    typeof value === 'object' &&
    value !== null &&
    [Object.prototype, null].includes(Object.getPrototypeOf(value) as object | null),
  { message: 'expected a row object' },
);

/**
 * A primary-key change travels as a delete of the old key (`side: 'old'`) and a create of the new
 * one (`side: 'new'`), as Debezium sends it; on Kafka the mark is Debezium's header
 * (`__debezium.newkey` on the delete, `__debezium.oldkey` on the create), not a field. `position`
 * is the UPDATE's own source position, the same for both halves, so they find each other even when
 * the consumer re-versions events.
 */
export const keyChangeSchema = z.object({
  side: z.enum(['old', 'new']),
  position: z.number().int().nonnegative(),
  /** The key on the other side: the new key on the delete, the old key on the create. */
  otherKey: rowSchema,
});
export type KeyChange = z.infer<typeof keyChangeSchema>;
/** Tables carry rows as objects; MongoDB documents arrive as extended-JSON text (Debezium's form). */
const imageSchema = z.union([rowSchema, z.string()]);

export const changeEnvelopeSchema = z
  .object({
    before: imageSchema.nullable().optional(),
    after: imageSchema.nullable().optional(),
    source: changeSourceSchema,
    op: changeOperationSchema,
    ts_ms: z.number().optional(),
    /** Debezium's transaction metadata (`provide.transaction.metadata`): the change's place in it. */
    transaction: z
      .object({ id: z.string(), total_order: z.number().int().positive() })
      .loose()
      .nullable()
      .optional(),
    keyChange: keyChangeSchema.optional(),
  })
  .loose()
  .superRefine((envelope, context) => {
    const needsAfter = envelope.op === 'c' || envelope.op === 'r' || envelope.op === 'u';
    if (needsAfter && !envelope.after)
      context.addIssue({
        code: 'custom',
        message: `op '${envelope.op}' needs an 'after' row`,
        path: ['after'],
      });
    // A delete's `before` is checked where it is known how the source names a deleted row
    // (Debezium's MongoDB deletes name it only in the message key).
  });
export type ChangeEnvelope = z.infer<typeof changeEnvelopeSchema>;
export type Row = Record<string, unknown>;
export type Image = Row | string;

/** Where a change sits in its source's order: UInt64, so a MongoDB position needs a bigint. */
export type SourceVersion = number | bigint;

/** The image as a table row, or undefined for a document (text) image. */
export function rowImage(image: Image | null | undefined): Row | undefined {
  return typeof image === 'object' && image !== null ? image : undefined;
}
