// Child process of the MongoDB benchmark: runs the native capture of one collection to caught-up
// and reports its own timing and peak RSS as one JSON line.
import { createPiiPolicy, runMongoCapture, WarehouseSink } from '../ingest/index.ts';
import { documentFieldsOf, getPack } from '../packs/index.ts';
import { openWarehouse } from '../warehouse/index.ts';

const [sourceUrl, collection, warehouseDir] = process.argv.slice(2);
if (!sourceUrl || !collection || !warehouseDir) {
  console.error('usage: mongo-capture-process.ts SOURCE_URL DATABASE.COLLECTION WAREHOUSE_DIR');
  process.exit(2);
}
const warehouse = await openWarehouse({ kind: 'chdb', path: warehouseDir });
const startedAt = performance.now();
const result = await runMongoCapture({
  sourceUrl,
  sourceName: 'bench',
  collections: { kind: 'list', collections: [collection] },
  sink: new WarehouseSink(warehouse),
  pii: createPiiPolicy({ dropFields: [], hashFields: [], hashPii: false, hashKey: 'bench-key-0123456789' }),
  documentFields: documentFieldsOf(getPack('learning')),
  untilCaughtUp: true,
  batchRows: 20_000,
});
const seconds = (performance.now() - startedAt) / 1000;
await warehouse.close();
console.log(JSON.stringify({ ...result, seconds, peakRssMb: process.resourceUsage().maxRSS / 1024 }));
process.exit(0);
