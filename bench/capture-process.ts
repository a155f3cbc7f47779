// Child process of the CDC benchmarks (bench:cdc, bench:kafka, bench:mysql, bench:kafka-capture):
// runs one capture of a Postgres or MySQL source (by its URL) to caught-up, into a chDB warehouse or
// (given `kafka://HOST:PORT` instead of a directory) onto Kafka, and reports its own timings, where
// its time went (the sink's writes, the write intents) and its memory floor, as one JSON line, so
// the figures are the capture's alone.
import {
  createPiiPolicy,
  KafkaSink,
  runMysqlCapture,
  runPostgresCapture,
  WarehouseSink,
} from '../ingest/index.ts';
import type { LandingBatch, LandingSink } from '../ingest/index.ts';
import { openWarehouse } from '../warehouse/index.ts';
import { ownCpuSeconds } from './cpu.ts';

const [sourceUrl, sourceName, warehouseDir] = process.argv.slice(2);
if (!sourceUrl || !sourceName || !warehouseDir) {
  console.error('usage: capture-process.ts SOURCE_URL SOURCE_NAME WAREHOUSE_DIR|kafka://HOST:PORT');
  process.exit(2);
}
const brokers = warehouseDir.startsWith('kafka://') ? warehouseDir.slice('kafka://'.length) : undefined;
const warehouse = brokers ? undefined : await openWarehouse({ kind: 'chdb', path: warehouseDir });
// What the process holds before capturing anything: Node, the modules and the chDB engine.
const floorRssMb = process.memoryUsage().rss / 1024 / 1024;
const pii = createPiiPolicy({
  dropFields: [],
  hashFields: [],
  hashPii: false,
  hashKey: 'bench-key-0123456789',
});

/** The warehouse sink, timed: what landing costs at the warehouse, apart from the runner around it. */
const timings = { writeSeconds: 0, checkpointSeconds: 0, checkpointWrites: 0 };
/** From the first write's start to the last write's end (ms, performance clock): streaming alone. */
const writes = { firstStartedAt: 0, lastEndedAt: 0 };
const timed = (sink: LandingSink): LandingSink => {
  const time = async <T>(
    slot: 'writeSeconds' | 'checkpointSeconds',
    action: () => Promise<T>,
  ): Promise<T> => {
    const started = performance.now();
    try {
      return await action();
    } finally {
      timings[slot] += (performance.now() - started) / 1000;
    }
  };
  return Object.assign(Object.create(sink) as LandingSink, {
    write: async (changes: Parameters<LandingSink['write']>[0], batch: LandingBatch) => {
      writes.firstStartedAt ||= performance.now();
      const outcome = await time('writeSeconds', () => sink.write(changes, batch));
      writes.lastEndedAt = performance.now();
      return outcome;
    },
    writeCheckpoint: (pipeline: string, stream: string, state: unknown) => {
      timings.checkpointWrites++;
      return time('checkpointSeconds', () => sink.writeCheckpoint(pipeline, stream, state));
    },
  });
};

let snapshotEndedAt = 0;
const startedAt = performance.now();
const runCapture = sourceUrl.startsWith('mysql://') ? runMysqlCapture : runPostgresCapture;
const result = await runCapture({
  sourceUrl,
  sourceName,
  tables: { kind: 'all' },
  sink: timed(warehouse ? new WarehouseSink(warehouse) : new KafkaSink({ brokers: [brokers ?? ''], pii })),
  pii,
  untilCaughtUp: true,
  // bench:batch-limits tries other batch limits than the defaults.
  batchRows: process.env.BENCH_BATCH_ROWS ? Number(process.env.BENCH_BATCH_ROWS) : undefined,
  batchBytes: process.env.BENCH_BATCH_BYTES ? Number(process.env.BENCH_BATCH_BYTES) : undefined,
  events: {
    snapshotProgress: () => {
      snapshotEndedAt = performance.now();
    },
  },
});
const endedAt = performance.now();
await warehouse?.close();
console.log(
  JSON.stringify({
    ...result,
    ...timings,
    totalSeconds: (endedAt - startedAt) / 1000,
    writingSeconds: (writes.lastEndedAt - writes.firstStartedAt) / 1000,
    snapshotSeconds: (snapshotEndedAt - startedAt) / 1000,
    floorRssMb,
    cpuSeconds: ownCpuSeconds(),
  }),
);
process.exit(0);
