// The initial snapshot: every row of every captured table as an `op: "r"` envelope, read in chunks
// inside the slot's exported snapshot so it joins the stream with no gap and no overlap.
import type pg from 'pg';
import type { Row } from '../envelope.ts';
import type { SourceChange } from '../landing/types.ts';
import { ROW_ID_COLUMN } from '../source-table.ts';
import { connectSource } from './catalog.ts';
import { quoteIdentifier } from './sql.ts';
import type { TableCodec } from './table-codec.ts';

export interface SnapshotOptions {
  url: string;
  snapshotName: string;
  /** The snapshot rows' `source.lsn`, below every streamed change (see `slotRestartLsn`). */
  version: number;
  database: string;
  sourceName: string;
  tables: TableCodec[];
  chunkRows: number;
  /** Called once per chunk, in order; the next chunk is fetched while this one is handled. */
  onChunk: (table: TableCodec, changes: SourceChange[], chunkIndex: number) => Promise<void>;
}

// Every value is read as text: the same decoders then serve the snapshot and the stream.
const TEXT_TYPES = { getTypeParser: () => (value: string) => value } as unknown as pg.CustomTypesConfig;

export async function readSnapshot(options: SnapshotOptions): Promise<Map<string, number>> {
  const client = await connectSource(options.url);
  const counts = new Map<string, number>();
  try {
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    await client.query(`SET TRANSACTION SNAPSHOT '${options.snapshotName.replace(/'/g, "''")}'`);
    for (const codec of options.tables) {
      counts.set(`${codec.table.schema}.${codec.table.table}`, await readTable(client, codec, options));
    }
    await client.query('COMMIT');
  } finally {
    await client.end();
  }
  return counts;
}

async function readTable(client: pg.Client, codec: TableCodec, options: SnapshotOptions): Promise<number> {
  const { schema, table } = codec.table;
  // A table without any identity names a row by where it sits: its ctid, unique within the snapshot.
  const append = codec.table.rowIdentity === 'append';
  const columns = [
    ...(append ? ['ctid::text AS "_ctid"'] : []),
    ...codec.columnNames.map(quoteIdentifier),
  ].join(', ');
  await client.query(
    `DECLARE tributary_snapshot NO SCROLL CURSOR FOR SELECT ${columns} FROM ${quoteIdentifier(schema)}.${quoteIdentifier(table)}`,
  );
  const now = Date.now();
  const source = {
    version: 'tributary',
    connector: 'postgresql',
    name: options.sourceName,
    db: options.database,
    schema,
    table,
    lsn: options.version,
    ts_ms: now,
    snapshot: 'true' as const,
  };
  const fetchChunk = () =>
    client.query<Record<string, string | null>>({
      text: `FETCH ${options.chunkRows} FROM tributary_snapshot`,
      types: TEXT_TYPES,
    });
  let total = 0;
  let pending = fetchChunk();
  for (let chunkIndex = 0; ; chunkIndex++) {
    const result = await pending;
    if (result.rows.length === 0) break;
    // Postgres sends the next chunk while this one is being landed.
    pending = fetchChunk();
    const changes: SourceChange[] = result.rows.map((row) => ({
      envelope: {
        before: null,
        after: withRowId(codec.decodeRow(row), append ? row._ctid : undefined),
        source,
        op: 'r',
        ts_ms: now,
      },
      version: options.version,
      table: codec.tableName,
    }));
    total += changes.length;
    await options.onChunk(codec, changes, chunkIndex);
  }
  await client.query('CLOSE tributary_snapshot');
  return total;
}

function withRowId(row: Row, ctid: string | null | undefined): Row {
  if (ctid) row[ROW_ID_COLUMN] = ctid;
  return row;
}
