// Lands changes in the raw mirrors: one insert per table and batch (split at truncates), each with
// a deterministic deduplication token, unchanged TOAST values filled from the previous version,
// and changes that cannot be stored handed back as rejections instead of stopping.
import {
  ensureMirrorTable,
  readKeyChangeImages,
  readLatestValues,
  recordKeyChangeImages,
  tombstoneOlderThan,
  WarehouseError,
  type MirrorTable,
  type Warehouse,
} from '../../warehouse/index.ts';
import { createDocumentConverter } from '../documents/document-rows.ts';
import {
  rowImage,
  UNAVAILABLE_VALUE,
  type ChangeEnvelope,
  type KeyChange,
  type Row,
  type SourceVersion,
} from '../envelope.ts';
import { CaptureError } from '../errors.ts';
import type { Rejection, SourceChange } from '../landing/types.ts';
import { qualifiedName, tableKey, type SourceTable } from '../source-table.ts';
import {
  createRowConverter,
  mirrorLineFormat,
  mirrorTableFor,
  type MirrorLineFormat,
  type RowConverter,
} from './mirror-rows.ts';
import { rowBinaryFormat, type RowBinaryFormat } from './row-binary.ts';

export interface WriteResult {
  rowsByMirror: Map<string, number>;
  rejected: Rejection[];
  /** Values that had to come from a previous version of their row that the mirror does not hold. */
  unfilled: string[];
}

interface RegisteredTable {
  source: SourceTable;
  mirror: MirrorTable;
  converter: RowConverter;
  lines: MirrorLineFormat;
  /** The rows as RowBinary, when the warehouse takes it and every column's type is written. */
  binary: RowBinaryFormat | undefined;
}

type Segment = { kind: 'rows'; changes: SourceChange[] } | { kind: 'truncate'; version: SourceVersion };

interface PendingRow {
  change: SourceChange;
  /** The row to store; values taken from the row's previous version are filled in place. */
  row: Row;
  version: SourceVersion;
  deleted: boolean;
  /** Columns whose values the event does not carry and the row's previous version holds. */
  missing: string[] | undefined;
  keyChange: KeyChange | undefined;
}

/**
 * Thrown when the create half of a primary-key change arrives before its delete half (another
 * Kafka partition) has landed the old row's values: retrying later lands it exactly.
 */
export class KeyChangePendingError extends CaptureError {
  constructor(mirror: string, positions: number[]) {
    super(
      `${mirror}: ${positions.length} key change(s) wait for the delete of their old key to land ` +
        `(positions ${positions.slice(0, 3).join(', ')}${positions.length > 3 ? ', …' : ''}); it travels on another partition`,
      { retriable: true },
    );
  }
}

export class MirrorWriter {
  private readonly tables = new Map<string, RegisteredTable>();
  /** Converters of the shapes changes were read with, where not the registered one. */
  private readonly shapeConverters = new WeakMap<SourceTable, RowConverter>();

  constructor(private readonly warehouse: Warehouse) {}

  /** Creates or widens the mirror of `table`; returns the columns added to an existing mirror. */
  async register(table: SourceTable): Promise<string[]> {
    const mirror = mirrorTableFor(table);
    const { added, columns } = await ensureMirrorTable(this.warehouse, mirror);
    this.tables.set(tableKey(table), {
      source: table,
      mirror,
      converter: converterOf(table),
      lines: mirrorLineFormat(mirror),
      // Written in the types the mirror holds, which a source's type change does not alter.
      binary: this.warehouse.takesRowBinary ? rowBinaryFormat(columns) : undefined,
    });
    return added;
  }

  /** Whether `table` is registered with exactly this shape. */
  isRegistered(table: SourceTable): boolean {
    const registered = this.tables.get(tableKey(table))?.source;
    // The same object is asked about for every change of a table: compare shapes only when it is not.
    return (
      registered === table ||
      (registered !== undefined && JSON.stringify(registered) === JSON.stringify(table))
    );
  }

  get mirrors(): MirrorTable[] {
    return [...this.tables.values()].map((table) => table.mirror);
  }

  async write(changes: readonly SourceChange[], tokenBase: string): Promise<WriteResult> {
    const result: WriteResult = { rowsByMirror: new Map(), rejected: [], unfilled: [] };
    for (const [name, segments] of this.segmentByTable(changes, result.rejected)) {
      const table = this.tables.get(name);
      if (!table) continue;
      try {
        await this.writeSegments(table, segments, tokenBase, result);
      } catch (error) {
        throw withTableContext(table, error);
      }
    }
    return result;
  }

