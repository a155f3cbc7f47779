// Lands change envelopes in the raw mirrors: one insert per table and batch (split at truncates),
// each with a deterministic deduplication token, unchanged TOAST values filled from the previous
// version, and events that cannot be stored handed back as dead letters instead of stopping.
import {
  ensureMirrorTable,
  readCurrentValues,
  tombstoneOlderThan,
  WarehouseError,
  type MirrorTable,
  type Warehouse,
} from '../warehouse/index.ts';
import type { ChangeEnvelope, Row, SourceVersion } from './envelope.ts';
import { createDocumentConverter } from './mongo/document-rows.ts';
import { mongoVersion } from './mongo/positions.ts';
import {
  createRowConverter,
  mirrorLineFormat,
  mirrorTableFor,
  type MirrorLineFormat,
  type RowConverter,
} from './mirror-rows.ts';
import { eventNamespace, qualifiedName, type SourceTable } from './source-table.ts';

export interface RejectedEvent {
  envelope: ChangeEnvelope;
  reason: string;
}

export interface WriteResult {
  rowsByMirror: Map<string, number>;
  rejected: RejectedEvent[];
}

interface RegisteredTable {
  source: SourceTable;
  mirror: MirrorTable;
  converter: RowConverter;
  lines: MirrorLineFormat;
}

type Segment = { kind: 'rows'; events: ChangeEnvelope[] } | { kind: 'truncate'; version: SourceVersion };

interface PendingRow {
  envelope: ChangeEnvelope;
  row: Row;
  version: SourceVersion;
  deleted: boolean;
  unavailable: string[] | undefined;
}

/**
 * Where a change sits in its source's order: for Postgres the WAL position of its record, for
 * MongoDB its cluster time (seconds and increment, as one 64-bit number).
 */
export function versionOf(envelope: ChangeEnvelope): SourceVersion | undefined {
  return envelope.source.connector === 'mongodb' ? mongoVersion(envelope.source) : envelope.source.lsn;
}

export class MirrorWriter {
  private readonly tables = new Map<string, RegisteredTable>();

  constructor(private readonly warehouse: Warehouse) {}

  /** Creates or widens the mirror of `table`; returns the columns added to an existing mirror. */
  async register(table: SourceTable): Promise<string[]> {
    const mirror = mirrorTableFor(table);
    const added = await ensureMirrorTable(this.warehouse, mirror);
    this.tables.set(qualifiedName(table), {
      source: table,
      mirror,
      converter: table.document ? createDocumentConverter(table) : createRowConverter(table),
      lines: mirrorLineFormat(mirror),
    });
    return added;
  }

  get mirrors(): MirrorTable[] {
    return [...this.tables.values()].map((table) => table.mirror);
  }

  async write(events: readonly ChangeEnvelope[], tokenBase: string): Promise<WriteResult> {
    const result: WriteResult = { rowsByMirror: new Map(), rejected: [] };
    for (const [name, segments] of this.segmentByTable(events, result.rejected)) {
      const table = this.tables.get(name);
      if (!table) continue;
      let index = 0;
      for (const segment of segments) {
        if (segment.kind === 'truncate') {
          await tombstoneOlderThan(this.warehouse, table.mirror, segment.version);
          continue;
        }
        const rows = this.toMirrorRows(table, segment.events, result.rejected);
        if (rows.some((pending) => pending.unavailable)) await this.fillUnchangedToast(table.mirror, rows);
        const stored = await this.insertIsolatingBadRows(
          table,
          rows,
          `${tokenBase}:${table.mirror.name}:${index++}`,
          result.rejected,
        );
        result.rowsByMirror.set(
          table.mirror.name,
          (result.rowsByMirror.get(table.mirror.name) ?? 0) + stored,
        );
      }
    }
    return result;
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
    rejected: RejectedEvent[],
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
        rejected.push({ envelope: only.envelope, reason: `the warehouse refused the row: ${error.message}` });
        return 0;
      }
      const middle = Math.ceil(rows.length / 2);
      return (
        (await this.insertIsolatingBadRows(table, rows.slice(0, middle), `${token}/a`, rejected)) +
        (await this.insertIsolatingBadRows(table, rows.slice(middle), `${token}/b`, rejected))
      );
    }
  }

  private segmentByTable(
    events: readonly ChangeEnvelope[],
    rejected: RejectedEvent[],
  ): Map<string, Segment[]> {
    const byTable = new Map<string, Segment[]>();
    for (const envelope of events) {
      const name = qualifiedName(eventNamespace(envelope.source));
      if (!this.tables.has(name)) {
        rejected.push({ envelope, reason: `no mirror is registered for ${name}` });
        continue;
      }
      const version = versionOf(envelope);
      if (version === undefined) {
        rejected.push({
          envelope,
          reason: 'the event carries no source position (source.lsn, or source.ts_ms and source.ord)',
        });
        continue;
      }
      let segments = byTable.get(name);
      if (!segments) byTable.set(name, (segments = []));
      if (envelope.op === 't') {
        segments.push({ kind: 'truncate', version });
        continue;
      }
      const last = segments.at(-1);
      if (last?.kind === 'rows') last.events.push(envelope);
      else segments.push({ kind: 'rows', events: [envelope] });
    }
    return byTable;
  }

  private toMirrorRows(
    table: RegisteredTable,
    events: ChangeEnvelope[],
    rejected: RejectedEvent[],
  ): PendingRow[] {
    const rows: PendingRow[] = [];
    const key = table.mirror.key;
    for (const envelope of events) {
      const deleted = envelope.op === 'd';
      const image = deleted ? envelope.before : envelope.after;
      if (!image) {
        rejected.push({ envelope, reason: `op '${envelope.op}' without its row image` });
        continue;
      }
      const converted = table.converter.convert(image);
      if (!converted.ok) {
        rejected.push({ envelope, reason: `${table.mirror.name}: ${converted.reason}` });
        continue;
      }
      if (key.some((column) => converted.row[column] === null || converted.row[column] === undefined)) {
        rejected.push({ envelope, reason: `row key (${key.join(', ')}) is missing` });
        continue;
      }
      rows.push({
        envelope,
        row: converted.row,
        version: versionOf(envelope) ?? 0,
        deleted,
        unavailable: deleted ? undefined : converted.unavailable,
      });
    }
    return rows;
  }

  /**
   * Postgres does not resend a TOASTed value an UPDATE left unchanged; the previous version of the
   * row holds it, either earlier in this batch or already in the mirror.
   */
  private async fillUnchangedToast(mirror: MirrorTable, rows: PendingRow[]): Promise<void> {
    const keyOf = (row: Row): string => JSON.stringify(mirror.key.map((column) => row[column]));
    const seen = new Set<string>();
    const lookups = new Map<string, Row>();
    const columns = new Set<string>();
    for (const { row, unavailable } of rows) {
      const key = keyOf(row);
      if (unavailable && !seen.has(key)) {
        lookups.set(key, row);
        for (const column of unavailable) columns.add(column);
      }
      seen.add(key);
    }
    const current = new Map<string, Row>();
    for (const stored of await readCurrentValues(this.warehouse, mirror, [...lookups.values()], [...columns]))
      current.set(keyOf(stored), stored);
    for (const { row, unavailable } of rows) {
      const key = keyOf(row);
      for (const column of unavailable ?? []) row[column] = current.get(key)?.[column] ?? null;
      current.set(key, row);
    }
  }
}
