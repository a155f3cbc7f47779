// Child process of bench:mysql: the Node side's floor over the same binlog range the capture
// reads, with no warehouse. `decode` is the binlog library alone (zongji reading and decoding the
// row events, as the capture configures it); `lines` is the capture's whole stream up to the
// insert (BinlogChangeStream's envelopes, then the mirror rows and lines the writer would insert).
// Reports the rows and seconds as one JSON line.
import ZongJi from '@vlasky/zongji';
import { createPiiPolicy } from '../ingest/index.ts';
import { createRowConverter, mirrorLineFormat, mirrorTableFor } from '../ingest/mirror/mirror-rows.ts';
import { BinlogChangeStream } from '../ingest/mysql/binlog-change-stream.ts';
import { compareBinlogPositions } from '../ingest/mysql/binlog-position.ts';
import {
  checkBinlogCapture,
  connectMysql,
  DECODING_OPTIONS,
  parseMysqlUrl,
  readMysqlCatalog,
} from '../ingest/mysql/catalog.ts';
import { createMysqlTableCodec } from '../ingest/mysql/table-codec.ts';

const [sourceUrl, mode, file, pos, endFile, endPos] = process.argv.slice(2);
if (!sourceUrl || (mode !== 'decode' && mode !== 'lines') || !file || !pos || !endFile || !endPos) {
  console.error('usage: mysql-floor-process.ts SOURCE_URL decode|lines FILE POS END_FILE END_POS');
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

/** The capture's stream, and the mirror lines of what it reads: all of capture but the insert. */
async function streamToLines(): Promise<number> {
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
      return [
        codec.tableName,
        { converter: createRowConverter(codec.table), lines: mirrorLineFormat(mirror) },
      ];
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
  let rows = 0;
  let bytes = 0;
  const units = stream.read(from);
  for (;;) {
    const next = await units.next();
    if (next.done) break;
    for (const change of next.value.changes) {
      const writer = writers.get(change.table);
      const image = change.envelope.op === 'd' ? change.envelope.before : change.envelope.after;
      if (!writer || !image) continue;
      const converted = writer.converter.convert(image);
      if (!converted.ok) throw new Error(converted.reason);
      bytes += writer.lines.line(converted.row, change.version, change.envelope.op === 'd').length;
      rows++;
    }
  }
  await stream.stop();
  if (bytes === 0 && rows > 0) throw new Error('no line was written');
  return rows;
}

const started = performance.now();
const cpuBefore = process.cpuUsage();
const rows = mode === 'decode' ? await decodeOnly() : await streamToLines();
const seconds = (performance.now() - started) / 1000;
const cpu = process.cpuUsage(cpuBefore);
console.log(JSON.stringify({ rows, seconds, cpuSeconds: (cpu.user + cpu.system) / 1e6 }));
process.exit(0);
