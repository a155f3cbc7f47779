// Kafka-path benchmark, one workload, one run: (direct) the native capture straight into chDB, the
// rate the worker is held to; (backlog) a worker alone over the same changes already on Kafka;
// (a) Debezium → Kafka → worker → chDB, (b) native
// capture → Kafka → worker → chDB, (c) the broker's own produce and consume rates for messages of the
// same size (Kafka's ProducerPerformance/ConsumerPerformance: the transport ceiling); then freshness
// (commit → visible in chDB) at a steady 10k changes/s, and the worker's peak RSS; then (d) the
// Node clients' own read rates on the native topic (kafkajs, the worker's, and @platformatic/kafka),
// and the worker's RSS over a replayed backlog of BENCH_BACKLOG messages (default 5M).
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { ConnectClient, postgresConnector, preparePostgresSource } from '../connectors/index.ts';
import {
  createPiiPolicy,
  describeSourceTables,
  idempotentProducer,
  publishTableSchemas,
} from '../ingest/index.ts';
import {
  ensureStackArtifacts,
  startEmbeddedPostgres,
  startKafka,
  startKafkaConnect,
} from '../stack/index.ts';
import { openWarehouse } from '../warehouse/index.ts';
import { openWorkloadDatabase, writeWorkload } from './activity-workload.ts';
import { growTopic, storedMessages } from './backlog.ts';
import { reportOf, rssByTenth, runChild as run, workerArgs, type WorkerReport } from './child.ts';
import { ownCpuSeconds, parentPid, pinProcessTree, processTreeCpuSeconds } from './cpu.ts';
import { kafkajsConsumeRate, platformaticConsumeRate } from './client-ceiling.ts';

const CHANGES = Number(process.env.BENCH_CHANGES ?? 200_000);
const FRESHNESS_SECONDS = Number(process.env.BENCH_FRESHNESS_SECONDS ?? 20);
const BACKLOG = Number(process.env.BENCH_BACKLOG ?? 5_000_000);
const CLI = new URL('../bin/tributary.js', import.meta.url).pathname;
const TABLE = 'public.user_activity_results';
/**
 * BENCH_PIN=1: each process that lands into chDB (the workers, the direct capture) on CPU 0 and
 * everything else (broker, Connect, Postgres, the native captures, this process) on CPU 1. On two
 * shared cores a live run pays for the capture, the broker's produce side and Postgres out of the
 * worker's CPU; pinned, the worker has one core in every run, and (b) against the backlog shows how
 * it keeps pace with a live capture when it does not share its core.
 */
const PINNED = process.env.BENCH_PIN === '1';
const LANDER = PINNED ? { cpus: '0' } : {};

interface CaptureReport {
  streamedChanges: number;
  totalSeconds: number;
}

/** The CDC benchmark's capture process: the same table straight into chDB, as source `direct`. */
const directCaptureArgs = (url: string, warehouse: string) => [
  '--import',
  'tsx',
  new URL('./capture-process.ts', import.meta.url).pathname,
  url,
  'direct',
  warehouse,
];

/** `tributary capture` of the benchmark table onto Kafka, as source `nat`. */
const nativeCaptureArgs = (url: string, brokers: string, ...extra: string[]) => [
  CLI,
  'capture',
  '--source',
  url,
  '--source-name',
  'nat',
  '--tables',
  TABLE,
  '--to',
  'kafka',
  '--brokers',
  brokers,
  ...extra,
];

const workerArgsProfiled = (...args: Parameters<typeof workerArgs>) => [
  ...(process.env.BENCH_PROFILE_DIR ? ['--cpu-prof', '--cpu-prof-dir', process.env.BENCH_PROFILE_DIR] : []),
  ...workerArgs(...args),
];

