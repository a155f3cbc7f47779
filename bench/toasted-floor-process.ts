// Child process of the CDC benchmark: the engine alone doing the TOASTed table's inserts. It inserts
// as many rows of that table's shape (the same 4 kB bodies) as the capture landed, in batches of the
// capture's byte budget, into a mirror of the same DDL, and reports the time spent in the inserts.
import { createHash } from 'node:crypto';
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
   ENGINE = ReplacingMergeTree(_version, _is_deleted) ORDER BY (tenant, book, slug)`,
);
const columns = ['tenant', 'book', 'slug', 'body', 'revision', 'updated_at', '_version', '_is_deleted'];
let insertSeconds = 0;
let lines: string[] = [];
let bytes = 0;
const flush = async (index: number) => {
  const started = performance.now();
  await warehouse.insertLines(
    'floor_notes',
    { format: 'JSONCompactEachRow', columns, lines },
    {
      deduplicationToken: `floor:${index}`,
    },
  );
  insertSeconds += (performance.now() - started) / 1000;
  lines = [];
  bytes = 0;
};
for (let row = 1, batch = 0; row <= rows; row++) {
  const body = createHash('md5').update(String(row)).digest('hex').repeat(128);
  const line = JSON.stringify([
    Math.floor(row / 1000),
    String((row % 1000) / 4),
    `note-${row}`,
    body,
    1,
    1_790_000_000_000_000 + row,
    row,
    0,
  ]);
  lines.push(line);
  bytes += line.length;
  if (bytes >= batchBytes || row === rows) await flush(batch++);
}
await warehouse.close();
console.log(JSON.stringify({ rows, insertSeconds }));
process.exit(0);
