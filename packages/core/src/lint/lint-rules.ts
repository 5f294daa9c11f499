import { notNullCheckName } from '../operations/set-not-null.js';
import { checkHazards, fillsEveryRow, HAZARD_RULES } from './lint-hazards.js';
import type { SourceStatement } from './sql-source.js';

/** Severity of a finding: `error` fails `lint` (exit 1), `warning` is reported only. */
export type Severity = 'error' | 'warning';

/** One problem in one statement. */
export interface Finding {
  readonly file: string;
  readonly line: number;
  readonly rule: string;
  readonly severity: Severity;
  readonly message: string;
  readonly suggestion: string;
}

/** Facts read from a live database, when `--database-url` is given. */
export interface LiveFacts {
  /**
   * Estimated rows (`pg_class.reltuples`), `Infinity` when the table has data but was never analyzed (its
   * size is unknown, which is not small), or undefined when the table does not exist there.
   */
  rows(schema: string, table: string): number | undefined;
  /** Current type of a column (`format_type`), or undefined. */
  columnType(schema: string, table: string, column: string): string | undefined;
  /** Volatility of a function by name: `v`olatile, `s`table, `i`mmutable; undefined when unknown. */
  volatility(name: string): string | undefined;
  /** `server_version_num`. */
  readonly version: number;
}

/** Tables below this many rows are graded down from error to warning when live facts are available. */
export const SMALL_TABLE_ROWS = 10_000;

/** A rule: id, default severity, why it matters, and the safe alternative. */
export interface LintRule {
  readonly id: string;
  readonly severity: Severity;
  readonly why: string;
  readonly suggestion: string;
}

type Obj = Record<string, unknown>;
const isObj = (value: unknown): value is Obj => typeof value === 'object' && value !== null && !Array.isArray(value);
const list = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);
const str = (node: unknown): string | undefined => (isObj(node) && isObj(node['String']) ? (node['String']['sval'] as string | undefined) : undefined);

/** Functions known to be volatile, used when no database is given to look volatility up. */
const KNOWN_VOLATILE = new Set(['random', 'gen_random_uuid', 'uuid_generate_v1', 'uuid_generate_v4', 'clock_timestamp', 'timeofday', 'nextval', 'txid_current', 'statement_timestamp', 'setseed']);

