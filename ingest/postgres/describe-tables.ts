// The shapes of a source's tables as the mirrors need them, read from its catalog. Used where
// the changes themselves carry no types: Debezium's schemaless JSON on Kafka.
import type { PiiPolicy } from '../pii.ts';
import type { SourceTable } from '../source-table.ts';
import { checkLogicalReplication, connectSource, readCatalog, type TableSelection } from './catalog.ts';
import { createTableCodec } from './table-codec.ts';

export interface DescribeOptions {
  sourceUrl: string;
  sourceName: string;
  tables: TableSelection;
  pii: PiiPolicy;
  warn?: (message: string) => void;
}

export async function describeSourceTables(options: DescribeOptions): Promise<SourceTable[]> {
  const client = await connectSource(options.sourceUrl);
  try {
    const { serverVersion } = await checkLogicalReplication(client);
    const catalog = await readCatalog(client, options.tables);
    return catalog.tables.map(
      (table) =>
        createTableCodec({
          source: options.sourceName,
          schema: table.schema,
          table: table.table,
          ...(table.comment !== undefined && { comment: table.comment }),
          columns: table.columns,
          key: table.key,
          fullIdentity: table.fullIdentity,
          rowIdentity: table.rowIdentity,
          pii: options.pii,
          generatedColumnsStreamed: serverVersion >= 180000,
          onUnknownType: (type) =>
            options.warn?.(`type ${type} is not known to Tributary; its values are kept as text`),
          onSkippedColumn: (column, reason) =>
            options.warn?.(`${table.schema}.${table.table}.${column} is not mirrored: ${reason}`),
        }).table,
    );
  } finally {
    await client.end();
  }
}
