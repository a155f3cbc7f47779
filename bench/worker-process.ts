// Child process of the Kafka benchmark: one ingest worker, reporting when the first message came,
// when the last batch landed, when the messages it read were produced, and the bytes it read, as
// one JSON line.
import { createPiiPolicy, runKafkaWorker } from '../ingest/index.ts';
import { openWarehouse } from '../warehouse/index.ts';
import { ownCpuSeconds, threadCpuSeconds } from './cpu.ts';

const [brokers, group, topics, warehouseDir, idleSeconds] = process.argv.slice(2);
if (!brokers || !group || !topics || !warehouseDir) {
  console.error('usage: worker-process.ts BROKERS GROUP TOPIC_REGEX WAREHOUSE_DIR [UNTIL_IDLE_SECONDS]');
  process.exit(2);
}
const warehouse = await openWarehouse({ kind: 'chdb', path: warehouseDir });
// What the process holds before consuming anything: Node, the modules and the chDB engine.
const floorRssMb = process.memoryUsage().rss / 1024 / 1024;
// The same starting point as the direct capture's timing (capture-process.ts): the engine is open.
const readyAt = Date.now();
const stop = new AbortController();
process.once('SIGTERM', () => stop.abort());
let firstMessageAt = 0;
let lastLandedAt = 0;
let landings = 0;
let fetches = 0;
/** When the newest message fetched so far was produced, and the most a landing trailed it. */
let newestProducedMs = 0;
let maxBehindProducedMs = 0;
const result = await runKafkaWorker({
  brokers: brokers.split(','),
  group,
  topics: new RegExp(topics),
  warehouse,
  pii: createPiiPolicy({ dropFields: [], hashFields: [], hashPii: false, hashKey: 'bench-key-0123456789' }),
  untilIdleSeconds: idleSeconds ? Number(idleSeconds) : undefined,
  // bench:batch-limits tries other batch limits than the defaults; BENCH_HEAP_GROWING_PERCENT compares
  // heap growth caps (ingest/landing/heap-growth.ts).
  batchRows: process.env.BENCH_BATCH_ROWS ? Number(process.env.BENCH_BATCH_ROWS) : undefined,
  batchBytes: process.env.BENCH_BATCH_BYTES ? Number(process.env.BENCH_BATCH_BYTES) : undefined,
  heapGrowingPercent: process.env.BENCH_HEAP_GROWING_PERCENT
    ? Number(process.env.BENCH_HEAP_GROWING_PERCENT)
    : undefined,
  signal: stop.signal,
  events: {
    landed: ({ newestSourceMs }) => {
      lastLandedAt = Date.now();
      landings++;
      if (newestProducedMs)
        maxBehindProducedMs = Math.max(maxBehindProducedMs, lastLandedAt - newestProducedMs);
      // For the soak: how far behind the source each landing is (commit → landed), as it happens.
      if (process.env.BENCH_LAG_LINES && newestSourceMs)
        console.log(JSON.stringify({ lagMs: lastLandedAt - newestSourceMs }));
    },
    received: ({ lastTimestampMs }) => {
      firstMessageAt ||= Date.now();
      fetches++;
      newestProducedMs = Math.max(newestProducedMs, lastTimestampMs);
    },
  },
});
await warehouse.close();
console.log(
  JSON.stringify({
    ...result,
    floorRssMb,
    readyAt,
    firstMessageAt,
    lastLandedAt,
    landings,
    fetches,
    lastProducedAt: newestProducedMs,
    maxBehindProducedMs,
    peakRssMb: process.resourceUsage().maxRSS / 1024,
    // Every thread of the process (the engine's included): the figure least moved by other load.
    cpuSeconds: ownCpuSeconds(),
    threadCpu: threadCpuSeconds(process.pid),
  }),
);
process.exit(0);
