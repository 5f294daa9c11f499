import type { CatalogSnapshot, SnapshotTable } from '../db/catalog-snapshot.js';
import { scanTokens } from '../lint/sql-source.js';
import { isToolkitName, toolkitName } from '../naming.js';
import { quoteIdent, quoteQualified } from '../sql.js';
import type { PlannedStatement, PlannedUnit } from './operation.js';
import { alterTable } from './sql-builders.js';

/** An index or constraint of the old column, rebuilt on the new one. */
export interface CarriedObject {
  readonly kind: 'index' | 'unique' | 'foreign key' | 'check';
  /** Its name now, on the old column. */
  readonly from: string;
  /** Its name on the new column during expand. */
  readonly building: string;
  /** Its name after contract: Prisma's convention with the final column name when the old one followed it, else the old name. */
  readonly final: string;
}

/** What carrying a column's dependents over to a new column takes. */
export interface CarriedDependents {
  readonly objects: readonly CarriedObject[];
  /** Expand units (after the new column is filled): index builds `CONCURRENTLY`, constraints `NOT VALID` then `VALIDATE`. */
  readonly expand: readonly PlannedUnit[];
  /** Contract statements (after the old column is dropped, which drops its own dependents): the final names. */
  readonly contract: readonly PlannedStatement[];
  /** Dependents that cannot be carried, each named with the reason. */
  readonly refusals: readonly string[];
}

/** The identifier a token stands for: unquoted and folded as PostgreSQL reads it, or undefined for punctuation. */
function identifierOf(token: { text: string; tokenName: string }): string | undefined {
  if (token.tokenName === 'IDENT' && token.text.startsWith('"')) return token.text.slice(1, -1).replace(/""/g, '"');
  if (/^[A-Za-z_][A-Za-z0-9_$]*$/.test(token.text)) return token.text.toLowerCase();
  return undefined;
}

/**
 * `definition` (as PostgreSQL prints an index or constraint) with every reference to column `from` after
 * character `start` (and before `end`) written as `to`: identifier tokens equal to the column, not
 * qualified (`x.from`) and not called as a function (`from(`), found by PostgreSQL's own scanner. Pure.
 */
export function withColumnRenamed(definition: string, from: string, to: string, start = 0, end = definition.length): string {
  let out = '';
  let at = 0;
  for (const token of columnTokens(definition, from, start, end)) {
    out += definition.slice(at, token.start) + quoteIdent(to);
    at = token.end;
  }
  return out + definition.slice(at);
}

/** The tokens of `definition` between `start` and `end` that reference column `column` (see {@link withColumnRenamed}). Pure. */
function columnTokens(definition: string, column: string, start = 0, end = definition.length): { start: number; end: number }[] {
  const tokens = scanTokens(definition);
  return tokens.filter(
    (token, i) => token.start >= start && token.end <= end && identifierOf(token) === column && tokens[i - 1]?.text !== '.' && tokens[i + 1]?.text !== '(',
  );
}

/** Where the first parenthesised group at or after character `from` of `text` starts and ends. Pure. */
function firstGroup(text: string, from = 0): { start: number; end: number } {
  const tokens = scanTokens(text).filter((t) => t.start >= from);
  const open = tokens.find((t) => t.text === '(');
  let depth = 0;
  for (const token of tokens) {
    if (token.start < (open?.start ?? 0)) continue;
    if (token.text === '(') depth += 1;
    if (token.text === ')' && --depth === 0) return { start: open?.start ?? 0, end: token.end };
  }
  return { start: 0, end: text.length };
}

/** Prisma's name for an index or key of `columns` (`<Table>_<a>_<b>_<suffix>`). Pure. */
function prismaName(table: string, columns: readonly string[], suffix: string): string {
  return `${table}_${columns.join('_')}_${suffix}`;
}

/**
 * Plans how the indexes (unique, partial, expression, multi-column), unique and check constraints and
 * foreign keys of column `from` of `table` are rebuilt on column `building` (filled and kept in sync by the
 * caller's expand), so that uniqueness and references hold at every moment for old and new code, and how
 * they take their final names at contract, when the column is called `finalColumn`. Indexes are built
 * `CONCURRENTLY` (SHARE UPDATE EXCLUSIVE, no write blocked), constraints added `NOT VALID` and then
 * validated. A name that follows Prisma's convention (`Customer_customer_email_key`) becomes the one Prisma
 * expects for the new column (`Customer_email_key`); any other name is kept. Refused, by name: the primary
 * key, exclusion constraints, and foreign keys of other tables that reference the column. Pure.
 */