  private async writeSegments(
    table: RegisteredTable,
    segments: Segment[],
    tokenBase: string,
    result: WriteResult,
  ): Promise<void> {
    let index = 0;
    for (const segment of segments) {
      if (segment.kind === 'truncate') {
        await tombstoneOlderThan(this.warehouse, table.mirror, segment.version);
        continue;
      }
      const token = `${tokenBase}:${table.mirror.name}:${index++}`;
      const written = await this.insertImages(table, segment.changes, token);
      if (written !== undefined) {
        result.rowsByMirror.set(
          table.mirror.name,
          (result.rowsByMirror.get(table.mirror.name) ?? 0) + written,
        );
        continue;
      }
      const rows = this.toMirrorRows(table, segment.changes, result.rejected);
      if (rows.some((pending) => pending.missing || pending.keyChange))
        await this.fillFromPreviousVersions(table, rows, token, result.unfilled);
      const stored = await this.insertRows(table, rows, token, result.rejected);
      result.rowsByMirror.set(table.mirror.name, (result.rowsByMirror.get(table.mirror.name) ?? 0) + stored);
    }
  }

  /**
   * Changes that all carry their rows as raw images go into RowBinary straight from the source's
   * bytes, with the token their decoded rows would take. Undefined when one does not, a value is
   * not written that way, or the engine refuses the block: nothing of it is stored, and the
   * changes' envelopes then land as any others.
   */
  private async insertImages(
    table: RegisteredTable,
    changes: SourceChange[],
    token: string,
  ): Promise<number | undefined> {
    const payload = table.binary?.encodeImages(changes);
    return payload && (await this.insertBinary(table, payload, token)) ? changes.length : undefined;
  }

  /**
   * Inserts the rows as RowBinary when every value is written exactly that way (cheaper to build
   * and to parse); otherwise, or when the engine refuses them, as JSON lines, where a refused block
   * is split until the rows it refuses stand alone. Returns the number of rows stored.
   */
  private async insertRows(
    table: RegisteredTable,
    rows: PendingRow[],
    token: string,
    rejected: Rejection[],
  ): Promise<number> {
    const payload = table.binary?.encode(rows);
    if (payload && (await this.insertBinary(table, payload, token))) return rows.length;
    return this.insertIsolatingBadRows(table, rows, token, rejected);
  }

  /**
   * Inserts a RowBinary payload; false when the engine refuses its data. Nothing of a refused
   * block is stored, so the same token lands it another way.
   */
  private async insertBinary(table: RegisteredTable, payload: Buffer, token: string): Promise<boolean> {
    const binary = table.binary;
    if (!binary) return false;
    try {
      await this.warehouse.insertLines(
        table.mirror.name,
        { format: binary.format, columns: binary.columns, payload },
        { deduplicationToken: token },
      );
      return true;
    } catch (error) {
      if (!(error instanceof WarehouseError) || !error.refusedData) throw error;
      return false;
    }
  }

  /**
   * Inserts the rows; when ClickHouse refuses the block (a value it cannot parse), halves it until
   * the refused rows stand alone and hands those back as dead letters. The halves' tokens derive
   * from the parent's, so a replay splits the same way. Returns the number of rows stored.
   */
  private async insertIsolatingBadRows(
    table: RegisteredTable,
    rows: PendingRow[],
    token: string,
    rejected: Rejection[],
  ): Promise<number> {
    const { format, columns, line } = table.lines;
    try {
      await this.warehouse.insertLines(
        table.mirror.name,
        {
          format,
          columns,
          lines: rows.map((pending) => line(pending.row, pending.version, pending.deleted)),
        },
        { deduplicationToken: token },
      );
      return rows.length;
    } catch (error) {
      if (!(error instanceof WarehouseError) || !error.refusedData || rows.length === 0) throw error;
      const [only] = rows;
      if (rows.length === 1 && only) {
        rejected.push({
          change: only.change,
          stage: 'mirror',
          reason: `the warehouse refused the row: ${error.message}`,
        });
        return 0;
      }
      const middle = Math.ceil(rows.length / 2);
      return (
        (await this.insertIsolatingBadRows(table, rows.slice(0, middle), `${token}/a`, rejected)) +
        (await this.insertIsolatingBadRows(table, rows.slice(middle), `${token}/b`, rejected))
      );
    }
  }

