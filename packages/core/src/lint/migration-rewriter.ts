import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { notNullUnits } from '../operations/set-not-null.js';
import type { SqlUnit } from '../operations/operation.js';
import { renderMigrationSql, slug } from '../phases/migration-folders.js';
import { MIGRATION_FILE, prismaTimestamp } from '../prisma/migrations-dir.js';
import { quoteIdent, quoteLiteral, quoteQualified, quoteTable } from '../sql.js';
import { RULES } from './lint-rules.js';
import { loadSqlParser, parseMigrationSql, scanTokens, type SourceStatement } from './sql-source.js';
import { copyTree, fragmentSql, parsesTo, statementSql } from './sql-tree.js';

/** A statement the rewriter cannot make safe, and why. */
export interface Refusal {
  readonly line: number;
  readonly rule: string;
  readonly reason: string;
  /** For a drop+add pair that looks like a rename: the rename to confirm (pass it back in `renames`). */
  readonly rename?: Required<ConfirmedRename>;
  /** For a required column without a default: the column that needs a value (pass it back in `backfills`). */
  readonly requiredColumn?: { readonly schema: string; readonly table: string; readonly column: string };
}

/** A drop+add pair the user confirmed is a rename of `from` to `to` on `table`. */
export interface ConfirmedRename {
  readonly schema?: string;
  readonly table: string;
  readonly from: string;
  readonly to: string;
}

/** The value (an SQL expression over the table's row, alias `t`) for a required column added without a default. */
export interface RequiredColumnBackfill {
  readonly schema?: string;
  readonly table: string;
  readonly column: string;
  readonly value: string;
}

/** A dropped column the user says is really dropped (not half of a rename). */
export interface IntendedDrop {
  readonly schema?: string;
  readonly table: string;
  readonly column: string;
}

/** What the user told the rewriter about the statements it cannot decide alone. */
export interface RewriteOptions {
  readonly renames?: readonly ConfirmedRename[];
  readonly backfills?: readonly RequiredColumnBackfill[];
  /** Drops that are not renames: an ADD COLUMN after them on the same table is not taken for a rename. */
  readonly drops?: readonly IntendedDrop[];
}

/** The definition an added column declares (its SQL as written), which a confirmed rename must end up with. */
export interface DeclaredColumn {
  /** The type as written (`BIGINT`, `VARCHAR(20)`, `TEXT[]`). */
  readonly type: string;
  readonly notNull: boolean;
  /** The default as written, if any. */
  readonly default?: string;
}

/** A step of the phase that carries the parts of a migration that move data. */
export type RewritePhaseStep =
  | { readonly kind: 'renameColumn'; readonly schema: string; readonly table: string; readonly from: string; readonly to: string; readonly declared: DeclaredColumn }
  | { readonly kind: 'requiredColumn'; readonly schema: string; readonly table: string; readonly column: string; readonly value: string };

/** The safe sequence for one migration folder. */
export interface RewriteResult {
  /** Folder names (the original first, then `<original>_02_<label>`, …) with their SQL. */
  readonly folders: readonly { readonly name: string; readonly sql: string }[];
  readonly refusals: readonly Refusal[];
  /**
   * Steps that need a phase (renames confirmed, required columns with a backfill value), in file order;
   * empty when the folders alone are the safe sequence. {@link renderRewritePhaseModule} writes them as a plan module.
   */
  readonly phaseSteps: readonly RewritePhaseStep[];
}

type Obj = Record<string, unknown>;
const isObj = (value: unknown): value is Obj => typeof value === 'object' && value !== null && !Array.isArray(value);
const list = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);
const sval = (node: unknown): string => (isObj(node) && isObj(node['String']) ? String(node['String']['sval']) : '');

/** The statement's table: its schema (`public` when none is written, for matching), the schema as written, and its name. Pure. */
function relationOf(body: Obj): { schema: string; written: string | undefined; table: string } {
  const relation = isObj(body['relation']) ? body['relation'] : {};
  const written = relation['schemaname'] as string | undefined;
  return { schema: written ?? 'public', written, table: String(relation['relname'] ?? '') };
}

