import { z } from 'zod';
import { DEFAULT_LOCK_TIMEOUT_MS, DEFAULT_STATEMENT_TIMEOUT_MS } from '../db/retry-policy.js';
import { indexCoversColumns, requireColumn, requireTable } from '../db/catalog-snapshot.js';
import { InvalidArgumentError } from '../errors.js';
import { backupTable, type BackupTable } from '../naming.js';
import { quoteIdent, quoteLiteral, quoteQualified } from '../sql.js';
import { runBatchedStatement } from './batched-statement.js';
import type { Operation, PlannedUnit } from './operation.js';
import { prismaStyleName } from './operation.js';
import { checkRepairTrigger, dropRepairTrigger, repairRowsUnit, repairTriggerUnit, type RuleRepair } from './rule-repair.js';
import { alterTable, checkConstraint, columnList, countWithSamples, createIndexConcurrentlyUnit, dropIndexConcurrentlyUnit, identifier, primaryKeyOf, schemaField, sqlFragment } from './sql-builders.js';

/** A referential action (`ON DELETE` / `ON UPDATE`). */
export const referentialAction = z.enum(['CASCADE', 'SET NULL', 'SET DEFAULT', 'RESTRICT', 'NO ACTION']);
const action = referentialAction;

/**
 * Spec of `addForeignKey`. `orphans` says what to do with rows whose reference is missing:
 * - `fail` (default): stop and report them.
 * - `set-null`: null the reference.
 * - `delete`: delete the rows.
 * Rows that are nulled or deleted are copied to a backup table first, so down can restore them.
 */
export const addForeignKeySpec = z
  .object({
    schema: schemaField,
    table: identifier,
    columns: z.array(identifier).min(1),
    references: z.object({ schema: z.string().min(1).optional(), table: identifier, columns: z.array(identifier).min(1) }).strict(),
    name: identifier.optional(),
    onDelete: action.optional(),
    onUpdate: action.optional(),
    orphans: z.enum(['fail', 'set-null', 'delete']).default('fail'),
    index: z.boolean().default(true),
    /** SQL over the row giving the reference a row takes when it points nowhere (old code's writes until contract, and the existing orphans). */
    up: sqlFragment.optional(),
  })
  .strict()
  .refine((spec) => spec.columns.length === spec.references.columns.length, { path: ['references', 'columns'], message: 'must have as many columns as "columns"' })
  .refine((spec) => spec.up === undefined || spec.columns.length === 1, { path: ['up'], message: 'needs a single-column foreign key' })
  .refine((spec) => spec.up === undefined || spec.orphans === 'fail', { path: ['up'], message: '`up` repairs the orphans itself: leave `orphans` out' });
export type AddForeignKeySpec = z.infer<typeof addForeignKeySpec>;

/** With `up`: the repair of rows that point nowhere (`column` set to `up`). Pure. */
function repairOf(spec: AddForeignKeySpec): RuleRepair | undefined {
  const column = spec.columns[0];
  if (spec.up === undefined || column === undefined) return undefined;
  const target = quoteQualified(spec.references.schema ?? spec.schema, spec.references.table);
  const referenced = quoteIdent(spec.references.columns[0] ?? '');
  return {
    schema: spec.schema,
    table: spec.table,
    rule: foreignKeyName(spec),
    column,
    up: spec.up,
    broken: (alias) => `(${alias}.${quoteIdent(column)} IS NOT NULL AND NOT EXISTS (SELECT 1 FROM ${target} evolve_ref WHERE evolve_ref.${referenced} = ${alias}.${quoteIdent(column)}))`,
  };
}

/** The constraint name (Prisma's `<Table>_<columns>_fkey`). Pure. */
export function foreignKeyName(spec: AddForeignKeySpec): string {
  return spec.name ?? prismaStyleName(spec.table, spec.columns, 'fkey', 'addForeignKey.name');
}

