// Small helpers for building ClickHouse SQL safely from names that come from sources.

/** Quotes an identifier with backticks (column and table names come from source schemas). */
export function quoteIdentifier(name: string): string {
  return '`' + name.replace(/\\/g, '\\\\').replace(/`/g, '\\`') + '`';
}

/** A string literal for places where bound parameters are not accepted (DDL defaults, SETTINGS). */
export function quoteString(value: string): string {
  return "'" + value.replace(/\\/g, '\\\\').replace(/'/g, "\\'") + "'";
}
