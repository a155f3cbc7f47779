// The rows of a whole result, for the X-ClickHouse-Summary of a result answered in one engine call.

/** Rows of a result in a format with one line per row (headers left out; CSV may quote newlines); else undefined. */
export function countRows(format: string, bytes: Buffer): number | undefined {
  const lineFormat =
    /^((TabSeparated|TSV)(Raw)?|JSON(Compact)?(Strings)?EachRow|JSONLines|NDJSON)(WithNames(AndTypes)?)?$/.exec(
      format,
    );
  if (!lineFormat) return undefined;
  let lines = 0;
  for (let at = bytes.indexOf(0x0a); at >= 0; at = bytes.indexOf(0x0a, at + 1)) lines++;
  if (bytes.length > 0 && bytes[bytes.length - 1] !== 0x0a) lines++;
  const header = lineFormat[7] ? 2 : lineFormat[6] ? 1 : 0;
  return Math.max(0, lines - header);
}
