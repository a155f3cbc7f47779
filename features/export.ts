// `exportFeatures`: a point-in-time correct training set from a pack's facts and dimension history,
// computed a range of entities at a time into a scratch table (the engine's memory is one range's),
// written from it by ClickHouse's own Parquet/Arrow/CSV writers block by block (this process never
// holds the result), then stamped with the catalogue's metadata. One function with a zod options schema, so
// the CLI and a scheduled `export` job call the same thing.
import { randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { RecordBatch, RecordBatchFileWriter, RecordBatchReader } from 'apache-arrow';
import { z } from 'zod';
import { TributaryError } from '../errors/index.ts';
import { getPack } from '../packs/index.ts';
import {
  bookkeepingTable,
  historyTable,
  migrate,
  presentTables,
  quoteTable,
  type Warehouse,
} from '../warehouse/index.ts';
import { arrowSchema, selectFeatures, type Selection } from './catalogue.ts';
import { ensureFeatureHistory, historyKeys, historyMirrors } from './history.ts';
import { addParquetMetadata } from './parquet-metadata.ts';
import {
  ENTITIES,
  registryVersion,
  validateRegistry,
  type Entity,
  type FeatureRegistry,
} from './registry.ts';
import { computeInPasses, ENTITIES_PER_PASS } from './passes.ts';
import { asOfSpine, fileSpine, type Spine } from './spine.ts';
import { pointInTimeQuery } from './sql.ts';

export class FeatureExportError extends TributaryError {}

/** Rows per block read from the computed table. */
const READ_BLOCK_ROWS = 8192;

const timestampText = z
  .string()
  .refine(
    (text) => text === 'now' || !Number.isNaN(Date.parse(text)),
    'must be an ISO-8601 timestamp or "now"',
  );

export const exportOptionsSchema = z
  .object({
    pack: z.string().min(1),
    /** What each row describes: a user, or a piece of content. */
    entity: z.enum(ENTITIES).default('user'),
    /** The capture's source name, which names the mirrors; defaults to the pack's name. */
    sourceName: z
      .string()
      .regex(/^[a-z][a-z0-9_]{0,40}$/)
      .optional(),
    asOf: timestampText.optional(),
    spine: z.string().min(1).optional(),
    features: z.array(z.string().min(1)).min(1).optional(),
    set: z.string().min(1).optional(),
    labels: z.array(z.string().min(1)).default([]),
    format: z.enum(['parquet', 'arrow', 'csv']),
    out: z.string().min(1),
    dropUnknown: z.boolean().default(false),
    /** Activity from per-user daily tiles, or fact by fact (see sql.ts; the README says which is faster). */
    method: z.enum(['tiles', 'facts']).default('facts'),
    /**
     * The engine computes this many entities at a time (in id order) into a scratch table, which is
     * then written out in spine order: its memory grows with this number, not with the spine.
     * ENTITIES_PER_PASS's by default, as-of or spine.
     */
    entitiesPerPass: z.number().int().positive().optional(),
  })
  .refine((options) => (options.asOf === undefined) !== (options.spine === undefined), {
    message: 'give exactly one of asOf (--as-of) and spine (--spine)',
    path: ['asOf'],
  });
export type ExportOptions = z.input<typeof exportOptionsSchema>;

export interface ExportResult {
  path: string;
  rows: number;
  features: number;
  /** Spine rows left out: label window not complete yet, entity unknown at the timestamp. */
  leftOut: { incompleteLabel: number; unknownEntity: number };
  metadata: Record<string, string>;
  seconds: number;
}

/** Each pack's registries, validated once: a pack's declarations do not change while it runs. */
const validated = new WeakMap<object, FeatureRegistry[]>();

/** Every registry of the pack, one per entity it describes. */
export function featureRegistries(packName: string): FeatureRegistry[] {
  const pack = getPack(packName);
  if (!pack.features || pack.features.length === 0)
    throw new FeatureExportError(`pack ${packName} declares no features`);
  let registries = validated.get(pack.features);
  if (!registries) validated.set(pack.features, (registries = pack.features.map(validateRegistry)));
  return registries;
}

/** The pack's registry of `entity`'s features. */
export function featureRegistryOf(packName: string, entity: Entity): FeatureRegistry {
  const registries = featureRegistries(packName);
  const registry = registries.find((candidate) => candidate.entity === entity);
  if (!registry)
    throw new FeatureExportError(
      `pack ${packName} declares no ${entity} features; it describes ${registries.map((candidate) => candidate.entity).join(', ')}`,
    );
  return registry;
}

const nowText = () => new Date().toISOString();
const normalise = (text: string) => (text === 'now' ? nowText() : new Date(Date.parse(text)).toISOString());
const toClickHouseTime = (iso: string) => iso.replace('T', ' ').replace('Z', '');

/** The first and the last fact of the pack (spine timestamps must lie between). */
export async function dataRange(
  warehouse: Warehouse,
  pack: string,
): Promise<{ first: string; last: string }> {
  const [row] = await warehouse.query<{ first: string; last: string; n: string }>(
    `SELECT toString(min(ts)) AS first, toString(max(ts)) AS last, count() AS n FROM fact_activity WHERE pack = {pack:String}`,
    { pack },
  );
  if (!row || Number(row.n) === 0)
    throw new FeatureExportError(
      `the warehouse has no ${pack} facts: run \`tributary transform --pack ${pack}\` first`,
    );
  return { first: row.first, last: row.last };
}

/**
 * Checks that the history tables the attributes read exist, keeping them up (see history.ts);
 * returns each source's row key (`sourceKeys` of the point-in-time query).
 */
export async function prepareHistory(
  warehouse: Warehouse,
  registry: FeatureRegistry,
  sourceName: string,
  selection: Selection,
): Promise<Record<string, string[]>> {
  await ensureFeatureHistory(warehouse, registry, sourceName);
  const sources = new Set(
    selection.features.flatMap((feature) => (feature.kind === 'attribute' ? [feature.source] : [])),
  );
  const needed = historyMirrors(
    { ...registry, attributeSources: registry.attributeSources.filter((source) => sources.has(source.name)) },
    sourceName,
  );
  const present = await presentTables(warehouse, needed.map(historyTable));
  const missing = needed.filter((mirror) => !present.has(historyTable(mirror)));
  if (missing.length > 0)
    throw new FeatureExportError(
      `attributes read ${missing.join(', ')}, which the warehouse does not have: capture the source (with --source-name ${sourceName}) first`,
    );
  return historyKeys(warehouse, registry, sourceName);
}

export async function exportFeatures(warehouse: Warehouse, input: ExportOptions): Promise<ExportResult> {
  const startedAt = performance.now();
  const parsed = exportOptionsSchema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new FeatureExportError(
      `export options: ${issue?.path.join('.') || 'options'} ${issue?.message ?? 'invalid'}`,
    );
  }
  const options = parsed.data;
  const registry = featureRegistryOf(options.pack, options.entity);
  const selection = selectFeatures(registry, options);
  const sourceName = options.sourceName ?? options.pack;
  await migrate(warehouse);
  const sourceKeys = await prepareHistory(warehouse, registry, sourceName, selection);
  const range = await dataRange(warehouse, options.pack);
  let spine: Spine;
  /** An as-of spine's one timestamp, as its rows were given it. */
  let asOfTime: string | undefined;
  const metadata: Record<string, string> = {
    'tributary.pack': options.pack,
    'tributary.entity': registry.entity,
    'tributary.feature_set': selection.setName,
    'tributary.feature_set_version': registryVersion(registry),
    'tributary.features': JSON.stringify(selection.features.map((feature) => feature.name)),
    'tributary.labels': JSON.stringify(selection.labels.map((label) => `label_${label.name}`)),
    'tributary.data_range': `${range.first}/${range.last}`,
  };
  if (options.asOf !== undefined) {
    const asOf = normalise(options.asOf);
    metadata['tributary.as_of'] = asOf;
    asOfTime = toClickHouseTime(asOf);
    spine = await asOfSpine(warehouse, options.pack, asOfTime, registry.entity);
  } else {
    spine = await fileSpine(warehouse, {
      pack: options.pack,
      entity: registry.entity,
      path: options.spine as string,
      dropUnknown: options.dropUnknown,
      dataRange: range,
    });
    metadata['tributary.spine_sha256'] = spine.sha256 ?? '';
  }
  const computed = bookkeepingTable(`features_${randomUUID().replaceAll('-', '')}`);
  try {
    let incompleteLabel = 0;
    if (selection.labels.length > 0) {
      const days = Math.max(...selection.labels.map((label) => label.days));
      const [row] = await warehouse.query<{ n: string }>(
        `SELECT count() AS n FROM ${quoteTable(spine.table)} WHERE ts + toIntervalDay({days:UInt32}) > {last:DateTime64(3, 'UTC')}`,
        { days, last: range.last },
      );
      incompleteLabel = Number(row?.n ?? 0);
      if (incompleteLabel === spine.rows)
        throw new FeatureExportError(
          `every spine row's label window (${days} days) ends after the data does (${range.last}): no row has a complete label; use earlier timestamps`,
        );
    }
    metadata['tributary.left_out_incomplete_label'] = String(incompleteLabel);
    metadata['tributary.left_out_unknown_entity'] = String(spine.unknownDropped);
    const rows = spine.rows - incompleteLabel;
    await computeInPasses(warehouse, {
      table: computed,
      spine,
      entitiesPerPass:
        options.entitiesPerPass ??
        (asOfTime === undefined ? ENTITIES_PER_PASS.spine : ENTITIES_PER_PASS.asOf),
      queryOf: (entities) =>
        pointInTimeQuery({
          registry,
          features: selection.features,
          labels: selection.labels,
          pack: options.pack,
          sourceName,
          sourceKeys,
          spineTable: spine.table,
          labelHorizon: range.last,
          method: options.method,
          asOf: asOfTime,
          entities,
        }),
    });
    // Read in the table's order (row_no), block by block: the writer never waits for the whole result.
    await writeOutput(
      warehouse,
      `SELECT * EXCEPT (row_no) FROM ${quoteTable(computed)} ORDER BY row_no`,
      options.format,
      options.out,
      registry,
      selection,
      metadata,
    );
    return {
      path: options.out,
      rows,
      features: selection.features.length,
      leftOut: { incompleteLabel, unknownEntity: spine.unknownDropped },
      metadata,
      seconds: (performance.now() - startedAt) / 1000,
    };
  } finally {
    await warehouse.command(`DROP TABLE IF EXISTS ${quoteTable(computed)}`);
    await spine.drop();
  }
}