  private segmentByTable(changes: readonly SourceChange[], rejected: Rejection[]): Map<string, Segment[]> {
    const byTable = new Map<string, Segment[]>();
    for (const change of changes) {
      if (!this.tables.has(change.table)) {
        rejected.push({ change, stage: 'mirror', reason: `no mirror is registered for ${change.table}` });
        continue;
      }
      let segments = byTable.get(change.table);
      if (!segments) byTable.set(change.table, (segments = []));
      // A change with a raw image is never a truncate: asking it for its op would decode its envelope.
      if (!change.image && change.envelope.op === 't') {
        segments.push({ kind: 'truncate', version: change.version });
        continue;
      }
      const last = segments.at(-1);
      if (last?.kind === 'rows') last.changes.push(change);
      else segments.push({ kind: 'rows', changes: [change] });
    }
    return byTable;
  }

  private toMirrorRows(table: RegisteredTable, changes: SourceChange[], rejected: Rejection[]): PendingRow[] {
    const rows: PendingRow[] = [];
    const key = table.mirror.key;
    const wholeBefore = table.source.beforeImage === 'row';
    for (const change of changes) {
      const { envelope } = change;
      const deleted = envelope.op === 'd';
      const image = deleted ? envelope.before : envelope.after;
      if (!image) {
        rejected.push({ change, stage: 'mirror', reason: `op '${envelope.op}' without its row image` });
        continue;
      }
      const converter = this.converterFor(table, change.shape);
      const converted = converter.convert(image);
      if (!converted.ok) {
        rejected.push({ change, stage: 'mirror', reason: `${table.mirror.name}: ${converted.reason}` });
        continue;
      }
      if (!hasKey(converted.row, key)) {
        rejected.push({ change, stage: 'mirror', reason: `row key (${key.join(', ')}) is missing` });
        continue;
      }
      let missing = deleted ? undefined : converted.unavailable;
      // The converter copied rows that carry placeholders; the others are filled in a copy of their own.
      let row = converted.row;
      if (missing && wholeBefore && envelope.op === 'u')
        missing = this.takeFromBefore(converter, envelope, row, missing);
      // A key change's delete: its tombstone carries the old row as it was, for the create half.
      if (deleted && envelope.keyChange && !wholeBefore) {
        missing = table.mirror.columns.map((column) => column.name).filter((name) => !key.includes(name));
        row = { ...row };
      }
      // An update whose old row is named by another key (a table keyed by its whole row): the old
      // row is gone, in the same place in the order.
      const before = envelope.op === 'u' ? rowImage(envelope.before) : undefined;
      if (before && key.some((column) => before[column] !== undefined && before[column] !== row[column])) {
        const gone = converter.convert(before);
        if (gone.ok)
          rows.push({
            change,
            row: gone.row,
            version: change.version,
            deleted: true,
            missing: undefined,
            keyChange: undefined,
          });
      }
      rows.push({
        change,
        row,
        version: change.version,
        deleted,
        missing: missing && missing.length > 0 ? missing : undefined,
        keyChange: envelope.keyChange,
      });
    }
    return rows;
  }

  /**
   * The converter of the shape a change was read with, when it says (MySQL: its table map's codec,
   * cached per shape); otherwise the registered table's.
   */
  private converterFor(table: RegisteredTable, shape: SourceTable | undefined): RowConverter {
    if (!shape || shape === table.source) return table.converter;
    let converter = this.shapeConverters.get(shape);
    if (!converter) this.shapeConverters.set(shape, (converter = converterOf(shape)));
    return converter;
  }

  /**
   * Under REPLICA IDENTITY FULL an update's old row holds the values the new one leaves out
   * (Postgres inlines TOASTed values there). Fills them in place; returns the columns still missing.
   */
  private takeFromBefore(
    converter: RowConverter,
    envelope: ChangeEnvelope,
    row: Row,
    missing: string[],
  ): string[] {
    if (!envelope.before) return missing;
    const before = converter.convert(envelope.before);
    if (!before.ok) return missing;
    const stillMissing: string[] = [];
    for (const column of missing) {
      if (column in before.row && !before.unavailable?.includes(column)) row[column] = before.row[column];
      else stillMissing.push(column);
    }
    return stillMissing;
  }

