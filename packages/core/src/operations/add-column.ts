import { z } from 'zod';
import { requireTable } from '../db/catalog-snapshot.js';
import { InvalidArgumentError } from '../errors.js';
import { quoteIdent, quoteQualified } from '../sql.js';
import { backfillUnit } from './backfill-unit.js';
import type { Check, Operation, OperationPlan, PlannedUnit } from './operation.js';
import { notNullUnits } from './set-not-null.js';
import { alterTable, checkColumn, identifier, schemaField, sqlFragment } from './sql-builders.js';
import { createSyncTrigger, dropSyncTrigger, syncObjectNames } from './sync-trigger.js';

/**
 * Spec of `addColumn`: nullable, or with a constant default (instant on PostgreSQL ≥ 11), or computed by
 * `up` (SQL over the row's columns) for existing rows and for every write that leaves it out.
 */
export const addColumnSpec = z
  .object({
    schema: schemaField,
    table: identifier,
    column: identifier,
    type: sqlFragment,
    nullable: z.boolean().default(true),
    default: sqlFragment.optional(),
    up: sqlFragment.optional(),
  })
  .strict()
  .refine((spec) => spec.nullable || spec.default !== undefined || spec.up !== undefined, {
    path: ['nullable'],
    message: 'a NOT NULL column needs a constant default or an `up` expression that computes it',
  })
  .refine((spec) => spec.up === undefined || spec.default === undefined, { path: ['up'], message: 'give `up` or `default`, not both' });
export type AddColumnSpec = z.infer<typeof addColumnSpec>;

/**
 * Adds a column. Locks: ACCESS EXCLUSIVE for a catalog-only change (no rewrite, no scan): a nullable
 * column, or a default PostgreSQL stores as a "missing value". The precheck proves that on a scratch
 * temporary table (`pg_attribute.atthasmissing`), which is exact for any expression. A volatile default
 * (`random()`, `clock_timestamp()`, `gen_random_uuid()`) would rewrite the whole table under that lock, so
 * it is refused, with the safe sequence in the message. Down drops the column. With `up`, see
 * {@link computedColumnPlan}: old code's writes get the column computed until contract.
 */
export const addColumn = {
  kind: 'addColumn',
  spec: addColumnSpec,
  creates: (spec) => [{ schema: spec.schema, table: spec.table, column: spec.column }],
  describe: (spec) => `add column "${spec.table}"."${spec.column}" ${spec.type}`,
  plan(spec, catalog) {
    const table = requireTable(catalog, spec.schema, spec.table);
    if (table.columns.some((c) => c.name === spec.column)) {
      throw new InvalidArgumentError('addColumn.column', `column "${spec.column}" already exists on "${spec.schema}"."${spec.table}"`);
    }
    if (spec.up !== undefined) return computedColumnPlan(spec, spec.up);
    const col = quoteIdent(spec.column);
    const drop = alterTable(spec.schema, spec.table, `DROP COLUMN IF EXISTS ${col}`, 'ACCESS EXCLUSIVE');
    const definition = `${col} ${spec.type}${spec.nullable ? '' : ' NOT NULL'}${spec.default ? ` DEFAULT ${spec.default}` : ''}`;
    return {
      expand: [{ kind: 'sql', name: `add_column_${spec.table}_${spec.column}`, transactional: true, statements: [alterTable(spec.schema, spec.table, `ADD COLUMN ${definition}`, 'ACCESS EXCLUSIVE')] }],
      down: [{ kind: 'sql', name: `drop_column_${spec.table}_${spec.column}`, transactional: true, statements: [drop] }],
      contract: [],
    };
  },
  async precheck(spec, client) {
    if (spec.default === undefined) return [];
    const checks: Check[] = [];
    await client.query('begin');
    try {
      await client.query('create temp table _evolve_default_probe (id int) on commit drop');
      await client.query('insert into _evolve_default_probe values (1)');
      await client.query(`alter table _evolve_default_probe add column probe ${spec.type} default ${spec.default}`);
      const { rows } = await client.query<{ missing: boolean }>(
        `select atthasmissing as missing from pg_attribute where attrelid = '_evolve_default_probe'::regclass and attname = 'probe'`,
      );
      const instant = rows[0]?.missing === true;
      checks.push({
        name: `default of "${spec.table}"."${spec.column}" needs no table rewrite`,
        ok: instant,
        detail: instant
          ? `${spec.default} is stored once in the catalog`
          : `${spec.default} is volatile: adding it rewrites every row under an ACCESS EXCLUSIVE lock. Safe sequence: ` +
            `addColumn without default, then rawSql "ALTER TABLE … ALTER COLUMN … SET DEFAULT ${spec.default}" (new rows), ` +
            `then backfill the existing rows, then setNotNull if needed`,
      });
    } finally {
      await client.query('rollback');
    }
    return checks;
  },
  async verify(spec, client, stage) {
    // A nullable column may be made NOT NULL by a later step; only a requested NOT NULL is checked.
    const checks = [await checkColumn(client, spec.schema, spec.table, spec.column, spec.nullable ? { present: true } : { present: true, notNull: true })];
    if (spec.up === undefined) return checks;
    const { rows } = await client.query<{ n: number }>(
      `select count(*)::int as n from pg_trigger t where t.tgrelid = $1::regclass and t.tgname = $2`,
      [quoteQualified(spec.schema, spec.table), syncObjectNames(spec.table, spec.column).trigger],
    );
    const present = (rows[0]?.n ?? 0) > 0;
    checks.push({ name: `"up" trigger ${stage === 'expand' ? 'present' : 'removed'}`, ok: present === (stage === 'expand'), detail: present ? 'present' : 'absent' });
    if (stage === 'expand') {
      const { rows: empty } = await client.query<{ n: number }>(`select count(*)::int as n from ${quoteQualified(spec.schema, spec.table)} t where t.${quoteIdent(spec.column)} is null and (${spec.up}) is not null`);
      checks.push({ name: `every row has "${spec.column}" computed`, ok: empty[0]?.n === 0, detail: `${empty[0]?.n ?? 0} row(s) without it` });
    }
    return checks;
  },
} satisfies Operation<AddColumnSpec, z.input<typeof addColumnSpec>>;

