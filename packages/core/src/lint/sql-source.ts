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
    return { ok: false, line: cursor === undefined ? 1 : lineAt(text, cursor), message: error instanceof Error ? error.message : String(error) };
  }
  const tokens = scanSync(text).tokens;
  const statements: SourceStatement[] = [];
  let previousEnd = 0;
  for (const raw of parsed.stmts ?? []) {
    const stmt = raw.stmt as unknown as Record<string, Record<string, unknown>>;
    const type = Object.keys(stmt)[0] ?? 'Unknown';
    const start = raw.stmt_location ?? 0;
    const end = start + (raw.stmt_len ?? text.length - start);
    const first = tokens.find((token) => token.start >= start && token.tokenName !== 'SQL_COMMENT' && token.tokenName !== 'C_COMMENT');
    const ignored = new Map<string, string>();
    // Comments between the previous statement and this one may hold directives.
    for (const token of tokens) {
      if (token.start < previousEnd || token.start > (first?.start ?? start)) continue;
      if (token.tokenName !== 'SQL_COMMENT' && token.tokenName !== 'C_COMMENT') continue;
      const body = token.text.replace(/^--|^\/\*|\*\/$/g, '').trim();
      if (!body.startsWith('evolve-ignore ')) continue;
      const rest = body.slice('evolve-ignore '.length);
      const colon = rest.indexOf(':');
      const rule = (colon < 0 ? rest : rest.slice(0, colon)).trim();
      ignored.set(rule, colon < 0 ? '' : rest.slice(colon + 1).trim());
    }
    const statementStart = first?.start ?? start;
    statements.push({ type, body: stmt[type] ?? {}, line: lineAt(text, statementStart), text: text.slice(statementStart, end).trim(), ignored });
    previousEnd = end;
  }
  return { ok: true, statements };
}