/**
 * The statement's SQL as written, from its first token to its last (trailing comments and the semicolon
 * left out, so a `-- comment` before the `;` cannot swallow what follows it in a folder). Pure apart from
 * the scanner.
 */
function statementText(statement: string): string {
  const tokens = scanTokens(statement).filter((t) => t.tokenName !== 'SQL_COMMENT' && t.tokenName !== 'C_COMMENT');
  while (tokens.at(-1)?.text === ';') tokens.pop();
  const first = tokens[0];
  const last = tokens.at(-1);
  return first && last ? statement.slice(first.start, last.end) : '';
}

/** The column constraints of a `ColumnDef`. Pure. */
function columnConstraints(column: Obj): Obj[] {
  return list(column['constraints']).map((c) => (isObj(c) && isObj(c['Constraint']) ? c['Constraint'] : {}));
}

/** The `ALTER TABLE … ADD COLUMN` tree with the column's NOT NULL taken out, so the column is added nullable. Pure. */
function withoutNotNull(body: Obj): Obj {
  const tree = copyTree(body);
  for (const item of list(tree['cmds'])) {
    const column = isObj(item) && isObj(item['AlterTableCmd']) && isObj(item['AlterTableCmd']['def']) ? item['AlterTableCmd']['def']['ColumnDef'] : undefined;
    if (!isObj(column)) continue;
    column['constraints'] = list(column['constraints']).filter((c) => !(isObj(c) && isObj(c['Constraint']) && c['Constraint']['contype'] === 'CONSTR_NOTNULL'));
    delete column['is_not_null'];
  }
  return tree;
}

/**
 * An `ALTER TABLE` with several actions as one statement per action: the same tree with one command each,
 * printed from the tree (same line as the original). Undefined when a piece does not print back faithfully.
 * Pure apart from the parser.
 */
function splitAlterActions(statement: SourceStatement): SourceStatement[] | undefined {
  const statements: SourceStatement[] = [];
  for (const cmd of list(statement.body['cmds'])) {
    const body = { ...copyTree(statement.body), cmds: [copyTree(cmd as Obj)] };
    const sql = statementSql('AlterTableStmt', body);
    if (sql === undefined) return undefined;
    statements.push({ type: 'AlterTableStmt', body, text: sql, line: statement.line, ignored: statement.ignored });
  }
  return statements;
}

/** The type, NOT NULL and default an `ADD COLUMN` declares, printed from its tree. Pure. */
function declaredColumn(column: Obj): DeclaredColumn {
  const constraints = columnConstraints(column);
  const defaultExpr = constraints.find((c) => c['contype'] === 'CONSTR_DEFAULT')?.['raw_expr'];
  return {
    type: isObj(column['typeName']) ? fragmentSql({ TypeName: column['typeName'] }) : '',
    notNull: constraints.some((c) => c['contype'] === 'CONSTR_NOTNULL'),
    ...(isObj(defaultExpr) ? { default: fragmentSql(defaultExpr) } : {}),
  };
}

/**
 * The name PostgreSQL gives an unnamed constraint (`<table>_pkey`, `<table>_<cols>_key`, `<table>_<cols>_fkey`,
 * `<table>_<col>_check`), shortened to 63 bytes the way its makeObjectName does; the rewriter writes it
 * explicitly, since its later folders must name the constraint. Pure.
 */
function defaultConstraintName(table: string, columns: readonly string[], label: 'pkey' | 'key' | 'fkey' | 'check'): string {
  const name2 = label === 'pkey' ? '' : columns.join('_');
  const available = 63 - (label.length + 1) - (name2 ? 1 : 0);
  let [first, second] = [table.length, name2.length];
  while (first + second > available) {
    if (first > second) first--;
    else second--;
  }
  return [table.slice(0, first), ...(name2 ? [name2.slice(0, second)] : []), label].join('_');
}

/** PostgreSQL names an unnamed CHECK after its column only when it uses exactly one: `<table>_<col>_check`, else `<table>_check`. Pure. */
function checkNameColumns(columns: readonly string[]): string[] {
  return new Set(columns).size === 1 ? [columns[0] as string] : [];
}

