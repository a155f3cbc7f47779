// Child of the mirror-format probe: what the mirror's insert format costs, JavaScript and engine
// apart. Builds the mirror rows of bench:mysql's `events` table or bench:cdc's
// user_activity_results (the values those workloads give, 70% inserts, 25% updates, 5% deletes),
// in the runner's batches of 5,000, then (1) serialises every batch as JSONCompactEachRow lines or
// as RowBinary, (2) has chDB insert the batches into the mirror (same DDL, same deduplication
// tokens) through the warehouse's insertLines. Reports each step's wall and CPU seconds (every thread of the process) as one JSON line.
//   node --import tsx bench/mirror-format-process.ts mysql|cdc json|rowbinary ROWS WAREHOUSE_DIR
import { createHash } from 'node:crypto';
import type { Row } from '../ingest/envelope.ts';
import { mirrorLineFormat, mirrorTableFor } from '../ingest/mirror/mirror-rows.ts';
import { rowBinaryFormat, type MirrorRowsPayload } from '../ingest/mirror/row-binary.ts';
import type { SourceColumn, SourceTable } from '../ingest/source-table.ts';
import {
  ensureMirrorTable,
  openWarehouse,
  type RowBinaryRows,
  type SerializedRows,
} from '../warehouse/index.ts';

const [shape, format, rowsText, dir] = process.argv.slice(2);
if ((shape !== 'mysql' && shape !== 'cdc') || (format !== 'json' && format !== 'rowbinary') || !dir) {
  console.error('usage: mirror-format-process.ts mysql|cdc json|rowbinary ROWS WAREHOUSE_DIR');
  process.exit(2);
}
const ROWS = Number(rowsText ?? 200_000);
const BATCH = 5_000;

const column = (name: string, clickhouseType: string, encoding: SourceColumn['encoding'] = 'plain') => ({
  name,
  clickhouseType,
  encoding,
  isArray: false,
  sourceType: clickhouseType,
});

const EVENTS: SourceTable = {
  source: 'probe',
  schema: 'bench',
  table: 'events',
  key: ['id'],
  columns: [
    column('id', 'UInt64'),
    column('user_id', 'Int32'),
    column('course_id', 'Int32'),
    column('kind', 'String'),
    column('amount', 'Decimal(12, 2)'),
    column('score', 'Float64'),
    column('progress', 'UInt8'),
    column('title', 'String'),
    column('note', 'String'),
    column('created_at', "DateTime64(6, 'UTC')", 'timestamp-micros'),
    column('updated_at', "DateTime64(6, 'UTC')", 'zoned-timestamp'),
    column('flags', 'UInt64', 'bits'),
    column('day', 'Date32', 'date-days'),
    column('payload', 'String'),
    column('active', 'Int8'),
  ],
};

const RESULTS: SourceTable = {
  source: 'probe',
  schema: 'public',
  table: 'user_activity_results',
  key: ['id'],
  columns: [
    column('id', 'UUID'),
    column('user_id', 'UUID'),
    column('lesson_id', 'UUID'),
    column('activity_id', 'UUID'),
    column('attempt_number', 'Int32'),
    column('user_answers', 'String'),
    column('correct_answers', 'String'),
    column('score', 'Int32'),
    column('max_score', 'Int32'),
    column('time_taken', 'Int32'),
    column('is_passed', 'Bool'),
    column('feedback', 'String'),
    column('completed_at', "DateTime64(6, 'UTC')", 'timestamp-micros'),
    column('created_at', "DateTime64(6, 'UTC')", 'timestamp-micros'),
  ],
};

const uuidOf = (text: string) => {
  const hex = createHash('md5').update(text).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
};
const JAN_2026 = Date.UTC(2026, 0, 1);

/** bench:mysql's row `seq` as the MySQL codec and the mirror's converter give it. */
function eventRow(seq: number): Row {
  const micros = (JAN_2026 + seq * 1000) * 1000;
  return {
    id: seq,
    user_id: seq % 5000,
    course_id: seq % 300,
    kind: ['view', 'start', 'progress', 'complete', 'review'][seq % 5] as string,
    amount: ((seq % 100000) / 100).toFixed(2),
    score: seq / 7,
    progress: seq % 101,
    title: `lesson ${seq % 977}`,
    note: 'n'.repeat(40 + (seq % 60)),
    created_at: micros,
    updated_at: `${new Date(micros / 1000).toISOString().slice(0, 19)}.000000Z`,
    flags: seq % 256,
    day: 20454 + (seq % 365),
    payload: `{"seq": ${seq}, "tag": "t${seq % 9}"}`,
    active: seq % 2,
  };
}