  /**
   * Postgres does not resend a TOASTed value an UPDATE left unchanged; the previous version of the
   * row holds it: earlier in this batch, or in the mirror. A key change's create reads the old key's
   * row (its delete half, filled the same way): earlier in this batch, or where a delete landed
   * without its create recorded it (`tributary.key_changes`). One lookup of each kind per segment.
   */
  private async fillFromPreviousVersions(
    table: RegisteredTable,
    rows: PendingRow[],
    token: string,
    unfilled: string[],
  ): Promise<void> {
    const mirror = table.mirror;
    // A key's values as JSON: the rows of one batch come from one codec, so equal keys meet.
    const keyTexts = rows.map((pending) => JSON.stringify(mirror.key.map((column) => pending.row[column])));
    // Which previous versions this batch itself holds, and which must be read.
    const seenKeys = new Set<string>();
    const oldHalves = new Set<number>();
    const newHalves = new Set<number>();
    const ownLookups = new Map<string, PendingRow>();
    const lookupColumns = new Set<string>();
    const recordedLookups = new Set<number>();
    rows.forEach((pending, index) => {
      const keyText = keyTexts[index] ?? '';
      const change = pending.keyChange;
      if (pending.missing) {
        if (change?.side === 'new') {
          if (!oldHalves.has(change.position)) recordedLookups.add(change.position);
        } else if (!seenKeys.has(keyText)) {
          ownLookups.set(keyText, pending);
          for (const column of pending.missing) lookupColumns.add(column);
        }
      }
      if (change?.side === 'old') oldHalves.add(change.position);
      if (change?.side === 'new') newHalves.add(change.position);
      seenKeys.add(keyText);
    });
    const lookups = [...ownLookups];
    const latest = new Map<string, Row>();
    const found = await readLatestValues(
      this.warehouse,
      mirror,
      lookups.map(([, pending]) => mirror.key.map((column) => pending.row[column])),
      [...lookupColumns],
    );
    lookups.forEach(([keyText], index) => {
      const values = found[index];
      if (values) latest.set(keyText, values);
    });
    const recorded =
      recordedLookups.size > 0
        ? await readKeyChangeImages(this.warehouse, mirror.name, [...recordedLookups])
        : new Map<number, Row>();
    const pending = [...recordedLookups].filter((position) => !recorded.has(position));
    if (pending.length > 0) throw new KeyChangePendingError(mirror.name, pending);

    const oldRows = new Map<number, Row>();
    const toRecord: { position: number; image: Row }[] = [];
    rows.forEach((current, index) => {
      const keyText = keyTexts[index] ?? '';
      const change = current.keyChange;
      if (current.missing) {
        const previous =
          change?.side === 'new'
            ? (oldRows.get(change.position) ?? recorded.get(change.position))
            : latest.get(keyText);
        for (const column of current.missing) {
          const value = previous?.[column];
          if (value === undefined || value === UNAVAILABLE_VALUE) {
            current.row[column] = null;
            unfilled.push(`${mirror.name}.${column} at ${String(current.version)}`);
          } else current.row[column] = value;
        }
      }
      latest.set(keyText, current.row);
      if (change?.side === 'old') {
        oldRows.set(change.position, current.row);
        // Its create is elsewhere (a later batch, another partition): leave the row where it can read it.
        if (!newHalves.has(change.position)) toRecord.push({ position: change.position, image: current.row });
      }
    });
    if (toRecord.length > 0)
      await recordKeyChangeImages(this.warehouse, mirror.name, toRecord, `${token}:key-changes`);
  }
}

function converterOf(table: SourceTable): RowConverter {
  return table.document ? createDocumentConverter(table) : createRowConverter(table);
}

function hasKey(row: Row, key: readonly string[]): boolean {
  for (const column of key) if (row[column] === null || row[column] === undefined) return false;
  return true;
}

/** A failure while landing a table names it and its key's shape, which is what a user checks first. */
function withTableContext(table: RegisteredTable, error: unknown): unknown {
  if (!(error instanceof WarehouseError)) return error;
  const types = new Map(table.mirror.columns.map((column) => [column.name, column.type]));
  const key = table.mirror.key.map((name) => `${name} ${types.get(name) ?? '?'}`).join(', ');
  return new WarehouseError(`landing ${qualifiedName(table.source)} (key ${key}): ${error.message}`, {
    retriable: error.retriable,
    cause: error,
    context: error.context,
  });
}