/** Backup table of the orphans an `addForeignKey` nulled or deleted, in the `_evolve` schema. Pure. */
export function orphanBackupName(spec: AddForeignKeySpec): BackupTable {
  return backupTable(spec.schema, foreignKeyName(spec), 'orphans');
}

function orphanPredicate(spec: AddForeignKeySpec, alias: string): string {
  const refSchema = spec.references.schema ?? spec.schema;
  const present = spec.columns.map((c) => `${alias}.${quoteIdent(c)} IS NOT NULL`).join(' AND ');
  const match = spec.columns.map((c, i) => `r.${quoteIdent(spec.references.columns[i] ?? '')} = ${alias}.${quoteIdent(c)}`).join(' AND ');
  return `(${present} AND NOT EXISTS (SELECT 1 FROM ${quoteQualified(refSchema, spec.references.table)} r WHERE ${match}))`;
}

/**
 * Adds a foreign key without blocking writes for the validation scan.
 *
 * Precheck: counts the orphans and lists sample keys. With `orphans: 'fail'` it stops there.
 *
 * Steps:
 * 1. Optionally, an index on the referencing columns (`CREATE INDEX CONCURRENTLY`), unless an index
 *    already starts with them.
 * 2. `ADD CONSTRAINT … NOT VALID`: SHARE ROW EXCLUSIVE on both tables, brief, no scan. From here on no
 *    new orphan can be written.
 * 3. Orphans are nulled or deleted in short batches, each copied to a backup table first. Deleting is
 *    refused when it would cascade into other tables.
 * 4. `VALIDATE CONSTRAINT`: SHARE UPDATE EXCLUSIVE on the table while it scans.
 *
 * Down drops the constraint, restores the backed-up orphans and drops the index it built.
 *
 * With `up` (single-column keys), old code that still writes references to missing rows keeps working: a
 * trigger, added first, sets the reference to `up` (SQL over the row, e.g. `NULL` or a catch-all parent's
 * id) on every write that points nowhere; the existing orphans are repaired in batches after `NOT VALID`.
 * The trigger goes at contract, from when on such a write is refused. Repaired values stay on rollback.
 */