/** bench:cdc's row `g` as the Postgres codec gives it. */
function resultRow(g: number): Row {
  const micros = (Date.UTC(2026, 9, 1) + g * 1000) * 1000;
  return {
    id: uuidOf(String(g)),
    user_id: uuidOf(`user${g % 5000}`),
    lesson_id: uuidOf(`lesson${(g % 20) + 1}`),
    activity_id: uuidOf(`activity${(g % 100) + 1}`),
    attempt_number: 1 + (g % 3),
    user_answers: `{"answer": ${g % 4}}`,
    correct_answers: '{"answer": 2}',
    score: g % 11,
    max_score: 10,
    time_taken: 20 + (g % 300),
    is_passed: g % 3 > 0,
    feedback: `Bài làm tốt lắm ${g}`,
    completed_at: micros,
    created_at: micros,
  };
}

/** The workload's changes as mirror rows: per 1,000, 700 new rows, 250 updates, 50 deletes. */
function mirrorRows(): MirrorRowsPayload[] {
  const rowOf = shape === 'mysql' ? eventRow : resultRow;
  const rows: MirrorRowsPayload[] = [];
  let inserted = 0;
  let deleted = 0;
  while (rows.length < ROWS) {
    for (let index = 0; index < 700; index++)
      rows.push({ row: rowOf(++inserted), version: rows.length + 1, deleted: false });
    for (let index = 0; index < 250; index++) {
      const row = rowOf(deleted + 51 + ((index * 7919) % (inserted - deleted - 50)));
      rows.push({ row: { ...row, score: Number(row.score) + 1 }, version: rows.length + 1, deleted: false });
    }
    for (let index = 0; index < 50; index++)
      rows.push({ row: rowOf(++deleted), version: rows.length + 1, deleted: true });
  }
  return rows.slice(0, ROWS);
}

async function timed<T>(
  action: () => Promise<T> | T,
): Promise<{ value: T; seconds: number; cpuSeconds: number }> {
  const started = performance.now();
  const cpuBefore = process.cpuUsage();
  const value = await action();
  const cpu = process.cpuUsage(cpuBefore);
  return { value, seconds: (performance.now() - started) / 1000, cpuSeconds: (cpu.user + cpu.system) / 1e6 };
}

const table = shape === 'mysql' ? EVENTS : RESULTS;
const mirror = mirrorTableFor(table);
const rows = mirrorRows();
const batches = Array.from({ length: Math.ceil(rows.length / BATCH) }, (_, index) =>
  rows.slice(index * BATCH, (index + 1) * BATCH),
);

const lines = mirrorLineFormat(mirror);
const binary = rowBinaryFormat(mirror.columns);
if (!binary) throw new Error('a mirror column has a type RowBinary is not written for');
// JSON: the lines (the warehouse joins them into the payload inside insertLines); RowBinary: the payload.
const build = await timed(() =>
  batches.map((batch): SerializedRows | RowBinaryRows => {
    if (format === 'json')
      return {
        format: 'JSONCompactEachRow',
        columns: lines.columns,
        lines: batch.map((pending) => lines.line(pending.row, pending.version, pending.deleted)),
      };
    const payload = binary.encode(batch);
    if (!payload) throw new Error('a value went unencoded');
    return { format: 'RowBinary', columns: binary.columns, payload };
  }),
);

const warehouse = await openWarehouse({ kind: 'chdb', path: dir });
await ensureMirrorTable(warehouse, mirror);
const insert = await timed(async () => {
  let index = 0;
  for (const rows of build.value)
    await warehouse.insertLines(mirror.name, rows, {
      deduplicationToken: `probe:${index++}:${mirror.name}:0`,
    });
});
const [parts] = await warehouse.query<{ rows: string }>(
  'SELECT sum(rows) AS rows FROM system.parts WHERE database = {database:String} AND table = {table:String} AND active',
  { database: 'raw', table: mirror.name.slice(4) },
);
await warehouse.close();
console.log(
  JSON.stringify({
    shape,
    format,
    rows: rows.length,
    stored: Number(parts?.rows),
    buildSeconds: build.seconds,
    buildCpuSeconds: build.cpuSeconds,
    insertSeconds: insert.seconds,
    insertCpuSeconds: insert.cpuSeconds,
  }),
);
