// Child process of bench:mysql: the Node side's floor over the same binlog range the capture
// reads, with no warehouse. `decode` is the binlog library alone (zongji reading and decoding the
// row events, as the capture configures it); `lines` is the capture's whole stream up to the
// insert (BinlogChangeStream's changes, then the RowBinary payloads the writer would insert, per
// batch: from the row images where it writes them, else from the decoded envelopes); `engine` is the warehouse alone: those payloads, built
// beforehand in the runner's batches, inserted by chDB into the capture's mirror table (with and
// without the runner's two checkpoint writes per batch), then all at once into a fresh one.
// Reports the rows and seconds as one JSON line.
import ZongJi from '@vlasky/zongji';
import { BATCH_DEFAULTS, createPiiPolicy } from '../ingest/index.ts';
import { createRowConverter, mirrorTableFor } from '../ingest/mirror/mirror-rows.ts';
import {
  rowBinaryFormat,
  type MirrorRowsPayload,
  type RowBinaryFormat,
} from '../ingest/mirror/row-binary.ts';
import { BinlogChangeStream } from '../ingest/mysql/binlog-change-stream.ts';
import { compareBinlogPositions, formatBinlogPosition } from '../ingest/mysql/binlog-position.ts';
import {
  checkBinlogCapture,
  connectMysql,
  DECODING_OPTIONS,
  parseMysqlUrl,
  readMysqlCatalog,
} from '../ingest/mysql/catalog.ts';
import { createMysqlTableCodec } from '../ingest/mysql/table-codec.ts';
import type { SourceChange } from '../ingest/landing/types.ts';
import {
  ensureMirrorTable,
  migrate,
  openWarehouse,
  writeCheckpoint,
  type MirrorTable,
  type Warehouse,
} from '../warehouse/index.ts';

const [sourceUrl, mode, file, pos, endFile, endPos, warehouseDir] = process.argv.slice(2);
if (
  !sourceUrl ||
  (mode !== 'decode' && mode !== 'lines' && mode !== 'engine') ||
  !file ||
  !pos ||
  !endFile ||
  !endPos ||
  (mode === 'engine' && !warehouseDir)
) {
  console.error(
    'usage: mysql-floor-process.ts SOURCE_URL decode|lines|engine FILE POS END_FILE END_POS [WAREHOUSE_DIR]',
  );
  process.exit(2);
}
const from = { file, pos: Number(pos) };
const end = { file: endFile, pos: Number(endPos) };
const settings = parseMysqlUrl(sourceUrl);

/** zongji alone: every row of the range decoded, nothing done with it. */
async function decodeOnly(): Promise<number> {
  const zongji = new ZongJi({
    host: settings.host,
    port: settings.port,
    user: settings.user,
    password: settings.password,
    ...DECODING_OPTIONS,
  });
  let rows = 0;
  let current = from.file;
  await new Promise<void>((resolve, reject) => {
    zongji.on('binlog', (raw: unknown) => {
      const event = raw as Record<string, unknown> & { getEventName(): string; nextPosition: number };
      const name = event.getEventName();
      if (name === 'rotate') current = String(event.binlogName);
      else if (name === 'writerows' || name === 'updaterows' || name === 'deleterows')
        rows += (event.rows as unknown[]).length;
      else if (
        event.nextPosition > 0 &&
        compareBinlogPositions({ file: current, pos: event.nextPosition }, end) >= 0
      )
        resolve();
    });
    zongji.on('error', reject);
    zongji.start({
      serverId: 0x7e000000 + Math.floor(Math.random() * 0xffffff),
      filename: from.file,
      position: from.pos,
      includeEvents: ['rotate', 'tablemap', 'writerows', 'updaterows', 'deleterows', 'xid', 'query'],
      includeSchema: { [settings.database]: true },
    });
  });
  zongji.stop();
  return rows;
}

/** One batch of changes, cut where the runner would cut it (whole transactions), and its payload. */
interface PayloadBatch {
  changes: SourceChange[];
  payload: Buffer;
  first: string;
  last: string;
}

interface StreamPayloads {
  rows: number;
  mirror: MirrorTable;
  format: RowBinaryFormat;
  batches: PayloadBatch[];
}

/**
 * The capture's stream, and the mirror payloads of what it reads: all of capture but the insert.
 * The payloads are made per batch of the runner (BATCH_DEFAULTS' rows and bytes); with `keep`,
 * they are kept.
 */