export const addForeignKey = {
  kind: 'addForeignKey',
  spec: addForeignKeySpec,
  describe: (spec) =>
    `add foreign key "${foreignKeyName(spec)}" "${spec.table}" (${spec.columns.join(', ')}) -> "${spec.references.table}" (${spec.references.columns.join(', ')}); orphans: ${spec.orphans}`,
  plan(spec, catalog) {
    const table = requireTable(catalog, spec.schema, spec.table);
    for (const column of spec.columns) requireColumn(table, column, 'addForeignKey.columns');
    const refSchema = spec.references.schema ?? spec.schema;
    const referenced = requireTable(catalog, refSchema, spec.references.table);
    for (const column of spec.references.columns) requireColumn(referenced, column, 'addForeignKey.references.columns');
    const name = foreignKeyName(spec);
    if (table.constraints.some((c) => c.name === name)) throw new InvalidArgumentError('addForeignKey.name', `constraint "${name}" already exists`);
    if (spec.orphans === 'delete') {
      const cascading = catalog.tables.flatMap((t) =>
        t.constraints.filter((c) => c.type === 'f' && c.deleteAction === 'c' && c.referencedTable === quoteQualified(spec.schema, spec.table)).map((c) => `"${t.name}"."${c.name}"`),
      );
      if (cascading.length > 0) {
        throw new InvalidArgumentError('addForeignKey.orphans', `deleting orphans of "${spec.table}" would cascade to ${cascading.join(', ')}, which a rollback could not restore; use 'set-null' or fix them first`);
      }
    }
    const key = primaryKeyOf(table);
    if (spec.orphans === 'set-null' && key.length === 0) throw new InvalidArgumentError('addForeignKey.orphans', `"${spec.table}" has no primary key to back nulled references up by`);
    const qualified = quoteQualified(spec.schema, spec.table);
    const backupAt = orphanBackupName(spec);
    const backup = quoteQualified(backupAt.schema, backupAt.table);
    const indexName = prismaStyleName(spec.table, spec.columns, 'idx', 'addForeignKey.columns');
    const hasLeadingIndex = table.indexes.some((i) => indexCoversColumns(i, spec.columns));
    const buildIndex = spec.index && !hasLeadingIndex;
    const expand: PlannedUnit[] = [];
    const down: PlannedUnit[] = [
      { kind: 'sql', name: `drop_fk_${name}`, transactional: true, statements: [alterTable(spec.schema, spec.table, `DROP CONSTRAINT IF EXISTS ${quoteIdent(name)}`, 'ACCESS EXCLUSIVE')] },
    ];
    if (buildIndex) {
      expand.push(createIndexConcurrentlyUnit(`fk_index_${indexName}`, { schema: spec.schema, table: spec.table, name: indexName, columns: spec.columns }));
    }
    const refs = `${quoteQualified(refSchema, spec.references.table)} (${columnList(spec.references.columns)})`;
    const actions = `${spec.onDelete ? ` ON DELETE ${spec.onDelete}` : ''}${spec.onUpdate ? ` ON UPDATE ${spec.onUpdate}` : ''}`;
    const addNotValid: PlannedUnit = {
      kind: 'sql',
      name: `fk_${name}`,
      transactional: true,
      statements: [alterTable(spec.schema, spec.table, `ADD CONSTRAINT ${quoteIdent(name)} FOREIGN KEY (${columnList(spec.columns)}) REFERENCES ${refs}${actions} NOT VALID`, 'SHARE ROW EXCLUSIVE')],
    };
    const validate: PlannedUnit = { kind: 'sql', name: `fk_validate_${name}`, transactional: true, statements: [alterTable(spec.schema, spec.table, `VALIDATE CONSTRAINT ${quoteIdent(name)}`, 'SHARE UPDATE EXCLUSIVE', true)] };
    const timeouts = { lockMs: DEFAULT_LOCK_TIMEOUT_MS, statementMs: DEFAULT_STATEMENT_TIMEOUT_MS };
    const repair = repairOf(spec);
    // With `up`, old code's writes that point nowhere are repaired before the constraint checks them.
    if (repair) expand.push(repairTriggerUnit(repair));
    // The NOT VALID constraint goes first: from then on no new orphan can appear, so the cleanup below ends.
    expand.push(addNotValid);
    if (repair) expand.push(repairRowsUnit(repair));
    if (spec.orphans !== 'fail') {
      const setNull = spec.orphans === 'set-null';
      expand.push({
        kind: 'sql',
        name: `orphan_backup_${name}`,
        transactional: true,
        statements: [
          { sql: `CREATE SCHEMA IF NOT EXISTS ${quoteIdent(backupAt.schema)}`, lock: null, scansData: false },
          setNull
            ? { sql: `CREATE TABLE IF NOT EXISTS ${backup} AS SELECT ${columnList([...key, ...spec.columns])} FROM ${qualified} WITH NO DATA`, lock: 'ACCESS SHARE', scansData: false }
            : { sql: `CREATE TABLE IF NOT EXISTS ${backup} (LIKE ${qualified})`, lock: 'ACCESS SHARE', scansData: false },
        ],
      });
      const batch = `SELECT t.ctid AS row_id FROM ${qualified} t WHERE ${orphanPredicate(spec, 't')} LIMIT 1000 FOR UPDATE OF t`;
      const statement = setNull
        ? `WITH v AS (${batch}), saved AS (INSERT INTO ${backup} SELECT ${[...key, ...spec.columns].map((c) => `t.${quoteIdent(c)}`).join(', ')} FROM ${qualified} t JOIN v ON t.ctid = v.row_id)
           UPDATE ${qualified} t SET ${spec.columns.map((c) => `${quoteIdent(c)} = NULL`).join(', ')} FROM v WHERE t.ctid = v.row_id`
        : `WITH v AS (${batch}), moved AS (DELETE FROM ${qualified} t USING v WHERE t.ctid = v.row_id RETURNING t.*) INSERT INTO ${backup} SELECT * FROM moved`;
      expand.push({
        kind: 'data',
        name: `orphans_${spec.orphans}_${name}`,
        description: `${setNull ? 'null the references of' : 'delete'} orphan rows of "${spec.table}" (copied to ${backup} first)`,
        remaining: `EXISTS (SELECT 1 FROM ${qualified} t WHERE ${orphanPredicate(spec, 't')})`,
        run: async (context) => {
          const result = await runBatchedStatement(context.databaseUrl, context.name, qualified, statement, { timeouts, signal: context.signal });
          return { processed: result.rows, failed: 0, canceled: result.canceled };
        },
      });
      const restore = setNull
        ? // Only rows still nulled: a reference the application wrote since then wins.
          `UPDATE ${qualified} t SET ${spec.columns.map((c) => `${quoteIdent(c)} = b.${quoteIdent(c)}`).join(', ')} FROM ${backup} b WHERE ${key.map((k) => `t.${quoteIdent(k)} = b.${quoteIdent(k)}`).join(' AND ')} AND ${spec.columns.map((c) => `t.${quoteIdent(c)} IS NULL`).join(' AND ')}`
        : `INSERT INTO ${qualified} SELECT * FROM ${backup}`;
      down.push({
        kind: 'sql',
        name: `orphan_restore_${name}`,
        transactional: true,
        // Conditional: when the step failed before its backup existed there is nothing to restore.
        statements: [
          {
            sql: `DO $evolve_restore$ BEGIN\n  IF to_regclass(${quoteLiteral(backup)}) IS NOT NULL THEN\n    EXECUTE ${quoteLiteral(restore)};\n  END IF;\nEND $evolve_restore$`,
            lock: 'ROW EXCLUSIVE',
            scansData: true,
          },
          { sql: `DROP TABLE IF EXISTS ${backup}`, lock: 'ACCESS EXCLUSIVE', scansData: false },
        ],
      });
    }
    expand.push(validate);
    if (repair) down.push({ kind: 'sql', name: `drop_repair_${name}`, transactional: true, statements: dropRepairTrigger(repair) });
    if (buildIndex) down.push(dropIndexConcurrentlyUnit(`drop_fk_index_${indexName}`, spec.schema, indexName));
    return { expand, down, contract: repair ? [{ kind: 'sql', name: `fk_contract_${name}`, transactional: true, statements: dropRepairTrigger(repair) }] : [] };
  },
  async precheck(spec, client, catalog) {
    const table = requireTable(catalog, spec.schema, spec.table);
    const { count, samples } = await countWithSamples(client, spec.schema, spec.table, orphanPredicate(spec, 't'), primaryKeyOf(table));
    if (spec.up !== undefined) return [{ name: `orphans of "${foreignKeyName(spec)}" repaired by up`, ok: true, detail: `${count} row(s) will get "${spec.columns[0]}" = ${spec.up}` }];
    const handled = spec.orphans !== 'fail';
    return [
      {
        name: `orphans of "${foreignKeyName(spec)}"`,
        ok: count === 0 || handled,
        detail:
          count === 0
            ? 'none'
            : `${count} row(s) of "${spec.table}" reference a missing "${spec.references.table}", e.g. keys ${samples.join(', ')}` +
              (handled ? `; they will be ${spec.orphans === 'delete' ? 'deleted' : 'nulled'} after a backup` : `; choose orphans: 'set-null' or 'delete', or fix them`),
      },
    ];
  },
  async verify(spec, client, stage) {
    const repair = repairOf(spec);
    return [await checkConstraint(client, spec.schema, spec.table, foreignKeyName(spec)), ...(repair ? [await checkRepairTrigger(client, repair, stage)] : [])];
  },
} satisfies Operation<AddForeignKeySpec, z.input<typeof addForeignKeySpec>>;
