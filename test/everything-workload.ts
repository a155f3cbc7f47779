// A random workload over a table with every column type the seed schemas use (fast-check
// arbitraries), shared by the capture tests of every path: native, Kafka, Debezium.
import fc from 'fast-check';
import type pg from 'pg';
export const EVERYTHING_DDL = `
CREATE TABLE everything (
  id integer PRIMARY KEY,
  u uuid, t text, v varchar(40), s smallint, i integer, b bigint, n numeric(14,4), bo boolean,
  -- addr, not ip: columns named like IP addresses are hashed by default
  d date, tm time, ts timestamp, tz timestamptz, j jsonb, addr inet,
  ta text[], va varchar(20)[], ua uuid[],
  big text,
  g bigint GENERATED ALWAYS AS (coalesce(i, 0)::bigint * 2) STORED
);
CREATE TABLE serials (id serial PRIMARY KEY, note text, at timestamptz DEFAULT now());`;

const COLUMNS = [
  'u',
  't',
  'v',
  's',
  'i',
  'b',
  'n',
  'bo',
  'd',
  'tm',
  'ts',
  'tz',
  'j',
  'addr',
  'ta',
  'va',
  'ua',
] as const;
type Column = (typeof COLUMNS)[number];
type RowValues = Partial<Record<Column, unknown>>;

const pad = (value: number, width: number) => String(value).padStart(width, '0');
// Postgres text cannot hold NUL characters.
const text = fc
  .string({ unit: 'grapheme', maxLength: 24 })
  .map((value) => value.replaceAll(String.fromCharCode(0), ''));
const micros = fc
  .integer({ min: 0, max: 4_102_444_800 * 1000 - 1 })
  .chain((ms) => fc.integer({ min: 0, max: 999 }).map((us) => ({ ms, us })));
const timestampText = micros.map(
  ({ ms, us }) => `${new Date(ms).toISOString().replace('T', ' ').slice(0, 23)}${pad(us, 3)}`,
);
const nullable = <T>(arbitrary: fc.Arbitrary<T>) => fc.option(arbitrary, { freq: 5, nil: null });

const columnValues: Record<Column, fc.Arbitrary<unknown>> = {
  u: fc.uuid(),
  t: text,
  v: text.map((value) => [...value].slice(0, 40).join('')),
  s: fc.integer({ min: -32768, max: 32767 }),
  i: fc.integer(),
  b: fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map(String),
  n: fc
    .tuple(fc.integer({ min: -9_999_999_999, max: 9_999_999_999 }), fc.integer({ min: 0, max: 9999 }))
    .map(([whole, fraction]) => `${whole}.${pad(fraction, 4)}`),
  bo: fc.boolean(),
  d: fc
    .date({ min: new Date('1900-01-01'), max: new Date('2100-12-31'), noInvalidDate: true })
    .map((date) => date.toISOString().slice(0, 10)),
  tm: fc.integer({ min: 0, max: 86_399_999_999 }).map((value) => {
    const seconds = Math.floor(value / 1e6);
    return `${pad(Math.floor(seconds / 3600), 2)}:${pad(Math.floor(seconds / 60) % 60, 2)}:${pad(seconds % 60, 2)}.${pad(value % 1e6, 6)}`;
  }),
  ts: timestampText,
  tz: fc
    .tuple(timestampText, fc.constantFrom('+00', '+07', '-05:30', '+14'))
    .map(([stamp, zone]) => `${stamp}${zone}`),
  j: fc.jsonValue({ maxDepth: 2 }).map((value) => JSON.stringify(value).replace(/\\u0000/g, '')),
  addr: fc.oneof(fc.ipV4(), fc.ipV6()),
  ta: fc.array(fc.option(text, { nil: null }), { maxLength: 4 }),
  va: fc.array(
    fc.option(
      text.map((value) => [...value].slice(0, 20).join('')),
      { nil: null },
    ),
    { maxLength: 4 },
  ),
  ua: fc.array(fc.uuid(), { maxLength: 3 }),
};

const rowValues: fc.Arbitrary<RowValues> = fc.record(
  Object.fromEntries(COLUMNS.map((column) => [column, nullable(columnValues[column])])) as Record<
    Column,
    fc.Arbitrary<unknown>
  >,
  { requiredKeys: [] },
);

export type Operation =
  | { kind: 'insert'; id: number; row: RowValues }
  | { kind: 'update'; id: number; row: RowValues }
  | { kind: 'rekey'; id: number; newId: number }
  | { kind: 'delete'; id: number }
  | { kind: 'truncate' };

const id = fc.integer({ min: 1, max: 120 });
export const operation: fc.Arbitrary<Operation> = fc.oneof(
  { weight: 10, arbitrary: fc.record({ kind: fc.constant('insert' as const), id, row: rowValues }) },
  { weight: 8, arbitrary: fc.record({ kind: fc.constant('update' as const), id, row: rowValues }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('rekey' as const), id, newId: id }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('delete' as const), id }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'truncate' as const }) },
);

export async function apply(client: pg.Client, op: Operation): Promise<void> {
  switch (op.kind) {
    case 'insert': {
      const columns = Object.keys(op.row) as Column[];
      const names = ['id', ...columns].map((name) => `"${name}"`).join(', ');
      const params = columns.map((_, index) => `$${index + 2}`);
      await client.query(
        `INSERT INTO everything (${names}) VALUES ($1${params.length ? ', ' + params.join(', ') : ''}) ON CONFLICT (id) DO NOTHING`,
        [op.id, ...columns.map((column) => op.row[column])],
      );
      return;
    }
    case 'update': {
      const columns = Object.keys(op.row) as Column[];
      if (columns.length === 0) return;
      const sets = columns.map((column, index) => `"${column}" = $${index + 2}`).join(', ');
      await client.query(`UPDATE everything SET ${sets} WHERE id = $1`, [
        op.id,
        ...columns.map((column) => op.row[column]),
      ]);
      return;
    }
    case 'rekey':
      await client.query(
        'UPDATE everything SET id = $2 WHERE id = $1 AND NOT EXISTS (SELECT 1 FROM everything WHERE id = $2)',
        [op.id, op.newId],
      );
      return;
    case 'delete':
      await client.query('DELETE FROM everything WHERE id = $1', [op.id]);
      return;
    case 'truncate':
      await client.query('TRUNCATE everything');
      return;
  }
}
