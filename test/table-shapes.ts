// Table shapes users really have, as fast-check arbitraries: row keys of 1–4 columns of the types
// keys are made of, each replica identity Postgres offers, one or two TOASTed columns, and
// workloads of the changes that stress capture (updates that leave large values unchanged, key
// changes, deletes and re-inserts of one key in a transaction). Shared by every capture path's test.
import fc from 'fast-check';
import type pg from 'pg';

export const KEY_TYPES = [
  'uuid',
  'bigint',
  'integer',
  'text',
  'numeric',
  'numeric(12,2)',
  'date',
  'timestamptz',
] as const;
export type KeyType = (typeof KEY_TYPES)[number];
/** `keyless`: no primary key, REPLICA IDENTITY FULL (rows named by their whole old row). */
export type Identity = 'default' | 'full' | 'index' | 'keyless';
export type ToastType = 'text' | 'jsonb';

export interface TableShape {
  keyTypes: KeyType[];
  identity: Identity;
  toast: ToastType[];
}

export const tableShape: fc.Arbitrary<TableShape> = fc.record({
  keyTypes: fc.array(fc.constantFrom(...KEY_TYPES), { minLength: 1, maxLength: 4 }),
  identity: fc.constantFrom<Identity>('default', 'full', 'index', 'keyless'),
  toast: fc.constantFrom<ToastType[]>(['text'], ['jsonb'], ['text', 'jsonb']),
});

export function describeShape(shape: TableShape): string {
  return `key (${shape.keyTypes.join(', ')}), identity ${shape.identity}, TOASTed ${shape.toast.join(' + ')}`;
}

export const keyColumns = (shape: TableShape): string[] => shape.keyTypes.map((_, index) => `k${index}`);

/** The mirror's key: the key columns, or the synthetic row identity of a table without a key. */
export const mirrorKey = (shape: TableShape): string[] =>
  shape.identity === 'keyless' ? ['_row_id'] : keyColumns(shape);
export const toastColumns = (shape: TableShape): string[] => shape.toast.map((_, index) => `big${index}`);

/** Ordinary columns beside the key and the large values, of types whose text round-trips exactly. */
const SMALL_COLUMNS = 'n integer, note text, flag boolean, amount numeric(10,3), at timestamptz, tags text[]';

export function shapeDdl(table: string, shape: TableShape): string {
  const keys = keyColumns(shape);
  const columns = [
    ...shape.keyTypes.map((type, index) => `${keys[index]} ${type} NOT NULL`),
    SMALL_COLUMNS,
    ...shape.toast.map((type, index) => `big${index} ${type}`),
  ];
  const list = keys.join(', ');
  if (shape.identity === 'keyless')
    return `CREATE TABLE ${table} (${columns.join(', ')});\nALTER TABLE ${table} REPLICA IDENTITY FULL;`;
  if (shape.identity === 'index')
    return (
      `CREATE TABLE ${table} (${columns.join(', ')});\n` +
      `CREATE UNIQUE INDEX ${table}_identity ON ${table} (${list});\n` +
      `ALTER TABLE ${table} REPLICA IDENTITY USING INDEX ${table}_identity;`
    );
  return (
    `CREATE TABLE ${table} (${columns.join(', ')}, PRIMARY KEY (${list}));` +
    (shape.identity === 'full' ? `\nALTER TABLE ${table} REPLICA IDENTITY FULL;` : '')
  );
}

/**
 * One key column's value for a slot and a variant. Variants are what trips key matching: text that
 * differs only by case or a trailing space, numerics written 1 / 1.0 / 1.00 (equal in Postgres),
 * numeric(12,2) values whose text differs from ClickHouse's, bigints on both sides of 2^53.
 */
export function keyValue(type: KeyType, slot: number, variant: number): string {
  switch (type) {
    case 'uuid':
      return `0000${variant}000-0000-4000-8000-${slot.toString(16).padStart(12, '0')}`;
    case 'bigint':
      return [String(slot), String(2n ** 53n + BigInt(slot)), String(-slot - 1)][variant] ?? '0';
    case 'integer':
      return String(slot + 100 * variant);
    case 'text':
      return [`k${slot}`, `K${slot}`, `k${slot} `][variant] ?? 'k';
    case 'numeric':
      return [`${slot}`, `${slot}.0`, `${slot}.00`][variant] ?? '0';
    case 'numeric(12,2)':
      return [`${slot}.5`, `${slot}`, `${slot}.1`][variant] ?? '0';
    case 'date':
      return new Date(Date.UTC(2026, 0, 1 + slot * 3 + variant)).toISOString().slice(0, 10);
    case 'timestamptz':
      return `2026-03-29 0${slot % 10}:59:59.12345${variant}+0${variant}`;
  }
}