/** Each partition's end offset. */
async function endOffsets(topic: string): Promise<Map<number, number>> {
  const admin = new Kafka({ clientId: 'bench', brokers: [brokers], logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    const ends = await admin.fetchTopicOffsets(topic);
    return new Map(ends.map((end) => [end.partition, Number(end.high)]));
  } finally {
    await admin.disconnect();
  }
}

/** Runs one of Kafka's own performance tools and returns the records/s it reports. */
async function kafkaTool(className: string, args: string[], rate: RegExp): Promise<number> {
  const { kafkaClasspath } = await ensureStackArtifacts();
  return new Promise((resolve, reject) => {
    const child = spawn('java', ['-Xmx512m', '-cp', kafkaClasspath, className, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('exit', () => {
      const match = rate.exec(output);
      if (match?.[1]) resolve(Number(match[1]));
      else reject(new Error(`${className} printed no rate:\n${output.slice(-2000)}`));
    });
  });
}

/** The mean size of the first thousand values of a topic. */
async function averageMessageBytes(brokers: string, topic: string): Promise<number> {
  const consumer = new Kafka({ clientId: 'bench', brokers: [brokers], logLevel: logLevel.NOTHING }).consumer({
    groupId: `bench-size-${Date.now()}`,
  });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const sizes: number[] = [];
  await new Promise<void>((resolve) => {
    void consumer.run({
      eachMessage: async ({ message }) => {
        if (sizes.length < 1000) sizes.push(message.value?.length ?? 0);
        if (sizes.length === 1000) resolve();
      },
    });
  });
  await consumer.disconnect();
  return Math.round(sizes.reduce((sum, size) => sum + size, 0) / sizes.length);
}

const format = (value: number) => Math.round(value).toLocaleString('en-US');

/** CPU seconds so far of the servers every run shares, and of this process (the writer, the polls). */
interface ServerCpu {
  broker: number;
  connect: number;
  postgres: number;
  bench: number;
}

/**
 * What each party of a run cost per change (µs of CPU), and the rate two cores could reach if they
 * did nothing else: the floor a live rate is held to, however the work overlaps.
 */
function cpuPerChange(
  label: string,
  changes: number,
  rate: number,
  parties: [name: string, seconds: number][],
): string {
  const total = parties.reduce((sum, [, seconds]) => sum + seconds, 0);
  const micros = (seconds: number) => ((seconds / changes) * 1e6).toFixed(1);
  const ceiling = (2 * changes) / total;
  return (
    `  ${label}: CPU per change, µs: ${parties.map(([name, seconds]) => `${name} ${micros(seconds)}`).join(', ')}; ` +
    `all ${micros(total)} µs → at most ${format(ceiling)} changes/s on 2 cores; ran at ${format(rate)}/s = ${(rate / ceiling).toFixed(2)} of that`
  );
}

/**
 * When the first message at or past `from` (a partition's end offset before a run) was produced:
 * where a run's own messages begin. What the topic held before (the empty capture's snapshot
 * markers, produced while the bench was setting up) is older and must not count in the run's time.
 */
async function firstProducedFrom(topic: string, from: Map<number, number>): Promise<number> {
  const consumer = new Kafka({ clientId: 'bench', brokers: [brokers], logLevel: logLevel.NOTHING }).consumer({
    groupId: `bench-first-${Date.now()}`,
  });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const firsts = new Map<number, number>();
  await new Promise<void>((resolve) => {
    void consumer.run({
      eachBatch: async ({ batch }) => {
        const start = from.get(batch.partition) ?? 0;
        const first = batch.messages.find((message) => Number(message.offset) >= start);
        if (first && !firsts.has(batch.partition)) firsts.set(batch.partition, Number(first.timestamp));
        if (firsts.size === from.size) resolve();
      },
    });
  });
  await consumer.disconnect();
  return Math.min(...firsts.values());
}

/** Resolves once `group` has committed every message on `topic`. */
async function groupCaughtUp(group: string, topic: string): Promise<void> {
  const admin = new Kafka({ clientId: 'bench', brokers: [brokers], logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    for (;;) {
      const ends = await admin.fetchTopicOffsets(topic);
      const [committed] = await admin.fetchOffsets({ groupId: group, topics: [topic] });
      const behind = ends.some(
        (end) =>
          Number(committed?.partitions.find((entry) => entry.partition === end.partition)?.offset ?? -1) <
          Number(end.high),
      );
      if (!behind) return;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  } finally {
    await admin.disconnect();
  }
}

/** Grows the topic to BACKLOG messages with copies of its own, runs a worker over all of it. */
async function replayBacklog(topic: string, held: number): Promise<string> {
  console.error(`growing ${topic} to ${format(BACKLOG)} messages…`);
  await growTopic(brokers, topic, held, BACKLOG);
  console.error('reading the backlog…');
  const startedAt = Date.now();
  const worker = await run(
    workerArgs(brokers, 'backlog', '^nat\\.public\\.', join(root, 'warehouse-backlog'), 5),
    LANDER,
  );
  const report = reportOf<WorkerReport>(worker);
  const seconds = (report.lastLandedAt - startedAt) / 1000;
  const tenths = rssByTenth(worker.rssSamplesMb)
    .map((mb) => mb.toFixed(0))
    .join(', ');
  return `  backlog of ${format(report.messages)} messages: ${format(report.messages / seconds)} changes/s; worker RSS at each tenth of the run ${tenths} MB, peak ${worker.peakRssMb.toFixed(0)} MB (idle floor ${report.floorRssMb.toFixed(0)} MB; target floor + 250 MB)`;
}
const root = await mkdtemp(join(tmpdir(), 'tributary-bench-kafka-'));
const postgres = await startEmbeddedPostgres({ dataDir: join(root, 'pg') });
const kafka = await startKafka({ dataDir: join(root, 'kafka') });
const connect = await startKafkaConnect({
  bootstrapServers: kafka.bootstrapServers,
  dataDir: join(root, 'connect'),
});
const brokers = kafka.bootstrapServers;
// The servers are this process's children: pinned with it, and whatever it starts later inherits CPU 1.
if (PINNED) pinProcessTree(process.pid, '1');
try {
  const { url, client } = await openWorkloadDatabase(postgres, 'bench');
  // The postmaster (the parent of this connection's backend): its tree is every backend and WAL sender.
  const backend = (await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]?.pid;
  const postmaster = backend === undefined ? undefined : parentPid(backend);
  const serverCpu = (): ServerCpu => ({
    broker: processTreeCpuSeconds(kafka.pid),
    connect: processTreeCpuSeconds(connect.pid),
    postgres: postmaster === undefined ? 0 : processTreeCpuSeconds(postmaster),
    bench: ownCpuSeconds(),
  });
  const serverParties = (before: ServerCpu): [string, number][] => {
    const after = serverCpu();
    return [
      ['broker', after.broker - before.broker],
      ['Postgres', after.postgres - before.postgres],
      ['Connect (Debezium)', after.connect - before.connect],
      ['bench', after.bench - before.bench],
    ];
  };
  // Debezium's source preparation creates the heartbeat table: before the direct capture (of all
  // tables) starts, or that capture sees a new table on its next run and starts again from a snapshot.
  const connector = postgresConnector({ sourceUrl: url, sourceName: 'dbz', tables: [TABLE], dropFields: [] });
  await preparePostgresSource({
    sourceUrl: url,
    publication: connector.config['publication.name'] ?? '',
    tables: [TABLE],
  });

  // Every capture exists before the workload is written, so all carry exactly the same changes.
  // An empty run's CPU: the capture's fixed cost (start, connections, close), in every figure below.
  const idleCapture = await run(nativeCaptureArgs(url, brokers, '--until-caught-up'));
  await run(directCaptureArgs(url, join(root, 'warehouse-direct')), LANDER);
  const producer = idempotentProducer(
    new Kafka({ clientId: 'bench', brokers: [brokers], logLevel: logLevel.NOTHING }),
  );
  await producer.connect();
  const pii = createPiiPolicy({
    dropFields: [],
    hashFields: [],
    hashPii: false,
    hashKey: 'bench-key-0123456789',
  });
  await publishTableSchemas(
    producer,
    await describeSourceTables({
      sourceUrl: url,
      sourceName: 'dbz',
      tables: { kind: 'list', tables: [TABLE, 'public.tributary_heartbeat'] },
      pii,
    }),
  );
  await producer.disconnect();
  const connectClient = new ConnectClient(connect.url);
  await connectClient.apply(connector.name, connector.config);
  // Connect answers 404 for a moment after the connector is created.
  const taskState = async () =>
    (await connectClient.status(connector.name).catch(() => undefined))?.tasks[0]?.state;
  while ((await taskState()) !== 'RUNNING') await new Promise((resolve) => setTimeout(resolve, 500));
  await connectClient.pause(connector.name);
  console.error(`writing ${format(CHANGES)} changes…`);
  await writeWorkload(client, CHANGES);

  // (direct) the native capture straight into chDB: the rate a worker is held to.
  const direct = reportOf<CaptureReport>(
    await run(directCaptureArgs(url, join(root, 'warehouse-direct')), LANDER),
  );
  const directRate = direct.streamedChanges / direct.totalSeconds;

  // (b) native capture → Kafka → worker, concurrently: the worker keeping pace with a live capture.
  // The worker runs until the capture has ended and the group has committed everything (an idle
  // limit could end it before a capture still starting under load published anything).
  // The worker is consuming before the capture starts, as a deployed worker would be: it has
  // landed what the setup left on the topic (the empty capture's snapshot markers). Started
  // together, a worker still starting when the capture's first message came had the rest of its
  // start inside (b)'s time.
  const nativeTopic = 'nat.public.user_activity_results';
  const endsBefore = await endOffsets(nativeTopic);
  let cpuBefore = serverCpu();
  const workerSpawned = Date.now();
  let startCapture!: () => void;
  const captureStarted = new Promise<void>((resolve) => (startCapture = resolve));
  const nativeCapture = captureStarted.then(() => run(nativeCaptureArgs(url, brokers, '--until-caught-up')));
  const nativeWorkerRun = run(
    workerArgsProfiled(brokers, 'nat', '^nat\\.public\\.', join(root, 'warehouse-native')),
    { ...LANDER, signalAfter: nativeCapture.then(() => groupCaughtUp('nat', nativeTopic)) },
  );
  await groupCaughtUp('nat', nativeTopic);
  let started = Date.now();
  const workerStartSeconds = (started - workerSpawned) / 1000;
  startCapture();
  const nativeWorker = await nativeWorkerRun;
  const native = reportOf<WorkerReport>(nativeWorker);
  const liveParties: [string, number][] = [
    ['capture', (await nativeCapture).cpu.total],
    ['worker JS', native.threadCpu.main],
    ['worker Node threads', native.threadCpu.node],
    ['engine', native.threadCpu.other],
    ...serverParties(cpuBefore),
  ];
  const nativeSeconds = (native.lastLandedAt - started) / 1000;
  // The capture's last message was produced at `lastProducedAt`: the rate the worker was fed at.
  const captureSeconds = (native.lastProducedAt - started) / 1000;
  // The backlog rate leaves the worker's start out (engine open → last landing); so does this one:
  // from the live capture's first message (not the worker's oldest, a marker from the setup).
  const liveFirstProducedAt = await firstProducedFrom(nativeTopic, endsBefore);
  const liveFirstSeconds = (liveFirstProducedAt - started) / 1000;
  const liveRate = native.messages / ((native.lastLandedAt - liveFirstProducedAt) / 1000);

  // (backlog) a new group over the same changes, all on the topic already: the worker alone.
  started = Date.now();
  cpuBefore = serverCpu();
  const backlogWorker = await run(
    workerArgsProfiled(brokers, 'backlog-rate', '^nat\\.public\\.', join(root, 'warehouse-backlog-rate'), 3),
    LANDER,
  );
  const backlogReport = reportOf<WorkerReport>(backlogWorker);
  const backlogParties: [string, number][] = [
    ['worker JS', backlogReport.threadCpu.main],
    ['worker Node threads', backlogReport.threadCpu.node],
    ['engine', backlogReport.threadCpu.other],
    ...serverParties(cpuBefore),
  ];
  // Timed as the direct capture is: from the process's engine being open to its last landing (the
  // spawn, module loading and the engine's opening are left out of both).
  const backlogRate = backlogReport.messages / ((backlogReport.lastLandedAt - backlogReport.readyAt) / 1000);
  const backlogRateFromSpawn = backlogReport.messages / ((backlogReport.lastLandedAt - started) / 1000);

  // (a) Debezium → Kafka → worker.
  started = Date.now();
  await connectClient.resume(connector.name);
  const debeziumWorker = await run(
    workerArgs(brokers, 'dbz', '^dbz\\.public\\.user_activity_results$', join(root, 'warehouse-debezium'), 5),
    LANDER,
  );
  const debezium = reportOf<WorkerReport>(debeziumWorker);
  const debeziumSeconds = (debezium.lastLandedAt - started) / 1000;

  // (c) the broker's own rates for messages of the native path's average size.
  const stored = await storedMessages(brokers, nativeTopic);
  const recordSize = await averageMessageBytes(brokers, nativeTopic);
  const produceRate = await kafkaTool(
    'org.apache.kafka.tools.ProducerPerformance',
    [
      '--topic',
      'bench.ceiling',
      '--num-records',
      String(CHANGES),
      '--record-size',
      String(recordSize),
      '--throughput',
      '-1',
      '--producer-props',
      `bootstrap.servers=${brokers}`,
      'acks=all',
    ],
    /([\d.]+) records\/sec/,
  );
  const consumeRate = await kafkaTool(
    'org.apache.kafka.tools.ConsumerPerformance',
    [
      '--bootstrap-server',
      brokers,
      '--topic',
      'bench.ceiling',
      '--messages',
      String(CHANGES),
      '--timeout',
      '60000',
    ],
    // The summary line: start.time, end.time, MB, MB.sec, nMsg, nMsg.sec, …
    /^[^,\n]+(?:,[^,\n]+){4},\s*([\d.]+)/m,
  ).catch(() => Number.NaN);

  // Freshness at a steady 10k changes/s: capture and worker run on while the writer keeps pace.
  // Debezium's connector is paused first: streaming the same rows, it took a fifth of the CPU.
  await connectClient.pause(connector.name);
  let stopAll!: () => void;
  const stopped = new Promise<void>((resolve) => (stopAll = resolve));
  cpuBefore = serverCpu();
  const freshCapture = run(nativeCaptureArgs(url, brokers, '--batch-delay-ms', '20'), {
    signalAfter: stopped,
  });
  const freshWorker = run(workerArgs(brokers, 'fresh', '^nat\\.public\\.', join(root, 'warehouse-fresh')), {
    ...LANDER,
    signalAfter: stopped,
  });
  // A new group reads the topic from its start: the writer waits until the worker has landed
  // everything (b) left there (and the capture had 8 s to start), or the first fresh changes queue
  // behind that backlog and the figure measures a catch-up, not a steady 10k/s.
  const freshSpawned = Date.now();
  await Promise.all([
    new Promise((resolve) => setTimeout(resolve, 8000)),
    groupCaughtUp('fresh', nativeTopic),
  ]);
  const freshStart = Date.now();
  const freshCaughtUpSeconds = (freshStart - freshSpawned) / 1000;
  let written = 0;
  while (Date.now() - freshStart < FRESHNESS_SECONDS * 1000) {
    const due = Math.floor(((Date.now() - freshStart) / 1000) * 10_000);
    if (written < due) {
      await client.query(
        `INSERT INTO user_activity_results (id, user_id, score, feedback, completed_at, created_at)
         SELECT gen_random_uuid(), gen_random_uuid(), g, 'fresh', clock_timestamp(), clock_timestamp() FROM generate_series(1, $1::int) g`,
        [Math.min(1000, due - written)],
      );
      written += Math.min(1000, due - written);
    } else await new Promise((resolve) => setTimeout(resolve, 5));
  }
  await new Promise((resolve) => setTimeout(resolve, 5000));
  stopAll();
  const [freshCaptureRun, freshWorkerRun] = await Promise.all([freshCapture, freshWorker]);
  const freshReport = reportOf<WorkerReport>(freshWorkerRun);
  const freshParties: [string, number][] = [
    ['capture', freshCaptureRun.cpu.total],
    ['worker JS', freshReport.threadCpu.main],
    ['worker Node threads', freshReport.threadCpu.node],
    ['engine', freshReport.threadCpu.other],
    ...serverParties(cpuBefore),
  ];
  await client.end();
  const warehouse = await openWarehouse({ kind: 'chdb', path: join(root, 'warehouse-fresh') });
  const [fresh] = await warehouse.query<{ p50: number; p99: number; n: string }>(
    `SELECT quantileExact(0.5)(lag) AS p50, quantileExact(0.99)(lag) AS p99, count() AS n FROM
       (SELECT dateDiff('millisecond', created_at, _ingested_at) AS lag FROM raw.nat_user_activity_results WHERE feedback = 'fresh' AND _version > 0)`,
  );
  await warehouse.close();

  // (d) the clients alone, on the native topic as it now stands.
  const onTopic = await storedMessages(brokers, nativeTopic);
  const kafkajsRate = await kafkajsConsumeRate(brokers, nativeTopic, onTopic);
  const platformaticRate = await platformaticConsumeRate(brokers, nativeTopic, onTopic);

  // A replayed backlog: the native topic's messages produced again until it holds BACKLOG, then a
  // new group reads it all (every message a full decode and upsert; repeats deduplicate).
  const backlog = BACKLOG > 0 ? await replayBacklog(nativeTopic, onTopic) : undefined;

  const nativeRate = native.messages / nativeSeconds;
  const debeziumRate = debezium.messages / debeziumSeconds;
  const ceiling = Math.min(produceRate, Number.isNaN(consumeRate) ? produceRate : consumeRate);
  console.log(`
Kafka benchmark (${format(CHANGES)} changes on ${TABLE}: 70% insert, 25% update, 5% delete; ${format(stored)} messages on the native topic)
  (a) Debezium → Kafka → worker → chDB        ${format(debezium.messages)} messages in ${debeziumSeconds.toFixed(2)} s = ${format(debeziumRate)} changes/s
  (b) native capture → Kafka → worker → chDB  ${format(native.messages)} messages in ${nativeSeconds.toFixed(2)} s = ${format(nativeRate)} changes/s  (keeping pace with the capture, from its spawn)
  (backlog) the worker alone, same changes   ${format(backlogReport.messages)} messages = ${format(backlogRate)} changes/s  (${format(backlogRateFromSpawn)}/s counting the process's start)
  (direct) native capture straight to chDB   ${format(direct.streamedChanges)} changes in ${direct.totalSeconds.toFixed(2)} s = ${format(directRate)} changes/s
  backlog/direct ${(backlogRate / directRate).toFixed(2)} (target ≥ 0.6)   b/backlog ${(nativeRate / backlogRate).toFixed(2)} (target ≥ 0.8)
  (b) fed by the capture at ${format(native.messages / captureSeconds)} changes/s (its last message produced at ${captureSeconds.toFixed(2)} s); the worker landed it ${((native.lastLandedAt - native.lastProducedAt) / 1000).toFixed(2)} s later, trailing the newest produced message by at most ${(native.maxBehindProducedMs / 1000).toFixed(2)} s: b/fed ${(captureSeconds / nativeSeconds).toFixed(2)}
  (b) the capture's publishing alone (its first message produced → last, ${liveFirstSeconds.toFixed(2)} s → ${captureSeconds.toFixed(2)} s): ${format(native.messages / ((native.lastProducedAt - liveFirstProducedAt) / 1000))} changes/s; the worker was consuming ${workerStartSeconds.toFixed(2)} s after its spawn, before the capture's spawn (0 s)
  (b) without the processes' start (timed as the backlog is: the capture's first message produced → last landed): ${format(liveRate)} changes/s, b/backlog ${(liveRate / backlogRate).toFixed(2)} (target ≥ 0.8)
  ${PINNED ? 'pinned (BENCH_PIN=1): the workers and the direct capture on CPU 0, every other process on CPU 1' : 'unpinned: the capture, the broker and Postgres share both cores with the worker in (b) (BENCH_PIN=1 gives the worker one of its own)'}
  (b) the worker fetched ${format(native.fetches)} batches of ${format(native.messages / native.fetches)} messages on average and landed ${format(native.landings)} of ${format(native.messages / native.landings)} changes; the backlog run ${format(backlogReport.fetches)} of ${format(backlogReport.messages / backlogReport.fetches)} and ${format(backlogReport.landings)} of ${format(backlogReport.messages / backlogReport.landings)}
${cpuPerChange('(b)', native.messages, liveRate, liveParties)}
     (the capture's fixed cost, an empty run: ${idleCapture.cpu.total.toFixed(2)} CPU-s; its main thread ${format(((await nativeCapture).cpu.main / native.messages) * 1e6)} µs per change)
${cpuPerChange('(backlog)', backlogReport.messages, backlogRate, backlogParties)}
${cpuPerChange(`freshness (${format(written)} written at 10k/s, the writer's inserts in Postgres and bench)`, written, written / FRESHNESS_SECONDS, freshParties)}
  (c) broker alone, ${recordSize}-byte records     produce ${format(produceRate)}/s, consume ${format(consumeRate)}/s
  b/a ${(nativeRate / debeziumRate).toFixed(2)} (target ≥ 3)   b/c ${(nativeRate / ceiling).toFixed(2)}   (b target ≥ 60k/s)
  freshness at 10k changes/s, commit → visible in chDB: p50 ${fresh?.p50} ms, p99 ${fresh?.p99} ms over ${fresh?.n} changes (target p99 < 1 s); the writer started ${freshCaughtUpSeconds.toFixed(2)} s after the spawn, once the worker had landed what the topic held
  worker peak RSS: native ${nativeWorker.peakRssMb.toFixed(0)} MB, backlog ${backlogWorker.peakRssMb.toFixed(0)} MB, Debezium ${debeziumWorker.peakRssMb.toFixed(0)} MB (idle floor ${native.floorRssMb.toFixed(0)} MB; target floor + 250 MB)
  (d) clients alone on the native topic (${format(onTopic)} messages, JSON.parse each, no warehouse):
      kafkajs ${format(kafkajsRate.perSecond)}/s, @platformatic/kafka ${format(platformaticRate.perSecond)}/s; worker (b) = ${(nativeRate / kafkajsRate.perSecond).toFixed(2)} of kafkajs alone
${backlog ?? '  backlog: skipped (BENCH_BACKLOG=0)'}`);
} finally {
  await connect.stop();
  await kafka.stop();
  await postgres.stop();
  await rm(root, { recursive: true, force: true });
}
