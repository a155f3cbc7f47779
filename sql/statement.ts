// What the endpoint needs to know about a statement before the engine sees it, found by a small
// lexer (strings, quoted names and comments skipped): its kind, its FORMAT, where an INSERT's data
// starts, where per-query settings go, and whether it is more than one statement.

export interface StatementShape {
  /** The statement without trailing `;` and blanks (and, for an INSERT with inline data, without the data). */
  text: string;
  /** First keyword, upper-cased (`SELECT`, `WITH`, `INSERT`, `SHOW`…); `(` counts as SELECT. */
  kind: string;
  /** The output (or, for INSERT, input) format named in the statement's FORMAT clause. */
  format: string | undefined;
  /** An INSERT's inline data after `FORMAT name` (the rest of the text), if any. */
  inlineData: string | undefined;
  /** True when a second statement follows a `;`. */
  multiStatement: boolean;
  /** Adds `name = value` settings where this statement takes them (values already SQL literals). */
  withSettings(settings: ReadonlyArray<readonly [string, string]>): string;
  /** Where the statement's own `FORMAT name` clause starts in `text` (SELECT-like statements). */
  formatAt: number | undefined;
}

interface Token {
  kind: 'word' | 'quoted' | 'string' | 'number' | 'symbol';
  text: string;
  start: number;
  end: number;
  depth: number;
}

export class StatementSyntaxError extends Error {}

/** Scans `sql`; for an INSERT it stops at the data after `FORMAT name`, which is not SQL. */
export function describeStatement(sql: string): StatementShape {
  const tokens: Token[] = [];
  let depth = 0;
  let i = 0;
  let inlineDataAt: number | undefined;
  let semicolonAt: number | undefined;
  let multiStatement = false;
  const n = sql.length;
  while (i < n) {
    const c = sql[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if ((c === '-' && sql[i + 1] === '-') || c === '#') {
      while (i < n && sql[i] !== '\n') i++;
      continue;
    }
    if (c === '/' && sql[i + 1] === '*') {
      const close = sql.indexOf('*/', i + 2);
      i = close < 0 ? n : close + 2;
      continue;
    }
    if (semicolonAt !== undefined) {
      if (c !== ';') multiStatement = true;
      i++;
      continue;
    }
    const start = i;
    if (c === "'" || c === '"' || c === '`') {
      i++;
      while (i < n && sql[i] !== c) i += sql[i] === '\\' ? 2 : 1;
      if (i >= n) throw new StatementSyntaxError(`unterminated ${c === "'" ? 'string' : 'quoted name'}`);
      i++;
      tokens.push({ kind: c === "'" ? 'string' : 'quoted', text: sql.slice(start, i), start, end: i, depth });
      continue;
    }
    if (/[A-Za-z_]/.test(c)) {
      while (i < n && /[A-Za-z0-9_$]/.test(sql[i]!)) i++;
      tokens.push({ kind: 'word', text: sql.slice(start, i), start, end: i, depth });
      if (isInsertData(tokens)) {
        inlineDataAt = i;
        break;
      }
      continue;
    }
    if (/[0-9]/.test(c)) {
      while (i < n && /[0-9A-Za-z_.]/.test(sql[i]!)) i++;
      tokens.push({ kind: 'number', text: sql.slice(start, i), start, end: i, depth });
      continue;
    }
    if (c === ';') {
      semicolonAt = i;
      i++;
      continue;
    }
    if (c === '(' || c === '[') depth++;
    if (c === ')' || c === ']') depth--;
    i++;
    tokens.push({ kind: 'symbol', text: c, start, end: i, depth });
  }

  const first = tokens[0];
  const kind = first === undefined ? '' : first.text === '(' ? 'SELECT' : first.text.toUpperCase();
  const endOfText = inlineDataAt ?? semicolonAt ?? tokens.at(-1)?.end ?? 0;
  const text = sql.slice(0, endOfText).trimEnd();
  let inlineData: string | undefined;
  if (inlineDataAt !== undefined) {
    // One blank (usually the newline) separates the FORMAT clause from the data.
    const rest = sql.slice(inlineDataAt);
    inlineData = rest.replace(/^[ \t]*\r?\n|^[ \t]/, '');
    if (inlineData.trim() === '') inlineData = undefined;
  }

  const isWord = (token: Token | undefined, word: string) =>
    token?.kind === 'word' && token.depth === 0 && token.text.toUpperCase() === word;
  let format: string | undefined;
  let formatAt: number | undefined;
  let settingsClause: Token | undefined;
  let insertClauseAt: number | undefined;
  if (kind === 'INSERT') {
    const at = tokens.findIndex(
      (token, index) =>
        index > 0 && ['FORMAT', 'VALUES', 'SELECT', 'WITH'].some((word) => isWord(token, word)),
    );
    if (at > 0) {
      insertClauseAt = tokens[at]!.start;
      if (isWord(tokens[at], 'FORMAT')) format = tokens[at + 1]?.text;
    }
  } else {
    for (let t = 1; t < tokens.length; t++) {
      const token = tokens[t]!;
      // `SETTINGS name =` opens the clause; `system.settings` or a column named settings does not.
      if (isWord(token, 'SETTINGS') && tokens[t - 1]?.text !== '.' && tokens[t + 2]?.text === '=') {
        settingsClause = token;
      } else if (
        isWord(token, 'FORMAT') &&
        tokens[t - 1]?.text !== '.' &&
        (tokens[t + 1]?.kind === 'word' || tokens[t + 1]?.kind === 'quoted') &&
        (t + 2 === tokens.length || isWord(tokens[t + 2], 'SETTINGS'))
      ) {
        format = tokens[t + 1]!.text.replace(/^[`"]|[`"]$/g, '');
        formatAt = token.start;
        settingsClause = undefined;
      }
    }
  }

  return {
    text,
    kind,
    format,
    inlineData,
    multiStatement,
    formatAt,
    withSettings(settings) {
      if (settings.length === 0) return text;
      const list = settings.map(([name, value]) => `${name} = ${value}`).join(', ');
      if (insertClauseAt !== undefined)
        return `${text.slice(0, insertClauseAt)}SETTINGS ${list} ${text.slice(insertClauseAt)}`;
      // A trailing SETTINGS clause is extended; otherwise one is added (after FORMAT is allowed).
      if (settingsClause !== undefined) return `${text}, ${list}`;
      return `${text}\nSETTINGS ${list}`;
    },
  };
}

/** `INSERT … FORMAT name` has just been read: what follows is data in that format. */
function isInsertData(tokens: readonly Token[]): boolean {
  const last = tokens.length - 1;
  if (last < 2 || tokens[0]!.text.toUpperCase() !== 'INSERT') return false;
  const before = tokens[last - 1]!;
  return before.kind === 'word' && before.depth === 0 && before.text.toUpperCase() === 'FORMAT';
}