/** The core rules, by id. */
const CORE_RULES: Readonly<Record<string, LintRule>> = {
  'create-index-non-concurrent': {
    id: 'create-index-non-concurrent',
    severity: 'error',
    why: 'CREATE INDEX without CONCURRENTLY blocks every write to the table (SHARE lock) until the whole index is built',
    suggestion: 'createIndex (CREATE INDEX CONCURRENTLY in a migration folder of its own)',
  },
  'drop-index-non-concurrent': {
    id: 'drop-index-non-concurrent',
    severity: 'warning',
    why: 'DROP INDEX without CONCURRENTLY takes ACCESS EXCLUSIVE on the table and queues behind every running query',
    suggestion: 'dropIndex (DROP INDEX CONCURRENTLY in a folder of its own)',
  },
  'concurrently-in-transaction': {
    id: 'concurrently-in-transaction',
    severity: 'error',
    why: 'Prisma runs a migration file as one transaction; CREATE/DROP INDEX CONCURRENTLY fails inside a transaction block',
    suggestion: 'put each CONCURRENTLY statement alone in its own migration folder (prisma-evolve rewrite does it)',
  },
  'add-column-not-null-without-default': {
    id: 'add-column-not-null-without-default',
    severity: 'error',
    why: 'adding a NOT NULL column without a default fails on a table with rows',
    suggestion: 'addColumn (nullable), a backfillStep, then setNotNull',
  },
  'volatile-default': {
    id: 'volatile-default',
    severity: 'error',
    why: 'a volatile default (random(), gen_random_uuid(), clock_timestamp()) rewrites every row under ACCESS EXCLUSIVE',
    suggestion: 'addColumn without default, ALTER COLUMN … SET DEFAULT for new rows, then a backfillStep for existing ones',
  },
  'set-not-null': {
    id: 'set-not-null',
    severity: 'error',
    why: 'SET NOT NULL scans the whole table while holding ACCESS EXCLUSIVE',
    suggestion: 'setNotNull (CHECK … NOT VALID, VALIDATE, then SET NOT NULL without a scan)',
  },
  'foreign-key-validating': {
    id: 'foreign-key-validating',
    severity: 'error',
    why: 'adding a foreign key validates every row while blocking writes to both tables',
    suggestion: 'addForeignKey (NOT VALID, then VALIDATE CONSTRAINT in another folder)',
  },
  'check-validating': {
    id: 'check-validating',
    severity: 'error',
    why: 'adding a CHECK constraint scans the table under ACCESS EXCLUSIVE',
    suggestion: 'addCheck (NOT VALID, then VALIDATE CONSTRAINT in another folder)',
  },
  'validate-in-same-transaction': {
    id: 'validate-in-same-transaction',
    severity: 'error',
    why: 'NOT VALID and VALIDATE in one file run in one transaction, so the ACCESS EXCLUSIVE lock of the ADD is held during the validation scan',
    suggestion: 'put VALIDATE CONSTRAINT in a later migration folder (addForeignKey/addCheck do)',
  },
  'unique-without-index': {
    id: 'unique-without-index',
    severity: 'error',
    why: 'ADD UNIQUE/PRIMARY KEY builds its index while blocking writes',
    suggestion: 'addUnique (CREATE UNIQUE INDEX CONCURRENTLY, then ADD CONSTRAINT … USING INDEX)',
  },
  'change-column-type': {
    id: 'change-column-type',
    severity: 'error',
    why: 'changing a column type rewrites the table under ACCESS EXCLUSIVE, unless the change is binary-coercible (varchar growth, varchar to text)',
    suggestion: 'changeColumnType (new column, sync trigger, backfill, swap)',
  },
  'rename-column': {
    id: 'rename-column',
    severity: 'error',
    why: 'renaming a column breaks the application code still running during the deploy',
    suggestion: 'renameColumn (expand/contract: new column kept in sync, contract later)',
  },
  'rename-table': {
    id: 'rename-table',
    severity: 'error',
    why: 'renaming a table breaks the application code still running during the deploy',
    suggestion: 'a new table plus a view, or createTable + backfill + dropTable over two deploys',
  },
  'drop-column': {
    id: 'drop-column',
    severity: 'error',
    why: 'dropping a column loses its data and breaks code that still reads it',
    suggestion: 'dropColumn in a contract phase (backs the values up first), after the code stopped using it',
  },
  'drop-table': {
    id: 'drop-table',
    severity: 'error',
    why: 'dropping a table loses its data at once and breaks the running code that still uses it',
    suggestion: 'dropTable (renames to a backup, purged in a later contract phase)',
  },
  'prefer-jsonb': {
    id: 'prefer-jsonb',
    severity: 'warning',
    why: 'json keeps text and cannot be indexed or compared; jsonb is what Prisma maps Json to',
    suggestion: 'use jsonb (Prisma: Json without @db.Json)',
  },
  'vacuum-full': {
    id: 'vacuum-full',
    severity: 'error',
    why: 'VACUUM FULL rewrites the table under ACCESS EXCLUSIVE',
    suggestion: 'plain VACUUM, or pg_repack outside migrations',
  },
  cluster: {
    id: 'cluster',
    severity: 'error',
    why: 'CLUSTER rewrites the table under ACCESS EXCLUSIVE',
    suggestion: 'pg_repack outside migrations',
  },
  'missing-lock-timeout': {
    id: 'missing-lock-timeout',
    severity: 'warning',
    why: 'without lock_timeout a DDL statement waits for its lock behind long queries while every other query queues behind it',
    suggestion: 'run it through prisma-evolve run (every statement gets lock_timeout and retries), or SET lock_timeout first',
  },
  'enum-value-change': {
    id: 'enum-value-change',
    severity: 'warning',
    why: 'enum values cannot be removed, and an added value cannot be used in the same transaction',
    suggestion: 'addEnumValue (a folder of its own); to remove or rename one, changeEnum',
  },
  'enum-value-rename': {
    id: 'enum-value-rename',
    severity: 'error',
    why: 'renaming an enum value breaks the running code that writes or compares the old value',
    suggestion: 'changeEnum with a map (old and new values both accepted until contract)',
  },
};

