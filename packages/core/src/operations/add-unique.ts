import { z } from 'zod';
import { findIndex, requireColumn, requireTable } from '../db/catalog-snapshot.js';
import { InvalidArgumentError } from '../errors.js';
import { quoteIdent, quoteQualified } from '../sql.js';
import type { Operation, PlannedUnit } from './operation.js';
import { prismaStyleName } from './operation.js';
import { toolkitName } from '../naming.js';
import { checkRepairTrigger, dropRepairTrigger, repairRowsUnit, repairTriggerUnit, type RuleRepair } from './rule-repair.js';
import { alterTable, checkConstraint, checkIndex, columnList, createIndexConcurrentlyUnit, dropIndexConcurrentlyUnit, identifier, primaryKeyOf, schemaField, sqlFragment } from './sql-builders.js';

/**
 * Spec of `addUnique`. `constraint: true` (default) attaches the index as a UNIQUE constraint; `false`
 * keeps a unique index only, which is what Prisma's `@unique`/`@@unique` generate.
 */
export const addUniqueSpec = z
  .object({
    schema: schemaField,
    table: identifier,
    columns: z.array(identifier).min(1, 'name at least one column'),
    name: identifier.optional(),
    constraint: z.boolean().default(true),
    /** With `up`: the key column a duplicate is repaired in. */
    column: identifier.optional(),
    /** SQL over the row giving `column` a value that no longer duplicates (e.g. `email || '+' || id`). */
    up: sqlFragment.optional(),
  })
  .strict()
  .refine((spec) => (spec.column === undefined) === (spec.up === undefined), { path: ['up'], message: 'give `column` and `up` together' })
  .refine((spec) => spec.column === undefined || spec.columns.includes(spec.column), { path: ['column'], message: 'must be one of `columns`' });
export type AddUniqueSpec = z.infer<typeof addUniqueSpec>;

/** The name `addUnique` gives the index and constraint (Prisma's `<Table>_<columns>_key`). Pure. */
export function addUniqueName(spec: AddUniqueSpec): string {
  return spec.name ?? prismaStyleName(spec.table, spec.columns, 'key', 'addUnique.name');
}

/** With `column` and `up`: the repair of rows that duplicate another's key. Pure. */
function repairOf(spec: AddUniqueSpec, key: readonly string[]): RuleRepair | undefined {
  if (spec.column === undefined || spec.up === undefined) return undefined;
  const qualified = quoteQualified(spec.schema, spec.table);
  const same = (alias: string) => spec.columns.map((c) => `evolve_other.${quoteIdent(c)} = ${alias}.${quoteIdent(c)}`).join(' AND ');
  const keyOf = (alias: string) => `(${key.map((k) => `${alias}.${quoteIdent(k)}`).join(', ')})`;
  return {
    schema: spec.schema,
    table: spec.table,
    rule: addUniqueName(spec),
    column: spec.column,
    up: spec.up,
    changing: spec.columns,
    // A write duplicates any other row; of the rows already there, every one but the first of its group is repaired.
    broken: (alias) => `EXISTS (SELECT 1 FROM ${qualified} evolve_other WHERE ${same(alias)} AND ${keyOf('evolve_other')} <> ${keyOf(alias)})`,
    brokenRows: (alias) => `EXISTS (SELECT 1 FROM ${qualified} evolve_other WHERE ${same(alias)} AND ${keyOf('evolve_other')} < ${keyOf(alias)})`,
  };
}

/**
 * Adds uniqueness without blocking writes:
 * 1. `CREATE UNIQUE INDEX CONCURRENTLY`: SHARE UPDATE EXCLUSIVE, its own folder.
 * 2. Then, by default, `ADD CONSTRAINT … UNIQUE USING INDEX`: ACCESS EXCLUSIVE, brief, no scan.
 * The precheck counts duplicate groups and lists samples first; dedupe them before (the extraction
 * issue's `dedupe`). Down drops the constraint or index.
 *
 * With `column` and `up`, old code that still writes duplicates keeps working (pgroll's `up`): a helper
 * index on the columns is built concurrently (so the check below is an index lookup), a trigger sets `column`
 * to `up` on every write that would duplicate another row's key, every duplicate already there but the first
 * of its group (by primary key) is repaired in batches, then the unique index is built and the helper goes.
 * The trigger goes at contract, from when on a duplicate is refused. Two writes of one new key at the same
 * instant can still collide on the index once it exists (the second fails, as it would on any unique key).
 * Repaired values stay on rollback.
 */