/** Writes next to the destination and renames at the end, so a failed export leaves no half file. */
async function writeOutput(
  warehouse: Warehouse,
  sql: string,
  format: 'parquet' | 'arrow' | 'csv',
  out: string,
  registry: FeatureRegistry,
  selection: Selection,
  metadata: Record<string, string>,
): Promise<void> {
  const partial = join(dirname(out), `.${Date.now()}-${process.pid}.partial`);
  // Reading in order merges the table's parts (one or more per pass), a block from each at a time:
  // blocks of the default 65k rows added ~100–300 MB at 8 passes, blocks of 8k rows ~0–25. The
  // engine's buffering of each part before that merge added ~150 MB more at 8 parts.
  const read = { max_block_size: String(READ_BLOCK_ROWS), read_in_order_use_buffering: '0' };
  try {
    if (format === 'parquet') {
      // Bloom filters per feature column cost the writer much and serve readers little. Row groups
      // are bounded by the warehouse (PARQUET_ROW_GROUPS), as for every Parquet file it writes.
      await warehouse.exportToFile(
        sql,
        'Parquet',
        partial,
        {},
        {
          ...read,
          output_format_parquet_write_bloom_filter: 0,
        },
      );
      await addParquetMetadata(partial, metadata);
    } else if (format === 'csv') {
      await warehouse.exportToFile(sql, 'CSVWithNames', partial, {}, read);
      // CSV has no place for metadata: it goes beside the file.
      await writeFile(`${out}.metadata.json`, JSON.stringify(metadata, null, 2) + '\n');
    } else {
      const stream = `${partial}.arrows`;
      try {
        // apache-arrow reads uncompressed IPC (it has no LZ4 codec of its own).
        await warehouse.exportToFile(
          sql,
          'ArrowStream',
          stream,
          {},
          { ...read, output_format_arrow_compression_method: 'none' },
        );
        await restampArrow(
          stream,
          partial,
          arrowSchema(registry, selection, new Map(Object.entries(metadata))),
        );
      } finally {
        await rm(stream, { force: true });
      }
    }
    await rename(partial, out);
  } catch (error) {
    await rm(partial, { force: true });
    throw error;
  }
}

/**
 * Copies ClickHouse's Arrow stream into an Arrow file, batch by batch, under the catalogue's schema
 * (its metadata included); a batch whose types differ from the catalogue is a bug, not data.
 */
async function restampArrow(from: string, to: string, schema: ReturnType<typeof arrowSchema>): Promise<void> {
  const reader = await RecordBatchReader.from(createReadStream(from));
  const writer = new RecordBatchFileWriter();
  const written = pipeline(writer.toNodeStream(), createWriteStream(to));
  let wrote = false;
  for await (const batch of reader) {
    const fields = batch.schema.fields;
    schema.fields.forEach((field, index) => {
      const actual = fields[index];
      if (!actual || actual.name !== field.name || String(actual.type) !== String(field.type))
        throw new FeatureExportError(
          `the engine wrote column ${index} as ${actual?.name}: ${String(actual?.type)}, the catalogue says ${field.name}: ${String(field.type)}`,
        );
    });
    writer.write(new RecordBatch(schema, batch.data));
    wrote = true;
  }
  if (!wrote) writer.reset(undefined, schema);
  writer.finish();
  await written;
}
