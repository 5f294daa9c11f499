import type { LintRule } from './lint-rules.js';
import type { SourceStatement } from './sql-source.js';

/**
 * The hazards squawk, strong_migrations and Atlas catch beyond the core rules of `lint-rules.ts`: rewrites
 * hidden in `ADD COLUMN`, locks of rarer statements, data loss, and what Prisma's own transaction makes unsafe.
 */
export const HAZARD_RULES: Readonly<Record<string, LintRule>> = {
  'add-column-rewrite': {
    id: 'add-column-rewrite',
    severity: 'error',
    why: 'a SERIAL, identity or stored generated column is filled for every existing row: the table is rewritten under ACCESS EXCLUSIVE',
    suggestion: 'addColumn (nullable, no default), a backfillStep, then setNotNull and setDefault (a sequence default applies to new rows only)',
  },
  'exclusion-constraint': {
    id: 'exclusion-constraint',
    severity: 'error',
    why: 'ADD CONSTRAINT … EXCLUDE builds its index while blocking every write, and cannot be added NOT VALID',
    suggestion: 'add it while the table is small or in a maintenance window; there is no online path on PostgreSQL',
  },
  'detach-partition-non-concurrent': {
    id: 'detach-partition-non-concurrent',
    severity: 'error',
    why: 'DETACH PARTITION without CONCURRENTLY takes ACCESS EXCLUSIVE on the parent table',
    suggestion: 'ALTER TABLE … DETACH PARTITION … CONCURRENTLY (PostgreSQL 14+), alone in its own migration folder',
  },
  'reindex-non-concurrent': {
    id: 'reindex-non-concurrent',
    severity: 'error',
    why: 'REINDEX without CONCURRENTLY blocks writes to the table (and reads that use the index) until it ends',
    suggestion: 'REINDEX … CONCURRENTLY (PostgreSQL 12+), alone in its own migration folder',
  },
  'domain-constraint': {
    id: 'domain-constraint',
    severity: 'error',
    why: 'ALTER DOMAIN … ADD CONSTRAINT checks every column of the domain in every table while holding locks on them',
    suggestion: 'add it NOT VALID, then ALTER DOMAIN … VALIDATE CONSTRAINT in a later migration',
  },
  'create-domain-with-constraint': {
    id: 'create-domain-with-constraint',
    severity: 'warning',
    why: 'a domain constraint cannot be changed later without checking every column that uses the domain',
    suggestion: 'a CHECK constraint on the columns (addCheck) is easier to evolve',
  },
  truncate: {
    id: 'truncate',
    severity: 'error',
    why: 'TRUNCATE deletes every row at once under ACCESS EXCLUSIVE (with CASCADE, of the referencing tables too), with no backup',
    suggestion: 'delete in batches (a data step), keeping what goes in a backup table',
  },
  'drop-database': {
    id: 'drop-database',
    severity: 'error',
    why: 'DROP DATABASE destroys every table at once',
    suggestion: 'never in a migration',
  },
  'drop-schema-cascade': {
    id: 'drop-schema-cascade',
    severity: 'error',
    why: 'DROP SCHEMA … CASCADE drops every object in the schema, whatever depends on them',
    suggestion: 'drop the objects one by one, with dropTable (backups) where data is at stake',
  },
  'rename-schema': {
    id: 'rename-schema',
    severity: 'error',
    why: 'renaming a schema breaks every query of the running code that names it',
    suggestion: 'create the new schema and move objects over two deploys',
  },
  'drop-foreign-key': {
    id: 'drop-foreign-key',
    severity: 'warning',
    why: 'dropping a foreign key lets the running code write references to missing rows from then on',
    suggestion: 'drop it only once the code no longer relies on it; dropConstraint can restore it (NOT VALID, VALIDATE)',
  },
  'unbatched-data-change': {
    id: 'unbatched-data-change',
    severity: 'error',
    why: 'an UPDATE or DELETE of the whole table in the same migration as DDL holds the DDL locks for the whole data change',
    suggestion: 'a backfillStep (short batches, resumable) in its own phase step, after the schema change',
  },
  'transaction-control': {
    id: 'transaction-control',
    severity: 'error',
    why: 'Prisma already runs a migration file as one transaction: BEGIN/COMMIT inside it ends that transaction early or nests it',
    suggestion: 'remove the transaction statements; split the file into migrations if parts must commit separately',
  },
  'lock-timeout-without-statement-timeout': {
    id: 'lock-timeout-without-statement-timeout',
    severity: 'warning',
    why: 'lock_timeout bounds the wait for a lock, not the time it is held: a statement that then scans holds it unbounded',
    suggestion: 'SET statement_timeout too (prisma-evolve folders set both)',
  },
  'unique-index-on-duplicates': {
    id: 'unique-index-on-duplicates',
    severity: 'warning',
    why: 'a unique index built on a table that may hold duplicates fails and leaves an INVALID index behind',
    suggestion: 'reportDuplicates, then dedupe (or addUnique with up) before building it',
  },
};

