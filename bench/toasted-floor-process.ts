// Child process of the CDC benchmark: the engine alone doing the TOASTed table's inserts. It inserts
// as many rows of that table's shape (the same 4 kB bodies) as the capture landed, in batches of the
// capture's byte budget, into a mirror of the same DDL and settings, in the format the capture
// lands them in (RowBinary where the warehouse takes it), and reports the time spent in the inserts.
import { createHash } from 'node:crypto';
import { rowBinaryFormat, type MirrorRowsPayload } from '../ingest/mirror/row-binary.ts';
import { DEDUPLICATION_WINDOW, MERGE_BLOCK_BYTES } from '../warehouse/raw-mirror.ts';
import { openWarehouse } from '../warehouse/index.ts';

const [warehouseDir, rowsText, batchBytesText] = process.argv.slice(2);
if (!warehouseDir || !rowsText || !batchBytesText) {
  console.error('usage: toasted-floor-process.ts WAREHOUSE_DIR ROWS BATCH_BYTES');
  process.exit(2);
}
const rows = Number(rowsText);
const batchBytes = Number(batchBytesText);
const warehouse = await openWarehouse({ kind: 'chdb', path: warehouseDir });
await warehouse.command(
  `CREATE TABLE floor_notes (tenant Int64, book Decimal(12, 2), slug String, body Nullable(String),
     revision Nullable(Int32), updated_at Nullable(DateTime64(6, 'UTC')), _version UInt64, _is_deleted UInt8,
     _ingested_at DateTime64(3, 'UTC') DEFAULT now64(3))
   ENGINE = ReplacingMergeTree(_version, _is_deleted) ORDER BY (tenant, book, slug)
   SETTINGS non_replicated_deduplication_window = ${DEDUPLICATION_WINDOW}, merge_max_block_size_bytes = ${MERGE_BLOCK_BYTES}`,
);
const binary = warehouse.takesRowBinary
  ? rowBinaryFormat([
      { name: 'tenant', type: 'Int64' },
      { name: 'book', type: 'Decimal(12, 2)' },
      { name: 'slug', type: 'String' },
      { name: 'body', type: 'Nullable(String)' },
      { name: 'revision', type: 'Nullable(Int32)' },
      { name: 'updated_at', type: "Nullable(DateTime64(6, 'UTC'))" },
    ])
  : undefined;
let insertSeconds = 0;
let batch: MirrorRowsPayload[] = [];
let bytes = 0;
const flush = async (index: number) => {
  const started = performance.now();
  const payload = binary?.encode(batch);
  const options = { deduplicationToken: `floor:${index}` };
  if (binary && payload)
    await warehouse.insertLines(
      'floor_notes',
      { format: binary.format, columns: binary.columns, payload },
      options,
    );
  else
    await warehouse.insertLines(
      'floor_notes',
      {
        format: 'JSONCompactEachRow',
        columns: ['tenant', 'book', 'slug', 'body', 'revision', 'updated_at', '_version', '_is_deleted'],
        lines: batch.map(({ row, version }) => JSON.stringify([...Object.values(row), version, 0])),
      },
      options,
    );
  insertSeconds += (performance.now() - started) / 1000;
  batch = [];
  bytes = 0;
};
for (let row = 1, index = 0; row <= rows; row++) {
  const body = createHash('md5').update(String(row)).digest('hex').repeat(128);
  batch.push({
    row: {
      tenant: Math.floor(row / 1000),
      book: String((row % 1000) / 4),
      slug: `note-${row}`,
      body,
      revision: 1,
      updated_at: 1_790_000_000_000_000 + row,
    },
    version: row,
    deleted: false,
  });
  bytes += body.length + 64;
  if (bytes >= batchBytes || row === rows) await flush(index++);
}
await warehouse.close();
console.log(JSON.stringify({ rows, insertSeconds }));
process.exit(0);
