import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { scanSync } from 'libpg-query';
import { notNullUnits } from '../operations/set-not-null.js';
import type { SqlUnit } from '../operations/operation.js';
import { renderMigrationSql, slug } from '../phases/migration-folders.js';
import { MIGRATION_FILE } from '../prisma/migrations-dir.js';
import { quoteIdent, quoteQualified } from '../sql.js';
import { RULES } from './lint-rules.js';
import { loadSqlParser, parseMigrationSql, type SourceStatement } from './sql-source.js';

/** A statement the rewriter cannot make safe, and why. */
export interface Refusal {
  readonly line: number;
  readonly rule: string;
  readonly reason: string;
}

/** The safe sequence for one migration folder. */
export interface RewriteResult {
  /** Folder names (the original first, then `<original>_02_<label>`, …) with their SQL. */
  readonly folders: readonly { readonly name: string; readonly sql: string }[];
  readonly refusals: readonly Refusal[];
}

type Obj = Record<string, unknown>;
const isObj = (value: unknown): value is Obj => typeof value === 'object' && value !== null && !Array.isArray(value);
const list = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);
const sval = (node: unknown): string => (isObj(node) && isObj(node['String']) ? String(node['String']['sval']) : '');

function relationOf(body: Obj): { schema: string; table: string } {
  const relation = isObj(body['relation']) ? body['relation'] : {};
  return { schema: (relation['schemaname'] as string | undefined) ?? 'public', table: String(relation['relname'] ?? '') };
}

/** Inserts ` CONCURRENTLY` after the INDEX keyword of a CREATE INDEX statement, found by the scanner. Pure. */
function concurrently(statement: string): string {
  const token = scanSync(statement).tokens.find((t) => t.text.toUpperCase() === 'INDEX');
  if (!token) return statement;
  return `${statement.slice(0, token.end)} CONCURRENTLY${statement.slice(token.end)}`;
}