/**
 * `addColumn` with `up`, an expand/contract change that keeps old code working while the column is new:
 * - Expand: the column (nullable, no default; ACCESS EXCLUSIVE briefly, no scan) and a BEFORE INSERT OR
 *   UPDATE trigger that computes it with `up` for every write that leaves it out (an insert without it, an
 *   update that does not change it), as old code's writes do; then the existing rows in batches (the
 *   backfill engine); then NOT NULL through the check path when `nullable: false`.
 * - Contract: the trigger goes; from then on the writer provides the column (old code is gone).
 * - Down drops the trigger, its function and the column.
 */
function computedColumnPlan(spec: AddColumnSpec, up: string): OperationPlan {
  const qualified = quoteQualified(spec.schema, spec.table);
  const col = quoteIdent(spec.column);
  // `up` names the row's columns unqualified: evaluated over the row being written.
  const computed = `(SELECT ${up} FROM (SELECT NEW.*) AS evolve_row)`;
  const body =
    `  IF TG_OP = 'INSERT' THEN\n    IF NEW.${col} IS NULL THEN NEW.${col} := ${computed}; END IF;\n` +
    `  ELSIF NEW.${col} IS NOT DISTINCT FROM OLD.${col} THEN\n    NEW.${col} := ${computed};\n  END IF;`;
  const unfinished = `EXISTS (SELECT 1 FROM ${qualified} t WHERE t.${col} IS NULL AND (${up}) IS NOT NULL)`;
  const expand: PlannedUnit[] = [
    {
      kind: 'sql',
      name: `add_column_${spec.table}_${spec.column}`,
      transactional: true,
      statements: [alterTable(spec.schema, spec.table, `ADD COLUMN ${col} ${spec.type}`, 'ACCESS EXCLUSIVE'), ...createSyncTrigger(spec.schema, spec.table, spec.column, body)],
    },
    backfillUnit(`add_column_backfill_${spec.table}_${spec.column}`, `compute "${spec.column}" with ${up}`, { schema: spec.schema, table: spec.table, set: { [spec.column]: up }, where: `t.${col} IS NULL` }, unfinished),
  ];
  if (!spec.nullable) expand.push(...notNullUnits(spec.schema, spec.table, spec.column));
  return {
    expand,
    down: [
      {
        kind: 'sql',
        name: `drop_column_${spec.table}_${spec.column}`,
        transactional: true,
        statements: [...dropSyncTrigger(spec.schema, spec.table, spec.column), alterTable(spec.schema, spec.table, `DROP COLUMN IF EXISTS ${col}`, 'ACCESS EXCLUSIVE')],
      },
    ],
    contract: [{ kind: 'sql', name: `add_column_contract_${spec.table}_${spec.column}`, transactional: true, statements: dropSyncTrigger(spec.schema, spec.table, spec.column) }],
  };
}