/** Every rule, by id: the core ones and the hazards the peers catch. */
export const RULES: Readonly<Record<string, LintRule>> = { ...CORE_RULES, ...HAZARD_RULES };

/** Mutable state while linting one file. */
export interface FileState {
  readonly file: string;
  readonly created: Set<string>;
  readonly notValid: Set<string>;
  /** Constraint names the file drops anywhere (the toolkit's NOT NULL path drops its proving check). */
  readonly dropped: ReadonlySet<string>;
  lockTimeout: boolean;
  /** Whether the file sets statement_timeout. */
  statementTimeout?: boolean;
  readonly statementCount: number;
  readonly facts: LiveFacts | undefined;
  /** Whether the file changes the schema at all (DDL). */
  readonly hasDdl?: boolean;
  /** Views the file creates (`schema.name`): a table renamed with a view under its old name keeps old code working. */
  readonly views?: ReadonlySet<string>;
  /** Columns (`schema.table.column`) the file proves NOT NULL with a `CHECK (col IS NOT NULL)`. */
  readonly notNullChecks?: Set<string>;
}

function tableKey(relation: unknown): { schema: string; table: string; key: string } {
  const rel = isObj(relation) ? relation : {};
  const schema = (rel['schemaname'] as string | undefined) ?? 'public';
  const table = (rel['relname'] as string | undefined) ?? '?';
  return { schema, table, key: `${schema}.${table}` };
}

function functionNames(node: unknown, out: string[] = []): string[] {
  if (Array.isArray(node)) {
    for (const item of node) functionNames(item, out);
    return out;
  }
  if (!isObj(node)) return out;
  for (const [key, value] of Object.entries(node)) {
    if (key === 'FuncCall' && isObj(value)) {
      const names = list(value['funcname']).map(str).filter((n): n is string => n !== undefined);
      const name = names[names.length - 1];
      if (name) out.push(name);
    }
    if (key === 'SQLValueFunction') continue;
    functionNames(value, out);
  }
  return out;
}

function typeName(node: unknown): { name: string; mods: number[] } {
  const type = isObj(node) ? node : {};
  const names = list(type['names']).map(str).filter((n): n is string => n !== undefined);
  const mods = list(type['typmods']).map((mod) => {
    const constant = isObj(mod) && isObj(mod['A_Const']) ? mod['A_Const'] : undefined;
    const ival = constant && isObj(constant['ival']) ? constant['ival']['ival'] : undefined;
    return typeof ival === 'number' ? ival : 0;
  });
  return { name: names[names.length - 1] ?? '?', mods };
}

/** The column a `CHECK (col IS NOT NULL)` proves NOT NULL, or undefined. Pure. */
function notNullColumn(expr: unknown): string | undefined {
  const test = isObj(expr) && isObj(expr['NullTest']) ? expr['NullTest'] : undefined;
  if (!test || test['nulltesttype'] !== 'IS_NOT_NULL') return undefined;
  const ref = isObj(test['arg']) && isObj(test['arg']['ColumnRef']) ? test['arg']['ColumnRef'] : undefined;
  return ref ? str(list(ref['fields']).at(-1)) : undefined;
}

/** Parses `character varying(255)` / `numeric(10,2)` / `text` as format_type prints them. Pure. */
function parseFormatted(type: string): { name: string; mods: number[] } {
  const open = type.indexOf('(');
  const base = (open < 0 ? type : type.slice(0, open)).trim();
  const mods = open < 0 ? [] : type.slice(open + 1, type.indexOf(')')).split(',').map((m) => Number(m.trim()));
  const alias: Record<string, string> = { 'character varying': 'varchar', integer: 'int4', bigint: 'int8', smallint: 'int2', 'timestamp without time zone': 'timestamp', 'timestamp with time zone': 'timestamptz' };
  return { name: alias[base] ?? base, mods };
}