export function carryDependents(catalog: CatalogSnapshot, table: SnapshotTable, from: string, building: string, finalColumn: string): CarriedDependents {
  const objects: CarriedObject[] = [];
  const expand: PlannedUnit[] = [];
  const contract: PlannedStatement[] = [];
  const refusals: string[] = [];
  const qualified = quoteQualified(table.schema, table.name);
  const names = (name: string, columns: readonly (string | null)[], suffix: string): { building: string; final: string } => {
    const plain = columns.every((c): c is string => c !== null);
    const final = plain && name === prismaName(table.name, columns, suffix) ? prismaName(table.name, columns.map((c) => (c === from ? finalColumn : c)), suffix) : name;
    return { building: final === name ? toolkitName('idx', final) : final, final };
  };
  for (const constraint of table.constraints.filter((c) => c.columns.includes(from))) {
    if (constraint.type === 'p') refusals.push(`primary key "${constraint.name}" (a primary key column cannot be swapped while old code writes; keep its name or migrate the key with a new table)`);
    if (constraint.type === 'x') refusals.push(`exclusion constraint "${constraint.name}"`);
  }
  for (const other of catalog.tables) {
    for (const key of other.constraints.filter((c) => c.type === 'f' && c.referencedTable === qualified)) {
      if (columnTokens(key.definition, from, key.definition.indexOf('REFERENCES')).length > 0) refusals.push(`foreign key "${key.name}" of "${other.schema}"."${other.name}" that references it`);
    }
  }
  // The toolkit's own transient objects (a NOT NULL check, say) are not carried: the caller makes its own.
  for (const index of table.indexes.filter((i) => !isToolkitName(i.name) && (i.references.includes(from) || i.columns.includes(from)))) {
    const constraint = table.constraints.find((c) => c.name === index.constraint);
    if (constraint && constraint.type !== 'u') continue;
    const named = names(index.name, index.columns, index.unique ? 'key' : 'idx');
    const using = index.definition.indexOf(' USING ');
    const rewritten = withColumnRenamed(index.definition, from, building, using < 0 ? 0 : using);
    const nameToken = scanTokens(rewritten).find((t, i, all) => all[i - 1]?.text.toUpperCase() === 'INDEX');
    const body = nameToken ? rewritten.slice(nameToken.end) : rewritten;
    expand.push({
      kind: 'sql',
      name: `carry_index_${named.building}`,
      transactional: false,
      buildsIndex: { schema: table.schema, name: named.building },
      statements: [{ sql: `CREATE ${index.unique ? 'UNIQUE ' : ''}INDEX CONCURRENTLY ${quoteIdent(named.building)}${body}`, lock: 'SHARE UPDATE EXCLUSIVE', scansData: true }],
    });
    if (constraint) {
      const key = names(constraint.name, index.columns, 'key');
      contract.push(alterTable(table.schema, table.name, `ADD CONSTRAINT ${quoteIdent(key.final)} UNIQUE USING INDEX ${quoteIdent(named.building)}`, 'ACCESS EXCLUSIVE'));
      objects.push({ kind: 'unique', from: constraint.name, building: named.building, final: key.final });
    } else {
      if (named.building !== named.final) contract.push({ sql: `ALTER INDEX ${quoteQualified(table.schema, named.building)} RENAME TO ${quoteIdent(named.final)}`, lock: 'SHARE UPDATE EXCLUSIVE', scansData: false });
      objects.push({ kind: 'index', from: index.name, building: named.building, final: named.final });
    }
  }
  for (const constraint of table.constraints.filter((c) => !isToolkitName(c.name) && (c.type === 'f' || c.type === 'c') && c.columns.includes(from))) {
    const isKey = constraint.type === 'f';
    const group = isKey ? firstGroup(constraint.definition) : { start: 0, end: constraint.definition.length };
    // A foreign key's columns in key order, as its definition lists them.
    const keyColumns = isKey ? scanTokens(constraint.definition.slice(group.start, group.end)).map(identifierOf).filter((c): c is string => c !== undefined) : constraint.columns;
    const named = names(constraint.name, keyColumns, isKey ? 'fkey' : 'check');
    const definition = withColumnRenamed(constraint.definition, from, building, group.start, group.end);
    const unit = `carry_${isKey ? 'fk' : 'check'}_${named.building}`;
    expand.push(
      { kind: 'sql', name: `${unit}_add`, transactional: true, statements: [alterTable(table.schema, table.name, `ADD CONSTRAINT ${quoteIdent(named.building)} ${definition} NOT VALID`, isKey ? 'SHARE ROW EXCLUSIVE' : 'ACCESS EXCLUSIVE')] },
      { kind: 'sql', name: `${unit}_validate`, transactional: true, statements: [alterTable(table.schema, table.name, `VALIDATE CONSTRAINT ${quoteIdent(named.building)}`, 'SHARE UPDATE EXCLUSIVE', true)] },
    );
    if (named.building !== named.final) contract.push(alterTable(table.schema, table.name, `RENAME CONSTRAINT ${quoteIdent(named.building)} TO ${quoteIdent(named.final)}`, 'ACCESS EXCLUSIVE'));
    objects.push({ kind: isKey ? 'foreign key' : 'check', from: constraint.name, building: named.building, final: named.final });
  }
  return { objects, expand, contract, refusals };
}