/** The column names an expression tree refers to, in order. Pure. */
function columnRefs(node: unknown, out: string[] = []): string[] {
  if (Array.isArray(node)) for (const item of node) columnRefs(item, out);
  else if (isObj(node)) {
    if (isObj(node['ColumnRef'])) {
      const name = list(node['ColumnRef']['fields']).map(sval).at(-1);
      if (name) out.push(name);
    }
    for (const value of Object.values(node)) columnRefs(value, out);
  }
  return out;
}

/**
 * The comment the rewriter puts before the unique index it builds for `ADD CONSTRAINT … UNIQUE`: the original
 * statement fails on duplicates just the same, so the warning adds nothing; if the build fails, drop the
 * INVALID index it leaves (`DROP INDEX CONCURRENTLY`), dedupe and deploy again.
 */
const DUPLICATES_REVIEWED =
  '-- evolve-ignore unique-index-on-duplicates: rewritten from ADD CONSTRAINT, which fails on duplicates too; if this fails, DROP INDEX CONCURRENTLY the INVALID index, dedupe, and deploy again';

/** The tree of `CREATE UNIQUE INDEX CONCURRENTLY` for a UNIQUE or PRIMARY KEY constraint (keys, INCLUDE, NULLS NOT DISTINCT, WITH, tablespace kept). Pure. */
function uniqueIndexTree(relation: unknown, constraint: Obj): Obj {
  const element = (node: unknown): Obj => ({ IndexElem: { name: sval(node), ordering: 'SORTBY_DEFAULT', nulls_ordering: 'SORTBY_NULLS_DEFAULT' } });
  return {
    idxname: constraint['conname'],
    relation: copyTree(relation as Obj),
    accessMethod: 'btree',
    indexParams: list(constraint['keys']).map(element),
    ...(list(constraint['including']).length ? { indexIncludingParams: list(constraint['including']).map(element) } : {}),
    ...(list(constraint['options']).length ? { options: copyTree(list(constraint['options'])) } : {}),
    ...(constraint['indexspace'] ? { tableSpace: constraint['indexspace'] } : {}),
    unique: true,
    ...(constraint['nulls_not_distinct'] ? { nulls_not_distinct: true } : {}),
    concurrent: true,
  };
}

const unit = (name: string, sql: string, transactional: boolean, lock: SqlUnit['statements'][number]['lock'], scansData: boolean): SqlUnit => ({
  kind: 'sql',
  name,
  transactional,
  statements: [{ sql, lock, scansData }],
});

/**
 * Rewrites the SQL of an unsafe migration into the safe sequence, statement by statement.
 * - A plain `CREATE INDEX` becomes `CREATE INDEX CONCURRENTLY`, in a folder of its own.
 * - A validating `FOREIGN KEY` or `CHECK` becomes `… NOT VALID`, with `VALIDATE CONSTRAINT` in a later
 *   folder.
 * - `SET NOT NULL` becomes the check-constraint path (three folders).
 * - `ADD UNIQUE` becomes `CREATE UNIQUE INDEX CONCURRENTLY` followed by `ADD CONSTRAINT … USING INDEX`.
 * - Every other safe statement is kept, grouped into transactional folders.
 *
 * - With `options.backfills`, a required column without a default is added nullable, and `phaseSteps` gets
 *   its backfill and setNotNull; with `options.renames`, a confirmed drop+add pair leaves the SQL and
 *   becomes a renameColumn expand/contract in `phaseSteps`.
 *
 * What has no safe form is refused with the reason (and nothing is written): a required column with no
 * default and no value given; a drop+add pair that looks like a rename, until confirmed (the refusal
 * carries `rename` to pass back); type changes, table renames, VACUUM FULL and CLUSTER. Pure apart from
 * the parser.
 */