/** Whether changing `from` (format_type) to `to` (parse tree) needs no rewrite. Pure. */
export function isBinaryCoercible(from: string, to: { name: string; mods: number[] }): boolean {
  const old = parseFormatted(from);
  const target = { ...to, name: to.name === 'timestamp' ? 'timestamp' : to.name };
  if (old.name === 'varchar' && target.name === 'text') return true;
  if (old.name === 'varchar' && target.name === 'varchar') return target.mods.length === 0 || (old.mods[0] !== undefined && (target.mods[0] ?? 0) >= old.mods[0]);
  if (old.name === 'numeric' && target.name === 'numeric') return target.mods.length === 0 || ((target.mods[1] ?? 0) === (old.mods[1] ?? 0) && (target.mods[0] ?? 0) >= (old.mods[0] ?? 0));
  if ((old.name === 'timestamp' || old.name === 'timestamptz') && target.name === old.name) return target.mods.length === 0 || (target.mods[0] ?? 0) >= (old.mods[0] ?? 6);
  if (old.name === 'cidr' && target.name === 'inet') return true;
  return false;
}

/** Target types a change to may need no rewrite, depending on the old type. */
const MAYBE_COERCIBLE = new Set(['text', 'varchar', 'numeric', 'timestamp', 'timestamptz', 'inet']);

const LOCKING = new Set(['AlterTableStmt', 'IndexStmt', 'DropStmt', 'RenameStmt', 'ClusterStmt', 'VacuumStmt']);

/** How a statement type reads in SQL, for messages. */
const SQL_NAMES: Readonly<Record<string, string>> = {
  AlterTableStmt: 'ALTER TABLE …',
  IndexStmt: 'CREATE INDEX …',
  DropStmt: 'DROP …',
  RenameStmt: 'ALTER … RENAME …',
  ClusterStmt: 'CLUSTER …',
  VacuumStmt: 'VACUUM …',
};

/**
 * Runs every rule on one statement and returns its findings (before suppression). `state` carries what the
 * file did before (tables it created, constraints added NOT VALID, whether lock_timeout was set). Pure.
 */
