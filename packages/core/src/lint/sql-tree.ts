import { parseSync } from 'libpg-query';
import { deparseSync } from 'pgsql-deparser';

/**
 * Statements as parse trees: the rewriter changes a statement by setting fields on its libpg_query tree
 * (`concurrent`, `skip_validation`, a removed constraint) and prints the tree back to SQL with
 * pgsql-deparser (MIT, the deparser maintained beside libpg-query for the same tree format), never by
 * splicing text into the statement someone wrote. Every printed statement is parsed again and must give
 * the same tree, so a deparser gap is caught here instead of changing what a migration does.
 */

type Obj = Record<string, unknown>;

/** A statement node `{ NodeType: fields }`. */
export type StatementNode = Readonly<Record<string, Obj>>;

/** Fields holding source positions, which differ between a statement and its reprint. */
const POSITIONS = new Set(['location', 'stmt_location', 'stmt_len', 'list_start', 'list_end']);

/** A protobuf default (false, 0, '', []), which libpg_query's JSON leaves out: the same as no field. Pure. */
const isDefault = (field: unknown): boolean => field === undefined || field === false || field === 0 || field === '' || (Array.isArray(field) && field.length === 0);

/**
 * The tree as canonical JSON (keys sorted) without source positions and default-valued fields, for
 * comparing trees; plain JSON, since the parser's objects may come from another realm than ours. Pure.
 */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (typeof value !== 'object' || value === null) return JSON.stringify(value);
  const fields = Object.entries(value)
    .filter(([key, field]) => !POSITIONS.has(key) && !isDefault(field))
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${fields.map(([key, field]) => `${JSON.stringify(key)}:${canonical(field)}`).join(',')}}`;
}

/**
 * True when `sql` is exactly one statement whose tree is `{ [type]: body }` (positions aside). Requires the
 * parser to be loaded. Pure apart from the parser.
 */
export function parsesTo(sql: string, type: string, body: Obj): boolean {
  try {
    const again = parseSync(sql).stmts ?? [];
    return again.length === 1 && canonical(again[0]?.stmt) === canonical({ [type]: body });
  } catch {
    return false;
  }
}

/** A deep copy of a statement's fields, to change without touching the parsed original. Pure. */
export function copyTree<T extends object>(body: T): T {
  return structuredClone(body);
}

/**
 * The SQL (one line, no trailing semicolon) for the statement `{ [type]: body }`, proven by parsing it again:
 * undefined when the printed SQL does not parse back to the same tree (positions aside), so the caller can
 * refuse instead of writing a statement that means something else. Requires the parser to be loaded
 * ({@link loadSqlParser} in sql-source.ts). Pure apart from the parser.
 */
export function statementSql(type: string, body: Obj): string | undefined {
  const node = { [type]: body };
  let sql: string;
  try {
    sql = deparseSync(node as never, { pretty: false }).trim();
  } catch {
    return undefined;
  }
  if (sql.endsWith(';')) sql = sql.slice(0, -1).trimEnd();
  return parsesTo(sql, type, body) ? sql : undefined;
}

/**
 * The SQL of a fragment of a statement's tree: a `TypeName` (`{ TypeName: … }`) or an expression node.
 * Pure; the caller embeds it where the same grammar applies (a cast, a DEFAULT).
 */
export function fragmentSql(node: Obj): string {
  return deparseSync(node as never, { pretty: false }).trim();
}
