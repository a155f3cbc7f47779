// The document side of the simulation: writes to the shop's collections, buffered like the SQL and
// sent in order (one ordered bulk write per collection) after the SQL of the same chunk, as a
// service writes its own store once the user's action committed. Without a database to write to,
// nothing is kept, but the same values are drawn, so the Postgres history does not depend on it.
import type { AnyBulkWriteOperation, Db, Document, UpdateFilter } from 'mongodb';

export class DocumentBuffer {
  private readonly pending = new Map<string, AnyBulkWriteOperation[]>();
  private count = 0;
  /** Writes of every kind, for the summary. */
  written = 0;

  constructor(private readonly enabled: boolean) {}

  get pendingCount(): number {
    return this.count;
  }

  insert(collection: string, document: Document): void {
    this.push(collection, { insertOne: { document } });
  }

  update(collection: string, filter: Document, update: UpdateFilter<Document>): void {
    this.push(collection, { updateOne: { filter, update } });
  }

  delete(collection: string, filter: Document): void {
    this.push(collection, { deleteOne: { filter } });
  }

  async flush(db: Db | undefined): Promise<void> {
    const batches = [...this.pending];
    this.pending.clear();
    this.count = 0;
    if (!db) return;
    for (const [collection, operations] of batches)
      await db.collection(collection).bulkWrite(operations, { ordered: true });
  }

  private push(collection: string, operation: AnyBulkWriteOperation): void {
    this.written += 1;
    if (!this.enabled) return;
    const operations = this.pending.get(collection) ?? [];
    operations.push(operation);
    this.pending.set(collection, operations);
    this.count += 1;
  }
}
