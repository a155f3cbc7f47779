// Small helpers for building ClickHouse SQL safely from names that come from sources.

/** Quotes an identifier with backticks (column and table names come from source schemas). */
export function quoteIdentifier(name: string): string {
  return '`' + name.replace(/\\/g, '\\\\').replace(/`/g, '\\`') + '`';
}

/** A string literal for places where bound parameters are not accepted (DDL defaults, SETTINGS). */
export function quoteString(value: string): string {
  return "'" + value.replace(/\\/g, '\\\\').replace(/'/g, "\\'") + "'";
}

/**
 * A table name as SQL: a `database.table` name (the pipeline's own tables, see bookkeeping.ts)
 * quotes each part; any other name is one identifier (mirror names never hold a dot).
 */
export function quoteTable(name: string): string {
  const qualified = /^([A-Za-z0-9_]+)\.([A-Za-z0-9_]+)$/.exec(name);
  return qualified
    ? `${quoteIdentifier(qualified[1]!)}.${quoteIdentifier(qualified[2]!)}`
    : quoteIdentifier(name);
}
