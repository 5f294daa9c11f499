import { z } from 'zod';
import { requireColumn, requireTable } from '../db/catalog-snapshot.js';
import { InvalidArgumentError } from '../errors.js';
import { toolkitName } from '../naming.js';
import { quoteIdent, quoteQualified } from '../sql.js';
import type { Operation, SqlUnit } from './operation.js';
import { alterTable, checkColumn, checkConstraint, countWithSamples, identifier, primaryKeyOf, schemaField } from './sql-builders.js';

/** Spec of `setNotNull`. */
export const setNotNullSpec = z.object({ schema: schemaField, table: identifier, column: identifier }).strict();
export type SetNotNullSpec = z.infer<typeof setNotNullSpec>;

/** Name of the transient CHECK constraint of the NOT NULL path. Pure. */
export function notNullCheckName(table: string, column: string): string {
  return toolkitName('chk', table, column, 'nn');
}

/**
 * The safe NOT NULL sequence as three units, each its own short transaction:
 * 1. `ADD CONSTRAINT … CHECK (col IS NOT NULL) NOT VALID`: ACCESS EXCLUSIVE, no scan.
 * 2. `VALIDATE CONSTRAINT`: SHARE UPDATE EXCLUSIVE while it scans, so writes go on.
 * 3. `SET NOT NULL` (PostgreSQL ≥ 12 proves it from the valid check, no scan) and `DROP CONSTRAINT`:
 *    ACCESS EXCLUSIVE, brief.
 * Pure.
 */
export function notNullUnits(schema: string, table: string, column: string): SqlUnit[] {
  const check = quoteIdent(notNullCheckName(table, column));
  const col = quoteIdent(column);
  return [
    {
      kind: 'sql',
      name: `not_null_check_${table}_${column}`,
      transactional: true,
      statements: [alterTable(schema, table, `ADD CONSTRAINT ${check} CHECK (${col} IS NOT NULL) NOT VALID`, 'ACCESS EXCLUSIVE')],
    },
    {
      kind: 'sql',
      name: `not_null_validate_${table}_${column}`,
      transactional: true,
      statements: [alterTable(schema, table, `VALIDATE CONSTRAINT ${check}`, 'SHARE UPDATE EXCLUSIVE', true)],
    },
    {
      kind: 'sql',
      name: `not_null_set_${table}_${column}`,
      transactional: true,
      statements: [
        alterTable(schema, table, `ALTER COLUMN ${col} SET NOT NULL`, 'ACCESS EXCLUSIVE'),
        alterTable(schema, table, `DROP CONSTRAINT ${check}`, 'ACCESS EXCLUSIVE'),
      ],
    },
  ];
}

/**
 * Makes a column NOT NULL without holding ACCESS EXCLUSIVE during the scan (see {@link notNullUnits}).
 * The precheck counts the NULLs and lists sample keys first. Down drops the NOT NULL (brief ACCESS EXCLUSIVE).
 */
export const setNotNull = {
  kind: 'setNotNull',
  spec: setNotNullSpec,
  describe: (spec) => `set "${spec.table}"."${spec.column}" not null`,
  plan(spec, catalog) {
    const table = requireTable(catalog, spec.schema, spec.table);
    const column = requireColumn(table, spec.column, 'setNotNull.column');
    if (column.notNull) throw new InvalidArgumentError('setNotNull.column', `"${spec.table}"."${spec.column}" is NOT NULL already`);
    return {
      expand: notNullUnits(spec.schema, spec.table, spec.column),
      down: [
        {
          kind: 'sql',
          name: `drop_not_null_${spec.table}_${spec.column}`,
          transactional: true,
          statements: [
            // A failed VALIDATE leaves the NOT VALID check behind: drop it too.
            alterTable(spec.schema, spec.table, `DROP CONSTRAINT IF EXISTS ${quoteIdent(notNullCheckName(spec.table, spec.column))}`, 'ACCESS EXCLUSIVE'),
            alterTable(spec.schema, spec.table, `ALTER COLUMN ${quoteIdent(spec.column)} DROP NOT NULL`, 'ACCESS EXCLUSIVE'),
          ],
        },
      ],
      contract: [],
    };
  },
  async precheck(spec, client, catalog) {
    const table = requireTable(catalog, spec.schema, spec.table);
    const { count, samples } = await countWithSamples(client, spec.schema, spec.table, `t.${quoteIdent(spec.column)} IS NULL`, primaryKeyOf(table));
    return [
      {
        name: `no NULL in "${spec.table}"."${spec.column}"`,
        ok: count === 0,
        detail: count === 0 ? 'none' : `${count} row(s) of ${quoteQualified(spec.schema, spec.table)} are NULL, e.g. ${samples.join(', ')}; backfill them first`,
      },
    ];
  },
  async verify(spec, client) {
    return [
      await checkColumn(client, spec.schema, spec.table, spec.column, { present: true, notNull: true }),
      await checkConstraint(client, spec.schema, spec.table, notNullCheckName(spec.table, spec.column), false),
    ];
  },
} satisfies Operation<SetNotNullSpec, z.input<typeof setNotNullSpec>>;