export async function rewriteMigrationSql(sql: string, baseName: string, options: RewriteOptions = {}): Promise<RewriteResult> {
  await loadSqlParser();
  const parsed = parseMigrationSql(sql);
  if (!parsed.ok) return { folders: [], refusals: [{ line: parsed.line, rule: 'parse-error', reason: parsed.message }], phaseSteps: [] };
  const units: SqlUnit[] = [];
  const pending: string[] = [];
  const refusals: Refusal[] = [];
  const phaseSteps: RewritePhaseStep[] = [];
  const renamedTables = new Set<string>();
  /** Index and constraint changes, with their table when the SQL names it (a DROP INDEX does not). */
  const dependents: { statement: SourceStatement; table: string | undefined }[] = [];
  const sameTable = (wanted: { schema?: string; table: string }, schema: string, table: string): boolean => wanted.table === table && (wanted.schema ?? 'public') === schema;
  /** Takes a statement back out of the folders being built (a drop that turned out to be half of a rename). */
  const withdraw = (text: string): void => {
    const at = pending.indexOf(text);
    if (at >= 0) {
      pending.splice(at, 1);
      return;
    }
    for (const [i, u] of units.entries()) {
      if (u.kind !== 'sql') continue;
      const kept = u.statements.filter((s) => s.sql !== text);
      if (kept.length !== u.statements.length) units[i] = { ...u, statements: kept };
    }
  };
  const created = new Set<string>();
  const flush = (): void => {
    if (pending.length === 0) return;
    units.push({ kind: 'sql', name: 'statements', transactional: true, statements: pending.map((text) => ({ sql: text, lock: 'ACCESS EXCLUSIVE', scansData: false })) });
    pending.length = 0;
  };
  const refuse = (statement: SourceStatement, rule: string, reason: string, extra: Pick<Refusal, 'rename' | 'requiredColumn'> = {}): void => {
    refusals.push({ line: statement.line, rule, reason: `${reason}${RULES[rule] ? `; use ${RULES[rule]?.suggestion}` : ''}`, ...extra });
  };
  /** The changed tree printed as SQL, or undefined with a refusal when it does not print back to the same tree. */
  const printed = (statement: SourceStatement, tree: Obj): string | undefined => {
    const sql = statementSql(statement.type, tree);
    if (sql === undefined) refuse(statement, 'unprintable-statement', `the rewritten ${statement.type} could not be printed faithfully from its parse tree; write the safe form by hand`);
    return sql;
  };
  /** Columns dropped per table, not yet paired with an added column (in file order: DROP a, DROP b, ADD c, ADD d pairs a→c, b→d). */
  const drops = new Map<string, { statement: SourceStatement; column: string }[]>();
  const queue = [...parsed.statements];
  for (let statement = queue.shift(); statement; statement = queue.shift()) {
    const body = statement.body;
    if (statement.type === 'IndexStmt') {
      const r = relationOf(body);
      if (!created.has(`${r.schema}.${r.table}`)) dependents.push({ statement, table: `${r.schema}.${r.table}` });
    }
    if (statement.type === 'DropStmt' && body['removeType'] === 'OBJECT_INDEX') dependents.push({ statement, table: undefined });
    if (statement.type === 'CreateStmt') {
      const rel = relationOf(body);
      created.add(`${rel.schema}.${rel.table}`);
      pending.push(statementText(statement.text));
      continue;
    }
    if (statement.type === 'IndexStmt' && !body['concurrent']) {
      const rel = relationOf(body);
      if (created.has(`${rel.schema}.${rel.table}`)) {
        pending.push(statementText(statement.text));
        continue;
      }
      flush();
      const sql = printed(statement, { ...copyTree(body), concurrent: true });
      if (sql !== undefined) units.push(unit(`index_${String(body['idxname'] ?? 'index')}`, sql, false, 'SHARE UPDATE EXCLUSIVE', true));
      continue;
    }
    if (statement.type === 'RenameStmt') {
      refuse(statement, body['renameType'] === 'OBJECT_COLUMN' ? 'rename-column' : 'rename-table', 'a rename breaks the code still running');
      continue;
    }
    if (statement.type === 'VacuumStmt' || statement.type === 'ClusterStmt') {
      refuse(statement, statement.type === 'VacuumStmt' ? 'vacuum-full' : 'cluster', 'it rewrites the table under ACCESS EXCLUSIVE');
      continue;
    }
    if (statement.type !== 'AlterTableStmt') {
      pending.push(statementText(statement.text));
      continue;
    }
    const rel = relationOf(body);
    if (created.has(`${rel.schema}.${rel.table}`)) {
      pending.push(statementText(statement.text));
      continue;
    }
    const table = quoteTable(rel.written, rel.table);
    const cmds = list(body['cmds']).map((item) => (isObj(item) && isObj(item['AlterTableCmd']) ? item['AlterTableCmd'] : {}));
    if (cmds.length !== 1) {
      // Prisma writes `DROP COLUMN "a",\nADD COLUMN "b" …` as one statement: judge each action on its own.
      const split = splitAlterActions(statement);
      if (split) queue.unshift(...split);
      else refuse(statement, 'multi-action-alter', 'an ALTER TABLE with several actions that could not be split; write one action per statement');
      continue;
    }
    const cmd = cmds[0] as Obj;
    const def = isObj(cmd['def']) ? cmd['def'] : {};
    const subtype = String(cmd['subtype']);
    if (['AT_AddConstraint', 'AT_DropConstraint', 'AT_AddIndex', 'AT_AddIndexConstraint'].includes(subtype)) dependents.push({ statement, table: `${rel.schema}.${rel.table}` });
    if (subtype === 'AT_SetNotNull') {
      flush();
      units.push(...notNullUnits(rel.written, rel.table, String(cmd['name'])));
      continue;
    }
    if (subtype === 'AT_AlterColumnType') {
      refuse(statement, 'change-column-type', `"${rel.table}"."${String(cmd['name'])}" changes type`);
      continue;
    }
    if (subtype === 'AT_DropColumn') drops.set(`${rel.schema}.${rel.table}`, [...(drops.get(`${rel.schema}.${rel.table}`) ?? []), { statement, column: String(cmd['name']) }]);
    if (subtype === 'AT_AddColumn' && isObj(def['ColumnDef'])) {
      const column = def['ColumnDef'];
      const constraints = columnConstraints(column);
      const added = String(column['colname']);
      const unpaired = drops.get(`${rel.schema}.${rel.table}`) ?? [];
      // A confirmed rename pairs by name with any unpaired drop of the table; suggestions pair in file order.
      const confirmed = options.renames?.find((r) => sameTable(r, rel.schema, rel.table) && r.to === added && unpaired.some((d) => d.column === r.from));
      if (confirmed) {
        const dropped = unpaired.splice(unpaired.findIndex((d) => d.column === confirmed.from), 1)[0] as (typeof unpaired)[number];
        withdraw(statementText(dropped.statement.text));
        renamedTables.add(`${rel.schema}.${rel.table}`);
        phaseSteps.push({ kind: 'renameColumn', schema: rel.schema, table: rel.table, from: dropped.column, to: added, declared: declaredColumn(column) });
        continue;
      }
      const candidateAt = unpaired.findIndex((d) => !options.drops?.some((k) => sameTable(k, rel.schema, rel.table) && k.column === d.column));
      if (candidateAt >= 0) {
        const dropped = unpaired.splice(candidateAt, 1)[0] as (typeof unpaired)[number];
        refuse(statement, 'rename-column', `dropping "${dropped.column}" and adding "${added}" on "${rel.table}" looks like a rename and would lose the column's data; if it is a rename, confirm it (rewrite --rename ${rel.table}.${dropped.column}:${added}) and the pair becomes step(renameColumn, { table: '${rel.table}', from: '${dropped.column}', to: '${added}' }) in a phase (expand/contract keeps the data); if "${dropped.column}" is really to be dropped, say so (rewrite --drop ${rel.table}.${dropped.column})`, {
          rename: { schema: rel.schema, table: rel.table, from: dropped.column, to: added },
        });
        continue;
      }
      if (constraints.some((c) => c['contype'] === 'CONSTR_NOTNULL') && !constraints.some((c) => c['contype'] === 'CONSTR_DEFAULT')) {
        const backfill = options.backfills?.find((b) => sameTable(b, rel.schema, rel.table) && b.column === added);
        if (backfill) {
          const sql = printed(statement, withoutNotNull(body));
          if (sql === undefined) continue;
          pending.push(sql);
          phaseSteps.push({ kind: 'requiredColumn', schema: rel.schema, table: rel.table, column: added, value: backfill.value });
          continue;
        }
        refuse(statement, 'add-column-not-null-without-default', `"${rel.table}"."${String(column['colname'])}" is required but has no value for existing rows: give one (rewrite --backfill ${rel.table}.${added}='<SQL expression>') and it is added nullable, backfilled (backfillStep) and made NOT NULL (setNotNull) in a phase`, {
          requiredColumn: { schema: rel.schema, table: rel.table, column: added },
        });
        continue;
      }
    }
    if (subtype === 'AT_AddConstraint' && isObj(def['Constraint'])) {
      const constraint = def['Constraint'];
      const isForeign = constraint['contype'] === 'CONSTR_FOREIGN';
      const name = String(
        constraint['conname'] ??
          (isForeign || constraint['contype'] === 'CONSTR_CHECK'
            ? defaultConstraintName(rel.table, isForeign ? list(constraint['fk_attrs']).map(sval) : checkNameColumns(columnRefs(constraint['raw_expr'])), isForeign ? 'fkey' : 'check')
            : ''),
      );
      const notValid = constraint['skip_validation'] === true;
      if ((constraint['contype'] === 'CONSTR_FOREIGN' || constraint['contype'] === 'CONSTR_CHECK') && !notValid) {
        const tree = copyTree(body);
        const added = (list(tree['cmds'])[0] as { AlterTableCmd: { def: { Constraint: Obj } } }).AlterTableCmd.def.Constraint;
        added['conname'] = name;
        added['skip_validation'] = true;
        delete added['initially_valid'];
        const sql = printed(statement, tree);
        if (sql === undefined) continue;
        flush();
        units.push(unit(`constraint_${name}`, sql, true, 'SHARE ROW EXCLUSIVE', false));
        units.push(unit(`validate_${name}`, `ALTER TABLE ${table} VALIDATE CONSTRAINT ${quoteIdent(name)}`, true, 'SHARE UPDATE EXCLUSIVE', true));
        continue;
      }
      if ((constraint['contype'] === 'CONSTR_UNIQUE' || constraint['contype'] === 'CONSTR_PRIMARY') && !constraint['indexname']) {
        // The index is named after the constraint; an unnamed one gets the name ADD CONSTRAINT would give it (INCLUDE columns count).
        const named = { ...constraint, conname: name || defaultConstraintName(rel.table, [...list(constraint['keys']), ...list(constraint['including'])].map(sval), constraint['contype'] === 'CONSTR_PRIMARY' ? 'pkey' : 'key') };
        const index = statementSql('IndexStmt', uniqueIndexTree(body['relation'], named));
        // pgsql-deparser lowercases the index name of USING INDEX: this one is written from quoted names, then
        // checked against the tree it must parse to.
        const attachTree = copyTree(body);
        const attachConstraint = { contype: constraint['contype'], conname: named.conname, indexname: named.conname, ...(constraint['deferrable'] ? { deferrable: true } : {}), ...(constraint['initdeferred'] ? { initdeferred: true } : {}) };
        (list(attachTree['cmds'])[0] as { AlterTableCmd: { def: unknown } }).AlterTableCmd.def = { Constraint: attachConstraint };
        const attachSql = `ALTER TABLE ${table} ADD CONSTRAINT ${quoteIdent(named.conname)} ${constraint['contype'] === 'CONSTR_PRIMARY' ? 'PRIMARY KEY' : 'UNIQUE'} USING INDEX ${quoteIdent(named.conname)}${constraint['deferrable'] ? ' DEFERRABLE' : ''}${constraint['initdeferred'] ? ' INITIALLY DEFERRED' : ''}`;
        if (index === undefined || !parsesTo(attachSql, 'AlterTableStmt', attachTree)) {
          refuse(statement, 'unprintable-statement', `the unique index and USING INDEX constraint for "${named.conname}" could not be printed faithfully from the parse tree; write them by hand`);
          continue;
        }
        flush();
        units.push(unit(`unique_index_${named.conname}`, `${DUPLICATES_REVIEWED}\n${index}`, false, 'SHARE UPDATE EXCLUSIVE', true));
        units.push(unit(`unique_${named.conname}`, attachSql, true, 'ACCESS EXCLUSIVE', false));
        continue;
      }
    }
    pending.push(statementText(statement.text));
  }
  flush();
  // renameColumn refuses a column with indexes or constraints, and folders deploy before the phase creates
  // the new column: index and constraint changes of a renamed table belong in migrations of their own.
  if (renamedTables.size > 0) {
    for (const dependent of dependents) {
      if (dependent.table !== undefined && !renamedTables.has(dependent.table)) continue;
      refuse(
        dependent.statement,
        'rename-with-dependents',
        `this index/constraint change ${dependent.table ? `on "${dependent.table.split('.').slice(1).join('.')}"` : ''} shares a migration with a confirmed rename: the folders deploy before the phase adds the new column, and renameColumn refuses columns that carry indexes or constraints; move it into a migration of its own (drop before the rename, recreate on the new column after its contract)`,
      );
    }
  }
  if (refusals.length > 0) return { folders: [], refusals, phaseSteps: [] };
  const kept = units.filter((u) => u.kind !== 'sql' || u.statements.length > 0);
  const folders =
    kept.length === 0
      ? [{ name: baseName, sql: `-- rewritten from ${baseName}: its changes moved to the phase written beside it (prisma-evolve).\n-- This is an empty migration.\n` }]
      : kept.map((u, i) => ({
          name: i === 0 ? baseName : `${baseName}_${String(i + 1).padStart(2, '0')}_${slug(u.name)}`,
          sql: renderMigrationSql(u, `rewritten from ${baseName} (${i + 1} of ${kept.length})`),
        }));
  return { folders, refusals: [], phaseSteps };
}

