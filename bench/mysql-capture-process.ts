// Child process of the MySQL benchmark: runs one native capture to caught-up and reports its own
// timings, CPU and peak RSS as one JSON line, so the figures are the capture's alone.
import { createPiiPolicy, runMysqlCapture, WarehouseSink } from '../ingest/index.ts';
import { openWarehouse } from '../warehouse/index.ts';

const [sourceUrl, sourceName, warehouseDir] = process.argv.slice(2);
if (!sourceUrl || !sourceName || !warehouseDir) {
  console.error('usage: mysql-capture-process.ts SOURCE_URL SOURCE_NAME WAREHOUSE_DIR');
  process.exit(2);
}
const warehouse = await openWarehouse({ kind: 'chdb', path: warehouseDir });
const floorRssMb = process.memoryUsage().rss / 1024 / 1024;
let snapshotEndedAt = 0;
const startedAt = performance.now();
const result = await runMysqlCapture({
  sourceUrl,
  sourceName,
  tables: { kind: 'all' },
  sink: new WarehouseSink(warehouse),
  pii: createPiiPolicy({ dropFields: [], hashFields: [], hashPii: false, hashKey: 'bench-key-0123456789' }),
  untilCaughtUp: true,
  events: {
    snapshotProgress: () => {
      snapshotEndedAt = performance.now();
    },
  },
});
const endedAt = performance.now();
await warehouse.close();
console.log(
  JSON.stringify({
    ...result,
    totalSeconds: (endedAt - startedAt) / 1000,
    snapshotSeconds: (snapshotEndedAt - startedAt) / 1000,
    peakRssMb: process.resourceUsage().maxRSS / 1024,
    floorRssMb,
    cpuSeconds: (process.cpuUsage().user + process.cpuUsage().system) / 1e6,
  }),
);
process.exit(0);
