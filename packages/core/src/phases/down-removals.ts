import { InvalidArgumentError } from '../errors.js';
import { isToolkitName } from '../naming.js';
import type { SqlUnit } from '../operations/operation.js';
import { loadSqlParser, parseMigrationSql } from '../lint/sql-source.js';

/** A table, or one column of it, that a down statement removes. */
export interface Removal {
  readonly schema: string;
  readonly table: string;
  readonly column?: string;
}

/** What one statement of a down unit removes (from its parse tree), in statement order. */
export interface StatementRemovals {
  readonly sql: string;
  readonly removals: readonly Removal[];
  /** The statement only drops the application tables listed (`DROP TABLE …`): the trash moves replace it. */
  readonly replaceable: boolean;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

function names(list: unknown): string[] {
  const items = isObject(list) && isObject(list['List']) ? list['List']['items'] : undefined;
  return Array.isArray(items) ? items.map((item) => String((item as { String?: { sval?: string } }).String?.sval ?? '')) : [];
}

/**
 * Objects the toolkit keeps for itself (temporary columns, backups in `_evolve`): removing them loses no
 * data of the application, so a rollback drops them as planned.
 */
function isOwnObject(removal: Removal, stateSchemas: ReadonlySet<string>): boolean {
  return stateSchemas.has(removal.schema) || isToolkitName(removal.table) || (removal.column !== undefined && isToolkitName(removal.column));
}

/**
 * Reads, from PostgreSQL's own parse tree, which application tables and columns each statement of `unit`
 * removes: `DROP TABLE` (every table it names) and `ALTER TABLE … DROP COLUMN`. Unqualified names are
 * taken as `public`. The toolkit's own objects (in `stateSchemas`, or named `_evolve_*`) are not listed.
 * A statement PostgreSQL cannot parse is an `InvalidArgumentError` naming the unit. Pure apart from
 * loading the parser.
 */
export async function unitRemovals(unit: SqlUnit, stateSchemas: ReadonlySet<string>): Promise<StatementRemovals[]> {
  await loadSqlParser();
  return unit.statements.map((statement) => {
    const parsed = parseMigrationSql(statement.sql);
    if (!parsed.ok) throw new InvalidArgumentError(`down unit "${unit.name}"`, `cannot parse ${JSON.stringify(statement.sql.slice(0, 80))}: ${parsed.message}`);
    const removals: Removal[] = [];
    let replaceable = false;
    for (const { type, body } of parsed.statements) {
      if (type === 'DropStmt' && body['removeType'] === 'OBJECT_TABLE') {
        replaceable = parsed.statements.length === 1;
        for (const object of Array.isArray(body['objects']) ? body['objects'] : []) {
          const parts = names(object);
          const table = parts.at(-1) ?? '';
          removals.push({ schema: parts.length > 1 ? (parts.at(-2) ?? 'public') : 'public', table });
        }
      } else if (type === 'AlterTableStmt' && isObject(body['relation'])) {
        const relation = body['relation'];
        const schema = typeof relation['schemaname'] === 'string' ? relation['schemaname'] : 'public';
        const table = String(relation['relname'] ?? '');
        for (const command of Array.isArray(body['cmds']) ? body['cmds'] : []) {
          const cmd = isObject(command) && isObject(command['AlterTableCmd']) ? command['AlterTableCmd'] : undefined;
          if (cmd?.['subtype'] === 'AT_DropColumn') removals.push({ schema, table, column: String(cmd['name'] ?? '') });
        }
      }
    }
    const kept = removals.filter((removal) => !isOwnObject(removal, stateSchemas));
    // A DROP TABLE that also names one of our own objects runs as written after the moves (IF EXISTS).
    return { sql: statement.sql, removals: kept, replaceable: replaceable && kept.length === removals.length };
  });
}

/** `"schema"."table"` or `"schema"."table"."column"` for messages. Pure. */
export function describeRemoval(removal: Removal): string {
  return `"${removal.schema}"."${removal.table}"${removal.column === undefined ? '' : `."${removal.column}"`}`;
}