/** The statement without its trailing semicolon. Pure. */
function bare(statement: string): string {
  const trimmed = statement.trim();
  return trimmed.endsWith(';') ? trimmed.slice(0, -1).trimEnd() : trimmed;
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
 * What has no safe form is refused with the reason: a required column with no default needs a value for
 * existing rows; a drop+add pair that looks like a rename needs `renameColumn` expand/contract in a plan;
 * type changes, table renames, VACUUM FULL and CLUSTER are refused too. Pure apart from the parser.
 */
export async function rewriteMigrationSql(sql: string, baseName: string): Promise<RewriteResult> {
  await loadSqlParser();
  const parsed = parseMigrationSql(sql);
  if (!parsed.ok) return { folders: [], refusals: [{ line: parsed.line, rule: 'parse-error', reason: parsed.message }] };
  const units: SqlUnit[] = [];
  const pending: string[] = [];
  const refusals: Refusal[] = [];
  const created = new Set<string>();
  const flush = (): void => {
    if (pending.length === 0) return;
    units.push({ kind: 'sql', name: 'statements', transactional: true, statements: pending.map((text) => ({ sql: bare(text), lock: 'ACCESS EXCLUSIVE', scansData: false })) });
    pending.length = 0;
  };
  const refuse = (statement: SourceStatement, rule: string, reason: string): void => {
    refusals.push({ line: statement.line, rule, reason: `${reason}${RULES[rule] ? `; use ${RULES[rule]?.suggestion}` : ''}` });
  };
  const drops = new Map<string, { statement: SourceStatement; column: string }>();
  for (const statement of parsed.statements) {
    const body = statement.body;
    if (statement.type === 'CreateStmt') {
      const rel = relationOf(body);
      created.add(`${rel.schema}.${rel.table}`);
      pending.push(statement.text);
      continue;
    }
    if (statement.type === 'IndexStmt' && !body['concurrent']) {
      const rel = relationOf(body);
      if (created.has(`${rel.schema}.${rel.table}`)) {
        pending.push(statement.text);
        continue;
      }
      flush();
      units.push(unit(`index_${String(body['idxname'] ?? 'index')}`, concurrently(bare(statement.text)), false, 'SHARE UPDATE EXCLUSIVE', true));
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
      pending.push(statement.text);
      continue;
    }
    const rel = relationOf(body);
    if (created.has(`${rel.schema}.${rel.table}`)) {
      pending.push(statement.text);
      continue;
    }
    const table = quoteQualified(rel.schema, rel.table);
    const cmds = list(body['cmds']).map((item) => (isObj(item) && isObj(item['AlterTableCmd']) ? item['AlterTableCmd'] : {}));
    if (cmds.length !== 1) {
      if (cmds.some((cmd) => ['AT_SetNotNull', 'AT_AlterColumnType', 'AT_AddConstraint'].includes(String(cmd['subtype'])))) {
        refuse(statement, 'multi-action-alter', 'an ALTER TABLE with several actions of which some are unsafe; split it into one action per statement first');
      } else pending.push(statement.text);
      continue;
    }
    const cmd = cmds[0] as Obj;
    const def = isObj(cmd['def']) ? cmd['def'] : {};
    const subtype = String(cmd['subtype']);
    if (subtype === 'AT_SetNotNull') {
      flush();
      units.push(...notNullUnits(rel.schema, rel.table, String(cmd['name'])));
      continue;
    }
    if (subtype === 'AT_AlterColumnType') {
      refuse(statement, 'change-column-type', `"${rel.table}"."${String(cmd['name'])}" changes type`);
      continue;
    }
    if (subtype === 'AT_DropColumn') drops.set(rel.table, { statement, column: String(cmd['name']) });
    if (subtype === 'AT_AddColumn' && isObj(def['ColumnDef'])) {
      const column = def['ColumnDef'];
      const constraints = list(column['constraints']).map((c) => (isObj(c) && isObj(c['Constraint']) ? c['Constraint'] : {}));
      const dropped = drops.get(rel.table);
      if (dropped) {
        refuse(statement, 'rename-column', `dropping "${dropped.column}" and adding "${String(column['colname'])}" on "${rel.table}" looks like a rename; if it is, write step(renameColumn, { table: '${rel.table}', from: '${dropped.column}', to: '${String(column['colname'])}' }) in a phase instead (expand/contract keeps the data)`);
        continue;
      }
      if (constraints.some((c) => c['contype'] === 'CONSTR_NOTNULL') && !constraints.some((c) => c['contype'] === 'CONSTR_DEFAULT')) {
        refuse(statement, 'add-column-not-null-without-default', `"${rel.table}"."${String(column['colname'])}" is required but has no value for existing rows: add it nullable, backfill it (backfillStep), then setNotNull`);
        continue;
      }
    }
    if (subtype === 'AT_AddConstraint' && isObj(def['Constraint'])) {
      const constraint = def['Constraint'];
      const name = String(constraint['conname'] ?? '');
      const notValid = constraint['skip_validation'] === true;
      if ((constraint['contype'] === 'CONSTR_FOREIGN' || constraint['contype'] === 'CONSTR_CHECK') && !notValid) {
        flush();
        units.push(unit(`constraint_${name}`, `${bare(statement.text)} NOT VALID`, true, 'SHARE ROW EXCLUSIVE', false));
        units.push(unit(`validate_${name}`, `ALTER TABLE ${table} VALIDATE CONSTRAINT ${quoteIdent(name)}`, true, 'SHARE UPDATE EXCLUSIVE', true));
        continue;
      }
      if ((constraint['contype'] === 'CONSTR_UNIQUE' || constraint['contype'] === 'CONSTR_PRIMARY') && !constraint['indexname']) {
        const keys = list(constraint['keys']).map(sval);
        const kind = constraint['contype'] === 'CONSTR_PRIMARY' ? 'PRIMARY KEY' : 'UNIQUE';
        flush();
        units.push(unit(`unique_index_${name}`, `CREATE UNIQUE INDEX CONCURRENTLY ${quoteIdent(name)} ON ${table} (${keys.map(quoteIdent).join(', ')})`, false, 'SHARE UPDATE EXCLUSIVE', true));
        units.push(unit(`unique_${name}`, `ALTER TABLE ${table} ADD CONSTRAINT ${quoteIdent(name)} ${kind} USING INDEX ${quoteIdent(name)}`, true, 'ACCESS EXCLUSIVE', false));
        continue;
      }
    }
    pending.push(statement.text);
  }
  flush();
  if (refusals.length > 0) return { folders: [], refusals };
  const folders = units.map((u, i) => ({
    name: i === 0 ? baseName : `${baseName}_${String(i + 1).padStart(2, '0')}_${slug(u.name)}`,
    sql: renderMigrationSql(u, `rewritten from ${baseName} (${i + 1} of ${units.length})`),
  }));
  return { folders, refusals: [] };
}

/** {@link rewriteMigrationSql} for a Prisma migration folder (its `migration.sql`, named after the folder). */
export async function rewriteMigrationFolder(folder: string): Promise<RewriteResult> {
  return rewriteMigrationSql(await readFile(path.join(folder, MIGRATION_FILE), 'utf8'), path.basename(folder));
}