/** A row key: for each key column, its (slot, variant). */
export type RowKey = [number, number][];

/** A small pool of row keys per table, so inserts, re-inserts and key changes collide often. */
export function keyPool(shape: TableShape, size = { minLength: 4, maxLength: 10 }): fc.Arbitrary<RowKey[]> {
  const part = fc.tuple(fc.integer({ min: 0, max: 4 }), fc.integer({ min: 0, max: 2 }));
  return fc.array(fc.tuple(...shape.keyTypes.map(() => part)), size) as fc.Arbitrary<RowKey[]>;
}

export interface SmallValues {
  n: number | null;
  note: string | null;
  flag: boolean | null;
  amount: string | null;
  at: string | null;
  tags: (string | null)[] | null;
}

const smallValues: fc.Arbitrary<SmallValues> = fc.record({
  n: fc.option(fc.integer(), { nil: null }),
  note: fc.option(
    fc.string({ unit: 'grapheme', maxLength: 12 }).map((text) => text.replaceAll('\0', '')),
    { nil: null },
  ),
  flag: fc.option(fc.boolean(), { nil: null }),
  amount: fc.option(
    fc.integer({ min: -9_999_999, max: 9_999_999 }).map((value) => (value / 1000).toFixed(3)),
    { nil: null },
  ),
  at: fc.option(
    fc.integer({ min: 0, max: 2_000_000_000_000 }).map((ms) => new Date(ms).toISOString()),
    { nil: null },
  ),
  tags: fc.option(fc.array(fc.option(fc.constantFrom('a', 'b', 'ż', ''), { nil: null }), { maxLength: 3 }), {
    nil: null,
  }),
});

export type ShapeOperation =
  | { kind: 'insert'; key: number; small: SmallValues; bigSeed: number }
  | { kind: 'update-small'; key: number; small: SmallValues }
  | { kind: 'update-big'; key: number; column: number; bigSeed: number }
  | { kind: 'rekey'; key: number; to: number; n: number }
  | { kind: 'delete'; key: number }
  | { kind: 'delete-reinsert'; key: number; small: SmallValues; bigSeed: number };

/** Transactions of 1–3 operations on the keys of a pool of `poolSize`. */
export function shapeWorkload(
  poolSize: number,
  options: { minLength: number; maxLength: number },
): fc.Arbitrary<ShapeOperation[][]> {
  const key = fc.integer({ min: 0, max: poolSize - 1 });
  const bigSeed = fc.integer({ min: 1, max: 2 ** 31 - 1 });
  const operation: fc.Arbitrary<ShapeOperation> = fc.oneof(
    {
      weight: 6,
      arbitrary: fc.record({ kind: fc.constant('insert' as const), key, small: smallValues, bigSeed }),
    },
    {
      weight: 6,
      arbitrary: fc.record({ kind: fc.constant('update-small' as const), key, small: smallValues }),
    },
    {
      weight: 2,
      arbitrary: fc.record({
        kind: fc.constant('update-big' as const),
        key,
        column: fc.integer({ min: 0, max: 1 }),
        bigSeed,
      }),
    },
    {
      weight: 3,
      arbitrary: fc.record({ kind: fc.constant('rekey' as const), key, to: key, n: fc.integer() }),
    },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('delete' as const), key }) },
    {
      weight: 2,
      arbitrary: fc.record({
        kind: fc.constant('delete-reinsert' as const),
        key,
        small: smallValues,
        bigSeed,
      }),
    },
  );
  return fc.array(fc.array(operation, { minLength: 1, maxLength: 3 }), options);
}

/** Text Postgres cannot compress below the TOAST threshold: about 4 kB of base64 from a seed. */
export function largeText(seed: number, bytes = 3000): string {
  const buffer = Buffer.alloc(bytes);
  let state = seed >>> 0 || 1;
  for (let index = 0; index < bytes; index++) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    buffer[index] = state & 0xff;
  }
  return buffer.toString('base64');
}

