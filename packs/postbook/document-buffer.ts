// The simulator's MongoDB writes, buffered per collection in the order the app makes them and
// written in ordered bulk batches, so one round trip carries many documents.
import type { AnyBulkWriteOperation, Db, Document } from 'mongodb';

export class DocumentBuffer {
  private readonly pending = new Map<string, AnyBulkWriteOperation[]>();
  private count = 0;
  /** Operations of every kind, per collection, for the summary. */
  readonly written = new Map<string, number>();

  get pendingCount(): number {
    return this.count;
  }

  insert(collection: string, document: Document): void {
    this.push(collection, { insertOne: { document } });
  }

  update(collection: string, filter: Document, update: Document): void {
    this.push(collection, { updateOne: { filter, update } });
  }

  updateMany(collection: string, filter: Document, update: Document): void {
    this.push(collection, { updateMany: { filter, update } });
  }

  delete(collection: string, filter: Document): void {
    this.push(collection, { deleteOne: { filter } });
  }

  deleteMany(collection: string, filter: Document): void {
    this.push(collection, { deleteMany: { filter } });
  }

  /** Writes what is buffered (nothing without a database), collection by collection, each in order. */
  async flush(db: Db | undefined): Promise<void> {
    if (db)
      for (const [collection, operations] of this.pending)
        if (operations.length > 0) await db.collection(collection).bulkWrite(operations, { ordered: true });
    this.pending.clear();
    this.count = 0;
  }

  private push(collection: string, operation: AnyBulkWriteOperation): void {
    let operations = this.pending.get(collection);
    if (!operations) this.pending.set(collection, (operations = []));
    operations.push(operation);
    this.count++;
    this.written.set(collection, (this.written.get(collection) ?? 0) + 1);
  }
}
