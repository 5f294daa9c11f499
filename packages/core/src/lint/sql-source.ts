import { loadModule, parseSync, scanSync } from 'libpg-query';

/** A parse-tree node: `{ NodeType: { …fields } }` as libpg_query prints it. */
export type AstNode = Record<string, unknown>;

/** One statement of a migration file. */
export interface SourceStatement {
  /** The node type (`IndexStmt`, `AlterTableStmt`, …) and its fields. */
  readonly type: string;
  readonly body: Record<string, unknown>;
  /** 1-based line of the statement's first token. */
  readonly line: number;
  readonly text: string;
  /** Rules suppressed for this statement by `-- evolve-ignore <rule>: <reason>` just before it. */
  readonly ignored: ReadonlyMap<string, string>;
}

/** A parsed migration file. */
export type ParsedSource = { readonly ok: true; readonly statements: readonly SourceStatement[] } | { readonly ok: false; readonly line: number; readonly message: string };

let ready: Promise<void> | undefined;

/** Loads the PostgreSQL grammar (libpg_query, WebAssembly) once per process. */
export function loadSqlParser(): Promise<void> {
  ready ??= loadModule();
  return ready;
}

/**
 * libpg_query reports offsets in UTF-8 bytes; JavaScript strings index UTF-16 code units. Returns the
 * conversion for `text` (the identity when it is ASCII). Pure.
 */
export function byteToIndex(text: string): (byte: number) => number {
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes === text.length) return (byte) => byte;
  const map = new Int32Array(bytes + 1);
  let byte = 0;
  for (let index = 0; index < text.length; index++) {
    const code = text.codePointAt(index) ?? 0;
    const width = code < 0x80 ? 1 : code < 0x800 ? 2 : code < 0x10000 ? 3 : 4;
    for (let k = 0; k < width; k++) map[byte + k] = index;
    byte += width;
    if (code >= 0x10000) index++; // a surrogate pair is one code point
  }
  map[bytes] = text.length;
  return (offset) => map[Math.max(0, Math.min(offset, bytes))] ?? text.length;
}

/** The scanner's tokens of `text` with `start`/`end` as string indexes (not UTF-8 byte offsets). */
export function scanTokens(text: string): { text: string; start: number; end: number; tokenName: string }[] {
  const at = byteToIndex(text);
  return scanSync(text).tokens.map((t) => ({ text: t.text, start: at(t.start), end: at(t.end), tokenName: t.tokenName }));
}

function lineAt(text: string, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset && i < text.length; i += 1) if (text.charCodeAt(i) === 10) line += 1;
  return line;
}

/**
 * Parses SQL with PostgreSQL's own grammar (call {@link loadSqlParser} first). Comments are read from the
 * scanner's tokens: `-- evolve-ignore <rule>[: reason]` suppresses `<rule>` on the next statement. Pure
 * apart from the parser module.
 */
export function parseMigrationSql(text: string): ParsedSource {
  let parsed;
  try {
    parsed = parseSync(text);
  } catch (error) {
    const cursor = (error as { sqlDetails?: { cursorPosition?: number } }).sqlDetails?.cursorPosition;
    return { ok: false, line: cursor === undefined ? 1 : lineAt(text, byteToIndex(text)(cursor)), message: error instanceof Error ? error.message : String(error) };
  }
  const tokens = scanTokens(text);
  const at = byteToIndex(text);
  const statements: SourceStatement[] = [];
  const isComment = (token: { tokenName: string }): boolean => token.tokenName === 'SQL_COMMENT' || token.tokenName === 'C_COMMENT';
  // One pass over the tokens and the lines for the whole file: statements come in order.
  let cursor = 0;
  let line = 1;
  let lineCounted = 0;
  const lineOf = (offset: number): number => {
    for (; lineCounted < offset && lineCounted < text.length; lineCounted += 1) if (text.charCodeAt(lineCounted) === 10) line += 1;
    return line;
  };
  for (const raw of parsed.stmts ?? []) {
    const stmt = raw.stmt as unknown as Record<string, Record<string, unknown>>;
    const type = Object.keys(stmt)[0] ?? 'Unknown';
    const startByte = raw.stmt_location ?? 0;
    const start = at(startByte);
    const end = raw.stmt_len === undefined || raw.stmt_len === 0 ? text.length : at(startByte + raw.stmt_len);
    const ignored = new Map<string, string>();
    // Comments between the previous statement and this one may hold directives; the first other token starts it.
    let first: { start: number } | undefined;
    for (; cursor < tokens.length; cursor += 1) {
      const token = tokens[cursor] as { text: string; start: number; tokenName: string };
      if (token.start >= start && !isComment(token)) {
        first = token;
        break;
      }
      if (!isComment(token)) continue;
      const body = token.text.replace(/^--|^\/\*|\*\/$/g, '').trim();
      if (!body.startsWith('evolve-ignore ')) continue;
      const rest = body.slice('evolve-ignore '.length);
      const colon = rest.indexOf(':');
      const rule = (colon < 0 ? rest : rest.slice(0, colon)).trim();
      ignored.set(rule, colon < 0 ? '' : rest.slice(colon + 1).trim());
    }
    // The statement's own tokens are not directives: skip past its end.
    while (cursor < tokens.length && (tokens[cursor]?.start ?? 0) < end) cursor += 1;
    const statementStart = first?.start ?? start;
    statements.push({ type, body: stmt[type] ?? {}, line: lineOf(statementStart), text: text.slice(statementStart, end).trim(), ignored });
  }
  return { ok: true, statements };
}