type Obj = Record<string, unknown>;
const isObj = (value: unknown): value is Obj => typeof value === 'object' && value !== null && !Array.isArray(value);
const list = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);

/** What the hazard checks need from the file and the rest of the linter. */
export interface HazardContext {
  /** Whether the table already exists (not created earlier in this file). */
  exists(relation: unknown): boolean;
  /** Whether the file also changes the schema (DDL besides this statement). */
  readonly hasDdl: boolean;
  add(rule: string, detail: string, relation?: unknown): void;
}

/** The column constraints of an `ADD COLUMN` definition. Pure. */
function columnConstraints(column: Obj): Obj[] {
  return list(column['constraints']).map((c) => (isObj(c) && isObj(c['Constraint']) ? c['Constraint'] : {}));
}

/** True when an added column is filled for every row (serial, identity, stored generated). Pure. */
export function fillsEveryRow(column: Obj): boolean {
  const names = list(isObj(column['typeName']) ? column['typeName']['names'] : []).map((n) => (isObj(n) && isObj(n['String']) ? String(n['String']['sval']) : ''));
  if (names.some((n) => /^(small|big)?serial\d?$/.test(n))) return true;
  return columnConstraints(column).some((c) => c['contype'] === 'CONSTR_IDENTITY' || c['contype'] === 'CONSTR_GENERATED');
}

