// `sql` jobs: a user's own SELECT, written into a table they name, for simple scheduled rollups.
// The rows carry the run's day in `as_of`; a run first removes that day's rows, so running a
// scheduled time again replaces its rows instead of doubling them. The SELECT may use the bound
// parameters {as_of:Date} and {scheduled_for:DateTime64(3)}.
import { z } from 'zod';
import { quoteIdentifier } from '../../warehouse/index.ts';
import { defineJobKind } from '../kinds.ts';

export const sqlJobKind = defineJobKind({
  name: 'sql',
  options: z.strictObject({
    sql: z
      .string()
      .min(1)
      .refine(
        (sql) => /^\s*(SELECT|WITH)\b/i.test(sql) && !/;\s*\S/.test(sql),
        'must be one SELECT statement',
      ),
    table: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,100}$/, 'must be a table name (letters, digits and _)'),
  }),
  async run(options, context) {
    const table = quoteIdentifier(options.table);
    const select = options.sql.trim().replace(/;\s*$/, '');
    const params = { as_of: context.asOfDay, scheduled_for: context.scheduledFor.getTime() / 1000 };
    const source = `SELECT {as_of:Date} AS as_of, * FROM (${select})`;
    if (context.dryRun) {
      const [row] = await context.warehouse.query<{ n: string }>(
        `SELECT count() AS n FROM (${source})`,
        params,
      );
      return {
        rowsAffected: 0,
        summary: `would write ${row?.n ?? 0} row(s) for ${context.asOfDay} into ${options.table}`,
      };
    }
    await context.warehouse.command(
      `CREATE TABLE IF NOT EXISTS ${table} ENGINE = MergeTree ORDER BY as_of EMPTY AS ${source}`,
      params,
    );
    await context.warehouse.command(`DELETE FROM ${table} WHERE as_of = {as_of:Date}`, params);
    await context.warehouse.command(`INSERT INTO ${table} ${source}`, params);
    const [row] = await context.warehouse.query<{ n: string }>(
      `SELECT count() AS n FROM ${table} WHERE as_of = {as_of:Date}`,
      params,
    );
    return { rowsAffected: Number(row?.n ?? 0) };
  },
});