export function checkStatement(statement: SourceStatement, state: FileState): Finding[] {
  const findings: Finding[] = [];
  const add = (rule: string, detail: string, table?: { schema: string; table: string }, options: { severity?: Severity; why?: string } = {}): void => {
    const base = RULES[rule];
    if (!base) return;
    let severity = options.severity ?? base.severity;
    let note = '';
    if (table && state.facts) {
      const rows = state.facts.rows(table.schema, table.table);
      // Only a known small size grades an error down: a table never analyzed has an unknown size, which is not small.
      if (rows !== undefined && Number.isFinite(rows) && rows < SMALL_TABLE_ROWS && severity === 'error') {
        severity = 'warning';
        note = ` (table has ~${Math.max(0, Math.round(rows))} rows)`;
      } else if (rows !== undefined) note = Number.isFinite(rows) ? ` (table has ~${Math.round(rows)} rows)` : ' (table size unknown: never analyzed)';
    }
    findings.push({ file: state.file, line: statement.line, rule, severity, message: `${detail}: ${options.why ?? base.why}${note}`, suggestion: base.suggestion });
  };
  const body = statement.body;
  const exists = (key: { schema: string; table: string; key: string }): boolean => {
    if (state.created.has(key.key)) return false;
    if (state.facts) return state.facts.rows(key.schema, key.table) !== undefined;
    return true;
  };
  // CONCURRENTLY builds and drops take SHARE UPDATE EXCLUSIVE, which blocks neither reads nor writes while they wait.
  if (LOCKING.has(statement.type) && !state.lockTimeout && !((statement.type === 'IndexStmt' || statement.type === 'DropStmt') && body['concurrent'])) {
    // Statements on a table this file created cannot wait for anyone.
    if (!isObj(body['relation']) || exists(tableKey(body['relation']))) add('missing-lock-timeout', `${SQL_NAMES[statement.type] ?? statement.type} without lock_timeout`);
  }
  checkHazards(statement, {
    exists: (relation) => exists(tableKey(relation)),
    hasDdl: state.hasDdl === true,
    add: (rule, detail, relation) => add(rule, detail, relation === undefined ? undefined : tableKey(relation)),
  });
  switch (statement.type) {
    case 'VariableSetStmt':
      if (body['name'] === 'lock_timeout') state.lockTimeout = true;
      if (body['name'] === 'statement_timeout') state.statementTimeout = true;
      break;
    case 'CreateStmt': {
      const relation = tableKey(body['relation']);
      state.created.add(relation.key);
      for (const element of list(body['tableElts'])) {
        const column = isObj(element) && isObj(element['ColumnDef']) ? element['ColumnDef'] : undefined;
        if (column && typeName(column['typeName']).name === 'json') add('prefer-jsonb', `column "${String(column['colname'])}" of "${relation.table}" is json`);
      }
      break;
    }
    case 'IndexStmt': {
      const relation = tableKey(body['relation']);
      if (body['concurrent']) {
        if (state.statementCount > 1) add('concurrently-in-transaction', `CREATE INDEX CONCURRENTLY "${String(body['idxname'] ?? '')}" shares its file with ${state.statementCount - 1} other statement(s)`);
      } else if (exists(relation)) add('create-index-non-concurrent', `index "${String(body['idxname'] ?? '')}" on "${relation.table}"`, relation);
      break;
    }
    case 'DropStmt': {
      const kind = body['removeType'];
      if (kind === 'OBJECT_INDEX') {
        if (body['concurrent']) {
          if (state.statementCount > 1) add('concurrently-in-transaction', 'DROP INDEX CONCURRENTLY shares its file with other statements');
        } else add('drop-index-non-concurrent', 'DROP INDEX without CONCURRENTLY');
      }
      if (kind === 'OBJECT_TABLE') add('drop-table', 'DROP TABLE');
      if (kind === 'OBJECT_TYPE') add('enum-value-change', 'DROP TYPE');
      break;
    }
    case 'RenameStmt': {
      const relation = tableKey(body['relation']);
      if (body['renameType'] === 'OBJECT_COLUMN') add('rename-column', `column "${String(body['subname'])}" of "${relation.table}" renamed to "${String(body['newname'])}"`, relation);
      // With a view under the old name created in the same file, old code keeps working: the safe pattern.
      if (body['renameType'] === 'OBJECT_TABLE' && !state.views?.has(relation.key)) add('rename-table', `table "${relation.table}" renamed to "${String(body['newname'])}"`, relation);
      break;
    }
    case 'AlterEnumStmt':
      if (body['oldVal'] !== undefined) add('enum-value-rename', `ALTER TYPE … RENAME VALUE '${String(body['oldVal'])}' TO '${String(body['newVal'])}'`);
      else add('enum-value-change', 'ALTER TYPE … ADD VALUE');
      break;
    case 'VacuumStmt': {
      const full = list(body['options']).some((option) => isObj(option) && isObj(option['DefElem']) && option['DefElem']['defname'] === 'full');
      if (full) add('vacuum-full', 'VACUUM FULL');
      break;
    }
    case 'ClusterStmt':
      add('cluster', 'CLUSTER');
      break;
    case 'AlterTableStmt': {
      const relation = tableKey(body['relation']);
      const existing = exists(relation);
      for (const item of list(body['cmds'])) {
        const cmd = isObj(item) && isObj(item['AlterTableCmd']) ? item['AlterTableCmd'] : undefined;
        if (!cmd) continue;
        const subtype = cmd['subtype'];
        const def = isObj(cmd['def']) ? cmd['def'] : {};
        if (subtype === 'AT_AddColumn' && isObj(def['ColumnDef'])) {
          const column = def['ColumnDef'];
          const constraints = list(column['constraints']).map((c) => (isObj(c) && isObj(c['Constraint']) ? c['Constraint'] : {}));
          const notNull = constraints.some((c) => c['contype'] === 'CONSTR_NOTNULL');
          const defaultExpr = constraints.find((c) => c['contype'] === 'CONSTR_DEFAULT')?.['raw_expr'];
          if (typeName(column['typeName']).name === 'json') add('prefer-jsonb', `column "${String(column['colname'])}" of "${relation.table}" is json`);
          // A SERIAL/identity/generated column has its values: its hazard is the rewrite (add-column-rewrite), not NOT NULL.
          if (existing && notNull && defaultExpr === undefined && !fillsEveryRow(column)) add('add-column-not-null-without-default', `column "${String(column['colname'])}" of "${relation.table}"`, relation);
          if (existing && defaultExpr !== undefined) {
            const volatile = functionNames(defaultExpr).filter((name) => {
              const looked = state.facts?.volatility(name);
              return looked !== undefined ? looked === 'v' : KNOWN_VOLATILE.has(name.toLowerCase());
            });
            if (volatile.length > 0) add('volatile-default', `default of "${String(column['colname'])}" calls ${volatile.join(', ')}()`, relation);
          }
        }
        if (!existing) continue;
        // The toolkit's path proves NOT NULL with a validated check it drops in the same file: no scan.
        if (subtype === 'AT_SetNotNull' && !state.dropped.has(notNullCheckName(relation.table, String(cmd['name']))) && !state.notNullChecks?.has(`${relation.key}.${String(cmd['name'])}`)) {
          add('set-not-null', `"${relation.table}"."${String(cmd['name'])}" SET NOT NULL`, relation);
        }
        if (subtype === 'AT_DropColumn') add('drop-column', `column "${String(cmd['name'])}" of "${relation.table}" dropped`);
        if (subtype === 'AT_AlterColumnType' && isObj(def['ColumnDef'])) {
          const target = typeName(def['ColumnDef']['typeName']);
          const current = state.facts?.columnType(relation.schema, relation.table, String(cmd['name']));
          if (target.name === 'json') add('prefer-jsonb', `column "${String(cmd['name'])}" of "${relation.table}" becomes json`);
          if (!current && MAYBE_COERCIBLE.has(target.name)) {
            // Without the old type the rewrite cannot be decided: say what to check rather than fail.
            add('change-column-type', `"${relation.table}"."${String(cmd['name'])}" changes type to ${target.name}${target.mods.length > 0 ? `(${target.mods.join(',')})` : ''}`, relation, {
              severity: 'warning',
              why: 'no rewrite if the old type is varchar (to text or a longer varchar), a numeric of the same scale, or a timestamp of lower precision; any other old type rewrites the table under ACCESS EXCLUSIVE (lint with --database-url to decide)',
            });
          } else if (!current || !isBinaryCoercible(current, target)) {
            add('change-column-type', `"${relation.table}"."${String(cmd['name'])}" changes type to ${target.name}${current ? ` from ${current}` : ''}`, relation);
          }
        }
        if (subtype === 'AT_AddConstraint' && isObj(def['Constraint'])) {
          const constraint = def['Constraint'];
          const name = String(constraint['conname'] ?? '');
          const notValid = constraint['skip_validation'] === true || constraint['initially_valid'] === false;
          if (constraint['contype'] === 'CONSTR_FOREIGN' && !notValid) add('foreign-key-validating', `foreign key "${name}" on "${relation.table}"`, relation);
          if (constraint['contype'] === 'CONSTR_CHECK' && !notValid) add('check-validating', `check "${name}" on "${relation.table}"`, relation);
          if ((constraint['contype'] === 'CONSTR_UNIQUE' || constraint['contype'] === 'CONSTR_PRIMARY') && !constraint['indexname']) {
            add('unique-without-index', `${constraint['contype'] === 'CONSTR_PRIMARY' ? 'primary key' : 'unique'}${name ? ` "${name}"` : ''} on "${relation.table}"`, relation);
          }
          if (notValid) state.notValid.add(`${relation.key}.${name}`);
          const proven = notNullColumn(constraint['raw_expr']);
          if (constraint['contype'] === 'CONSTR_CHECK' && proven) state.notNullChecks?.add(`${relation.key}.${proven}`);
        }
        if (subtype === 'AT_ValidateConstraint' && state.notValid.has(`${relation.key}.${String(cmd['name'])}`)) {
          add('validate-in-same-transaction', `constraint "${String(cmd['name'])}" is added NOT VALID and validated in the same file`);
        }
      }
      break;
    }
  }
  return findings;
}
