// `tributary query`: runs one SQL statement against a warehouse and prints the result, so the
// embedded engine's data can be read without writing code.
import { openWarehouse, parseWarehouseTarget } from '../../warehouse/index.ts';
import { parseCommandArgs, UsageError } from '../args.ts';

const usage = `Usage: tributary query --warehouse DIR|http(s)://URL [--format FORMAT] 'SQL'

Runs the statement and prints its result in a ClickHouse output format (default PrettyCompact;
JSONEachRow, CSV, TSVWithNames, Parquet… all work).`;

const spec = { usage, options: { warehouse: { type: 'string' }, format: { type: 'string' } } } as const;

export const queryCommand = {
  async run(argv: string[]): Promise<number> {
    const sql = argv.at(-1);
    const { values } = parseCommandArgs(sql && !sql.startsWith('-') ? argv.slice(0, -1) : argv, spec);
    if (values.help) {
      console.log(usage);
      return 0;
    }
    if (values.warehouse === undefined) throw new UsageError('--warehouse is required', usage);
    if (sql === undefined || sql.startsWith('-')) throw new UsageError('the SQL statement is missing', usage);
    if (!/^[A-Za-z]+$/.test(values.format ?? 'PrettyCompact'))
      throw new UsageError('--format must be a ClickHouse format name', usage);
    const warehouse = await openWarehouse(parseWarehouseTarget(values.warehouse));
    try {
      process.stdout.write(await warehouse.queryBytes(sql, values.format ?? 'PrettyCompact'));
      return 0;
    } finally {
      await warehouse.close();
    }
  },
};