async function streamToPayloads(keep: boolean): Promise<StreamPayloads> {
  const connection = await connectMysql(settings);
  const server = await checkBinlogCapture(connection, settings);
  const catalog = await readMysqlCatalog(connection, settings.database, { kind: 'all' });
  await connection.end();
  const pii = createPiiPolicy({
    dropFields: [],
    hashFields: [],
    hashPii: false,
    hashKey: 'bench-key-0123456789',
  });
  const codecOf = (table: (typeof catalog)[number], columns = table.columns) =>
    createMysqlTableCodec({
      source: 'floor',
      database: table.database,
      table: table.table,
      columns,
      key: table.key,
      pii,
      onUnknownType: () => undefined,
    });
  const codecs = new Map(catalog.map((table) => [table.table, codecOf(table)]));
  const writers = new Map(
    [...codecs.values()].map((codec) => {
      const mirror = mirrorTableFor(codec.table);
      const format = rowBinaryFormat(mirror.columns);
      if (!format) throw new Error('the bench table has a column RowBinary is not written for');
      return [codec.tableName, { mirror, converter: createRowConverter(codec.table), format }];
    }),
  );
  const stream = new BinlogChangeStream({
    settings,
    server,
    sourceName: 'floor',
    codecs,
    codecFor: (previous) => previous,
    register: async () => undefined,
    selects: () => true,
    target: () => end,
    queueBytes: 4 * 1024 * 1024,
    onHistoryLost: () => undefined,
    warn: (message) => console.error(message),
  });
  const [only] = writers.values();
  if (!only || writers.size !== 1) throw new Error('the bench database should hold one table');
  let rows = 0;
  const batches: PayloadBatch[] = [];
  let batch: Omit<PayloadBatch, 'payload'> | undefined;
  let batchBytes = 0;
  // As the mirror writer does: straight from the row images, else from the decoded envelopes.
  const close = (open: Omit<PayloadBatch, 'payload'>) => {
    const payload = only.format.encodeImages(open.changes) ?? only.format.encode(open.changes.map(mirrorRow));
    if (!payload) throw new Error('a value of the bench would go as JSON lines');
    if (keep) batches.push({ ...open, payload });
  };
  const mirrorRow = (change: SourceChange): MirrorRowsPayload => {
    const deleted = change.envelope.op === 'd';
    const converted = only.converter.convert(
      (deleted ? change.envelope.before : change.envelope.after) ?? {},
    );
    if (!converted.ok) throw new Error(converted.reason);
    return { row: converted.row, version: change.version, deleted };
  };
  const units = stream.read(from);
  for (;;) {
    const next = await units.next();
    if (next.done) break;
    const unit = next.value;
    if (unit.changes.length > 0) {
      const position = formatBinlogPosition(unit.position);
      batch ??= { changes: [], first: position, last: position };
      batch.last = position;
      batchBytes += unit.bytes;
    }
    for (const change of unit.changes) {
      if (!writers.has(change.table)) continue;
      batch?.changes.push(change);
      rows++;
    }
    if (batch && (batch.changes.length >= BATCH_DEFAULTS.rows || batchBytes >= BATCH_DEFAULTS.bytes)) {
      close(batch);
      batch = undefined;
      batchBytes = 0;
    }
  }
  if (batch) close(batch);
  await stream.stop();
  return { rows, mirror: only.mirror, format: only.format, batches };
}

export interface EngineFloor {
  rows: number;
  batches: number;
  /** The capture's batches, one insert each (with its deduplication token), nothing else. */
  seconds: number;
  cpuSeconds: number;
  /** The same batches into a fresh mirror, each between the runner's two checkpoint writes. */
  checkpointedSeconds: number;
  checkpointedCpuSeconds: number;
  /** Every row in one insert, into a fresh mirror. */
  oneInsertSeconds: number;
  oneInsertCpuSeconds: number;
}

/** Times `action` by the clock and by this process's CPU (every thread: the engine's included). */
async function timed(action: () => Promise<void>): Promise<{ seconds: number; cpuSeconds: number }> {
  const started = performance.now();
  const cpuBefore = process.cpuUsage();
  await action();
  const cpu = process.cpuUsage(cpuBefore);
  return { seconds: (performance.now() - started) / 1000, cpuSeconds: (cpu.user + cpu.system) / 1e6 };
}

/** The warehouse alone: the capture's payloads, built beforehand, inserted as the capture inserts them. */
async function engineOnly(dir: string): Promise<EngineFloor> {
  const { rows, mirror, format, batches } = await streamToPayloads(true);
  const warehouse = await openWarehouse({ kind: 'chdb', path: dir });
  await migrate(warehouse);
  const fresh = async (suffix: string): Promise<MirrorTable> => {
    const table = { ...mirror, name: `${mirror.name}${suffix}` };
    await ensureMirrorTable(warehouse, table);
    return table;
  };
  const insert = (target: Warehouse, table: MirrorTable, batch: Omit<PayloadBatch, 'changes'>) =>
    target.insertLines(
      table.name,
      { format: format.format, columns: format.columns, payload: batch.payload },
      { deduplicationToken: `floor:binlog:${batch.first}-${batch.last}:${table.name}:0` },
    );
  const batched = await fresh('');
  const plain = await timed(async () => {
    for (const batch of batches) await insert(warehouse, batched, batch);
  });
  const checkpointedTable = await fresh('_checkpointed');
  // The runner's writes around a batch: its write intent before, the stored state after.
  const checkpointed = await timed(async () => {
    for (const batch of batches) {
      const intent = { first: batch.first, last: batch.last, units: batch.changes.length, attempts: 1 };
      await writeCheckpoint(warehouse, 'floor', 'binlog', { state: batch.first, intent });
      await insert(warehouse, checkpointedTable, batch);
      await writeCheckpoint(warehouse, 'floor', 'binlog', { state: batch.last });
    }
  });
  const allTable = await fresh('_one_insert');
  const all = { payload: Buffer.concat(batches.map((batch) => batch.payload)), first: 'all', last: 'all' };
  const one = await timed(() => insert(warehouse, allTable, all));
  await warehouse.close();
  return {
    rows,
    batches: batches.length,
    seconds: plain.seconds,
    cpuSeconds: plain.cpuSeconds,
    checkpointedSeconds: checkpointed.seconds,
    checkpointedCpuSeconds: checkpointed.cpuSeconds,
    oneInsertSeconds: one.seconds,
    oneInsertCpuSeconds: one.cpuSeconds,
  };
}

if (mode === 'engine') console.log(JSON.stringify(await engineOnly(warehouseDir ?? '')));
else {
  let rows = 0;
  const { seconds, cpuSeconds } = await timed(async () => {
    rows = mode === 'decode' ? await decodeOnly() : (await streamToPayloads(false)).rows;
  });
  console.log(JSON.stringify({ rows, seconds, cpuSeconds }));
}
process.exit(0);