function largeValue(type: ToastType, seed: number): string {
  const text = largeText(seed);
  return type === 'jsonb' ? JSON.stringify({ blob: text, seed }) : text;
}

/** Applies workloads to one table of a shape; operations that the data does not allow are no-ops. */
export class ShapeWriter {
  private readonly keys: string[];
  private readonly bigs: string[];
  private readonly keyMatch: string;

  constructor(
    private readonly table: string,
    private readonly shape: TableShape,
    private readonly pool: RowKey[],
  ) {
    this.keys = keyColumns(shape);
    this.bigs = toastColumns(shape);
    this.keyMatch = this.keys
      .map((column, index) => `${column} = $${index + 1}::${shape.keyTypes[index]}`)
      .join(' AND ');
  }

  async apply(client: pg.Client, transactions: ShapeOperation[][]): Promise<void> {
    for (const transaction of transactions) {
      await client.query('BEGIN');
      for (const operation of transaction) await this.applyOne(client, operation);
      await client.query('COMMIT');
    }
  }

  private keyValues(index: number): string[] {
    const key = this.pool[index % this.pool.length] ?? [];
    return key.map(([slot, variant], column) =>
      keyValue(this.shape.keyTypes[column] ?? 'integer', slot, variant),
    );
  }

  private async applyOne(client: pg.Client, operation: ShapeOperation): Promise<void> {
    const key = this.keyValues(operation.key);
    switch (operation.kind) {
      case 'insert':
        return this.insert(client, key, operation.small, operation.bigSeed);
      case 'update-small': {
        const { n, note, flag, amount, at, tags } = operation.small;
        const offset = key.length;
        await client.query(
          `UPDATE ${this.table} SET n = $${offset + 1}, note = $${offset + 2}, flag = $${offset + 3}, amount = $${offset + 4}, at = $${offset + 5}, tags = $${offset + 6} WHERE ${this.keyMatch}`,
          [...key, n, note, flag, amount, at, tags],
        );
        return;
      }
      case 'update-big': {
        const column = operation.column % this.bigs.length;
        const type = this.shape.toast[column] ?? 'text';
        await client.query(
          `UPDATE ${this.table} SET ${this.bigs[column]} = $${key.length + 1} WHERE ${this.keyMatch}`,
          [...key, largeValue(type, operation.bigSeed)],
        );
        return;
      }
      case 'rekey': {
        // Moves the row to another key of the pool when that key is free; the large values stay.
        const target = this.keyValues(operation.to);
        const assignments = this.keys.map(
          (column, index) => `${column} = $${key.length + index + 1}::${this.shape.keyTypes[index]}`,
        );
        const targetMatch = this.keys
          .map((column, index) => `${column} = $${key.length + index + 1}::${this.shape.keyTypes[index]}`)
          .join(' AND ');
        await client.query(
          `UPDATE ${this.table} SET ${assignments.join(', ')}, n = $${2 * key.length + 1}
           WHERE ${this.keyMatch} AND NOT EXISTS (SELECT 1 FROM ${this.table} WHERE ${targetMatch})`,
          [...key, ...target, operation.n],
        );
        return;
      }
      case 'delete':
        await client.query(`DELETE FROM ${this.table} WHERE ${this.keyMatch}`, key);
        return;
      case 'delete-reinsert':
        await client.query(`DELETE FROM ${this.table} WHERE ${this.keyMatch}`, key);
        return this.insert(client, key, operation.small, operation.bigSeed);
    }
  }

  private async insert(client: pg.Client, key: string[], small: SmallValues, bigSeed: number): Promise<void> {
    const columns = [...this.keys, 'n', 'note', 'flag', 'amount', 'at', 'tags', ...this.bigs];
    const values = [
      ...key,
      small.n,
      small.note,
      small.flag,
      small.amount,
      small.at,
      small.tags,
      ...this.shape.toast.map((type, index) => largeValue(type, bigSeed + index)),
    ];
    const casts = columns.map((_, index) =>
      index < this.keys.length ? `$${index + 1}::${this.shape.keyTypes[index]}` : `$${index + 1}`,
    );
    // A key equal to an existing one (1 and 1.00 are one numeric) is not inserted twice.
    await client.query(
      `INSERT INTO ${this.table} (${columns.join(', ')}) SELECT ${casts.join(', ')}
       WHERE NOT EXISTS (SELECT 1 FROM ${this.table} WHERE ${this.keyMatch})`,
      values,
    );
  }
}