/** Runs the hazard rules on one statement. Pure apart from `context.add`. */
export function checkHazards(statement: SourceStatement, context: HazardContext): void {
  const body = statement.body;
  switch (statement.type) {
    case 'AlterTableStmt': {
      if (!context.exists(body['relation'])) return;
      const table = String((isObj(body['relation']) ? body['relation']['relname'] : '') ?? '');
      for (const item of list(body['cmds'])) {
        const cmd = isObj(item) && isObj(item['AlterTableCmd']) ? item['AlterTableCmd'] : undefined;
        if (!cmd) continue;
        const def = isObj(cmd['def']) ? cmd['def'] : {};
        if (cmd['subtype'] === 'AT_AddColumn' && isObj(def['ColumnDef'])) {
          const column = def['ColumnDef'];
          const name = String(column['colname']);
          if (fillsEveryRow(column)) context.add('add-column-rewrite', `ADD COLUMN "${name}" of "${table}" is filled for every row`, body['relation']);
          for (const constraint of columnConstraints(column)) {
            if (constraint['contype'] === 'CONSTR_FOREIGN') context.add('foreign-key-validating', `ADD COLUMN "${name}" … REFERENCES on "${table}"`, body['relation']);
            if (constraint['contype'] === 'CONSTR_UNIQUE' || constraint['contype'] === 'CONSTR_PRIMARY') {
              context.add('unique-without-index', `ADD COLUMN "${name}" … ${constraint['contype'] === 'CONSTR_PRIMARY' ? 'PRIMARY KEY' : 'UNIQUE'} on "${table}"`, body['relation']);
            }
          }
        }
        if (cmd['subtype'] === 'AT_AddConstraint' && isObj(def['Constraint']) && def['Constraint']['contype'] === 'CONSTR_EXCLUSION') {
          context.add('exclusion-constraint', `ADD CONSTRAINT${def['Constraint']['conname'] ? ` "${String(def['Constraint']['conname'])}"` : ''} EXCLUDE on "${table}"`, body['relation']);
        }
        if (cmd['subtype'] === 'AT_DetachPartition' && !(isObj(def['PartitionCmd']) && def['PartitionCmd']['concurrent'] === true)) {
          context.add('detach-partition-non-concurrent', `ALTER TABLE "${table}" DETACH PARTITION without CONCURRENTLY`, body['relation']);
        }
        // Prisma names foreign keys <Table>_<columns>_fkey: a dropped one is recognised by its name.
        if (cmd['subtype'] === 'AT_DropConstraint' && /_fkey$/.test(String(cmd['name'] ?? ''))) context.add('drop-foreign-key', `ALTER TABLE "${table}" DROP CONSTRAINT "${String(cmd['name'])}"`);
      }
      return;
    }
    case 'ReindexStmt':
      if (!list(body['params']).some((p) => isObj(p) && isObj(p['DefElem']) && p['DefElem']['defname'] === 'concurrently')) context.add('reindex-non-concurrent', 'REINDEX without CONCURRENTLY');
      return;
    case 'AlterDomainStmt':
      if (body['subtype'] === 'C' && !(isObj(body['def']) && isObj(body['def']['Constraint']) && body['def']['Constraint']['skip_validation'] === true)) {
        context.add('domain-constraint', 'ALTER DOMAIN … ADD CONSTRAINT without NOT VALID');
      }
      return;
    case 'CreateDomainStmt':
      if (list(body['constraints']).some((c) => isObj(c) && isObj(c['Constraint']) && c['Constraint']['contype'] === 'CONSTR_CHECK')) context.add('create-domain-with-constraint', 'CREATE DOMAIN … CHECK');
      return;
    case 'TruncateStmt':
      context.add('truncate', `TRUNCATE${body['behavior'] === 'DROP_CASCADE' ? ' … CASCADE' : ''}`);
      return;
    case 'DropdbStmt':
      context.add('drop-database', `DROP DATABASE "${String(body['dbname'])}"`);
      return;
    case 'DropStmt':
      if (body['removeType'] === 'OBJECT_SCHEMA' && body['behavior'] === 'DROP_CASCADE') context.add('drop-schema-cascade', 'DROP SCHEMA … CASCADE');
      return;
    case 'RenameStmt':
      if (body['renameType'] === 'OBJECT_SCHEMA') context.add('rename-schema', `ALTER SCHEMA "${String(body['subname'])}" RENAME TO "${String(body['newname'])}"`);
      return;
    case 'UpdateStmt':
    case 'DeleteStmt':
      if (context.hasDdl && body['whereClause'] === undefined && context.exists(body['relation'])) {
        context.add('unbatched-data-change', `${statement.type === 'UpdateStmt' ? 'UPDATE' : 'DELETE FROM'} "${String(isObj(body['relation']) ? body['relation']['relname'] : '')}" without WHERE, in a migration that also changes the schema`, body['relation']);
      }
      return;
    case 'TransactionStmt':
      context.add('transaction-control', `${String(body['kind'] ?? '').replace('TRANS_STMT_', '')} inside a migration`);
      return;
    case 'IndexStmt':
      if (body['concurrent'] && body['unique'] && context.exists(body['relation'])) {
        context.add('unique-index-on-duplicates', `CREATE UNIQUE INDEX CONCURRENTLY "${String(body['idxname'] ?? '')}" on "${String(isObj(body['relation']) ? body['relation']['relname'] : '')}"`, body['relation']);
      }
      return;
    default:
      return;
  }
}