/** {@link rewriteMigrationSql} for a Prisma migration folder (its `migration.sql`, named after the folder). */
export async function rewriteMigrationFolder(folder: string, options: RewriteOptions = {}): Promise<RewriteResult> {
  return rewriteMigrationSql(await readFile(path.join(folder, MIGRATION_FILE), 'utf8'), path.basename(folder), options);
}

/**
 * The plan module (TypeScript source) for a rewrite's {@link RewriteResult.phaseSteps}: an expand phase
 * `<slug>_expand` (renameColumn expand; a backfill of each required column's value then setNotNull through the
 * check path) and, when there are renames, a contract phase `<slug>_contract` depending on it. It exports
 * `phases`; add them to your plan. Pure; the output is deterministic for the same input.
 */
export function renderRewritePhaseModule(baseName: string, steps: readonly RewritePhaseStep[]): string {
  const name = slug(baseName);
  const literal = (value: string): string => JSON.stringify(value);
  const spec = (fields: Record<string, string>): string =>
    `{ ${Object.entries(fields)
      .map(([key, value]) => `${key}: ${literal(value)}`)
      .join(', ')} }`;
  const where = (schema: string): Record<string, string> => (schema === 'public' ? {} : { schema });
  const expand: string[] = [];
  const contract: string[] = [];
  for (const step of steps) {
    if (step.kind === 'renameColumn') {
      const label = slug(`rename_${step.table}_${step.from}_${step.to}`);
      const operation = `step(renameColumn, ${spec({ ...where(step.schema), table: step.table, from: step.from, to: step.to })})`;
      expand.push(`schemaStep(${literal(label)}, ${operation})`);
      // The new column is created like the old one; the migration may have declared another type or NOT NULL.
      const declared = step.declared;
      if (declared.type) {
        const check =
          `select a.atttypid = pg_typeof(NULL::${declared.type})::oid${declared.notNull ? ' and a.attnotnull' : ''} as ok, ` +
          `format('%I is %s%s; the migration declared ${declared.type.replace(/'/g, "''").replace(/%/g, '%%')}${declared.notNull ? ' NOT NULL' : ''} (add changeColumnType or setNotNull steps after the rename when they differ)', ` +
          `a.attname, format_type(a.atttypid, a.atttypmod), case when a.attnotnull then ' NOT NULL' else '' end) as detail ` +
          `from pg_attribute a where a.attrelid = ${quoteLiteral(quoteQualified(step.schema, step.table))}::regclass and a.attname = ${quoteLiteral(step.to)}`;
        expand.push(`verifySql(${literal(`${label}_as_declared`)}, ${literal(check)})`);
      }
      contract.push(`contractStep(${literal(label)}, ${operation})`);
      if (declared.default !== undefined) {
        const column = `ALTER TABLE ${quoteQualified(step.schema, step.table)} ALTER COLUMN ${quoteIdent(step.to)}`;
        contract.push(
          `schemaStep(${literal(`${label}_default`)}, step(rawSql, { name: ${literal(`${label}_default`)}, up: [${literal(`${column} SET DEFAULT ${declared.default}`)}], down: [${literal(`${column} DROP DEFAULT`)}] }))`,
        );
      }
    } else {
      const label = slug(`${step.table}_${step.column}`);
      expand.push(
        `backfillStep(${literal(`fill_${label}`)}, { ${step.schema === 'public' ? '' : `schema: ${literal(step.schema)}, `}table: ${literal(step.table)}, set: { ${literal(step.column)}: ${literal(step.value)} }, where: ${literal(`t.${quoteIdent(step.column)} IS NULL`)} })`,
        `schemaStep(${literal(`not_null_${label}`)}, step(setNotNull, ${spec({ ...where(step.schema), table: step.table, column: step.column })}))`,
      );
    }
  }
  const used = [...expand, ...contract].join('\n');
  const imports = ['definePhase', 'step', ...['schemaStep', 'contractStep', 'renameColumn', 'backfillStep', 'setNotNull', 'verifySql', 'rawSql'].filter((name) => used.includes(`${name}(`) || used.includes(`(${name},`))];
  // The phases' folders must sort after the rewritten folders (`<timestamp>_…`), one second later, so
  // Prisma replays them in the order they run; fixed ids keep their names when the plan grows.
  const stamp = /^(\d{14})_/.exec(baseName)?.[1];
  const prefix = stamp ? `\n    migrationPrefix: ${literal(nextSecond(stamp))},` : '';
  const phases = [
    `definePhase({\n    name: ${literal(`${name}_expand`)},\n    id: '01',${prefix}\n    description: ${literal(`rewritten from ${baseName}: the steps that move data`)},\n    risk: 'medium',\n    steps: [\n      ${expand.join(',\n      ')},\n    ],\n  })`,
    ...(contract.length
      ? [`definePhase({\n    name: ${literal(`${name}_contract`)},\n    id: '02',${prefix}\n    kind: 'contract',\n    dependsOn: [${literal(`${name}_expand`)}],\n    description: ${literal(`rewritten from ${baseName}: drops the old columns once no code reads them`)},\n    risk: 'medium',\n    steps: [\n      ${contract.join(',\n      ')},\n    ],\n  })`]
      : []),
  ];
  return `/**
 * Written by \`prisma-evolve rewrite\` from the migration ${baseName}: the parts of it that move data,
 * as phases. Deploy the rewritten folders first, then add these phases to your plan's \`phases\`.
 */
import { ${[...new Set(imports)].sort().join(', ')} } from '@prisma-evolve/core';

export const phases = [
  ${phases.join(',\n  ')},
];
`;
}

/** The `yyyyMMddHHmmss` timestamp one second after `stamp` (UTC). Pure. */
function nextSecond(stamp: string): string {
  const [y, mo, d, h, mi, s] = [0, 4, 6, 8, 10, 12].map((at, i) => Number(stamp.slice(at, at + (i === 0 ? 4 : 2))));
  return prismaTimestamp(new Date(Date.UTC(y ?? 0, (mo ?? 1) - 1, d ?? 1, h ?? 0, mi ?? 0, (s ?? 0) + 1)));
}
