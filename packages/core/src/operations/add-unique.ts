import { z } from 'zod';
import { findIndex, requireColumn, requireTable } from '../db/catalog-snapshot.js';
import { InvalidArgumentError } from '../errors.js';
import { quoteIdent, quoteQualified } from '../sql.js';
import type { Operation, PlannedUnit } from './operation.js';
import { prismaStyleName } from './operation.js';
import { alterTable, checkConstraint, checkIndex, columnList, createIndexConcurrentlyUnit, dropIndexConcurrentlyUnit, identifier, schemaField } from './sql-builders.js';

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
  })
  .strict();
export type AddUniqueSpec = z.infer<typeof addUniqueSpec>;

/** The name `addUnique` gives the index and constraint (Prisma's `<Table>_<columns>_key`). Pure. */
export function addUniqueName(spec: AddUniqueSpec): string {
  return spec.name ?? prismaStyleName(spec.table, spec.columns, 'key', 'addUnique.name');
}

/**
 * Adds uniqueness without blocking writes:
 * 1. `CREATE UNIQUE INDEX CONCURRENTLY`: SHARE UPDATE EXCLUSIVE, its own folder.
 * 2. Then, by default, `ADD CONSTRAINT … UNIQUE USING INDEX`: ACCESS EXCLUSIVE, brief, no scan.
 * The precheck counts duplicate groups and lists samples first; dedupe them before (the extraction
 * issue's `dedupe`). Down drops the constraint or index.
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
    const expand: PlannedUnit[] = [createIndexConcurrentlyUnit(`unique_index_${name}`, { schema: spec.schema, table: spec.table, name, columns: spec.columns, unique: true })];
    if (spec.constraint) {
      expand.push({
        kind: 'sql',
        name: `unique_constraint_${name}`,
        transactional: true,
        statements: [alterTable(spec.schema, spec.table, `ADD CONSTRAINT ${quoteIdent(name)} UNIQUE USING INDEX ${quoteIdent(name)}`, 'ACCESS EXCLUSIVE')],
      });
    }
    return {
      expand,
      // The index may exist without the constraint when the step failed in between: drop both.
      down: [
        ...(spec.constraint
          ? [{ kind: 'sql' as const, name: `drop_unique_constraint_${name}`, transactional: true, statements: [alterTable(spec.schema, spec.table, `DROP CONSTRAINT IF EXISTS ${quoteIdent(name)}`, 'ACCESS EXCLUSIVE')] }]
          : []),
        dropIndexConcurrentlyUnit(`drop_unique_${name}`, spec.schema, name),
      ],
      contract: [],
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
    return [
      {
        name: `no duplicate (${spec.columns.join(', ')}) in "${spec.table}"`,
        ok: row.groups === 0,
        detail: row.groups === 0 ? 'no duplicates' : `${row.groups} duplicate group(s) covering ${row.rows} rows, e.g. ${row.sample}; dedupe first`,
      },
    ];
  },
  async verify(spec, client) {
    const name = addUniqueName(spec);
    return spec.constraint ? [await checkConstraint(client, spec.schema, spec.table, name)] : [await checkIndex(client, spec.schema, name, true)];
  },
} satisfies Operation<AddUniqueSpec, z.input<typeof addUniqueSpec>>;