export const addUnique = {
  kind: 'addUnique',
  spec: addUniqueSpec,
  describe: (spec) => `add unique "${addUniqueName(spec)}" on "${spec.table}" (${spec.columns.join(', ')})`,
  plan(spec, catalog) {
    const table = requireTable(catalog, spec.schema, spec.table);
    for (const column of spec.columns) requireColumn(table, column, 'addUnique.columns');
    const name = addUniqueName(spec);
    if (findIndex(catalog, spec.schema, name)?.index.valid) throw new InvalidArgumentError('addUnique.name', `index "${name}" already exists`);
    const key = primaryKeyOf(table);
    if (spec.up !== undefined && key.length === 0) throw new InvalidArgumentError('addUnique.up', `"${spec.table}" has no primary key to tell a row from its duplicates by`);
    const repair = repairOf(spec, key);
    const helper = toolkitName('idx', name);
    const expand: PlannedUnit[] = repair
      ? [
          createIndexConcurrentlyUnit(`unique_helper_${name}`, { schema: spec.schema, table: spec.table, name: helper, columns: spec.columns }),
          repairTriggerUnit(repair),
          repairRowsUnit(repair),
        ]
      : [];
    expand.push(createIndexConcurrentlyUnit(`unique_index_${name}`, { schema: spec.schema, table: spec.table, name, columns: spec.columns, unique: true }));
    if (spec.constraint) {
      expand.push({
        kind: 'sql',
        name: `unique_constraint_${name}`,
        transactional: true,
        statements: [alterTable(spec.schema, spec.table, `ADD CONSTRAINT ${quoteIdent(name)} UNIQUE USING INDEX ${quoteIdent(name)}`, 'ACCESS EXCLUSIVE')],
      });
    }
    if (repair) expand.push(dropIndexConcurrentlyUnit(`drop_unique_helper_${name}`, spec.schema, helper));
    return {
      expand,
      // The index may exist without the constraint when the step failed in between: drop both.
      down: [
        ...(repair ? [{ kind: 'sql' as const, name: `drop_repair_${name}`, transactional: true, statements: dropRepairTrigger(repair) }] : []),
        ...(spec.constraint
          ? [{ kind: 'sql' as const, name: `drop_unique_constraint_${name}`, transactional: true, statements: [alterTable(spec.schema, spec.table, `DROP CONSTRAINT IF EXISTS ${quoteIdent(name)}`, 'ACCESS EXCLUSIVE')] }]
          : []),
        dropIndexConcurrentlyUnit(`drop_unique_${name}`, spec.schema, name),
        ...(repair ? [dropIndexConcurrentlyUnit(`drop_unique_helper_${name}`, spec.schema, helper)] : []),
      ],
      contract: repair ? [{ kind: 'sql', name: `unique_contract_${name}`, transactional: true, statements: dropRepairTrigger(repair) }] : [],
    };
  },
  async precheck(spec, client) {
    const cols = columnList(spec.columns);
    const notNull = spec.columns.map((c) => `${quoteIdent(c)} IS NOT NULL`).join(' AND ');
    const { rows } = await client.query<{ groups: number; rows: number; sample: string | null }>(
      `select count(*)::int as groups, coalesce(sum(n), 0)::int as rows, (array_agg(k))[1:5]::text as sample from (
         select (${spec.columns.map((c) => `coalesce(${quoteIdent(c)}::text, 'null')`).join(` || ', ' || `)}) as k, count(*) as n
         from ${quoteQualified(spec.schema, spec.table)} where ${notNull} group by ${cols} having count(*) > 1) d`,
    );
    const row = rows[0] ?? { groups: 0, rows: 0, sample: null };
    if (spec.up !== undefined) return [{ name: `duplicates of (${spec.columns.join(', ')}) repaired by up`, ok: true, detail: `${row.groups} group(s): all but the first row of each get "${spec.column}" = ${spec.up}` }];
    return [
      {
        name: `no duplicate (${spec.columns.join(', ')}) in "${spec.table}"`,
        ok: row.groups === 0,
        detail: row.groups === 0 ? 'no duplicates' : `${row.groups} duplicate group(s) covering ${row.rows} rows, e.g. ${row.sample}; dedupe first`,
      },
    ];
  },
  async verify(spec, client, stage) {
    const name = addUniqueName(spec);
    const checks = spec.constraint ? [await checkConstraint(client, spec.schema, spec.table, name)] : [await checkIndex(client, spec.schema, name, true)];
    return spec.up === undefined ? checks : [...checks, await checkRepairTrigger(client, { schema: spec.schema, table: spec.table, rule: name }, stage)];
  },
} satisfies Operation<AddUniqueSpec, z.input<typeof addUniqueSpec>>;
