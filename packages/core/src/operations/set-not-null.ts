import { z } from 'zod';
import { requireColumn, requireTable } from '../db/catalog-snapshot.js';
import { InvalidArgumentError } from '../errors.js';
import { toolkitName } from '../naming.js';
import { quoteIdent, quoteQualified } from '../sql.js';
import type { Operation, PlannedUnit, SqlUnit } from './operation.js';
import { backfillUnit } from './backfill-unit.js';
import { alterTable, checkColumn, checkConstraint, countWithSamples, identifier, primaryKeyOf, schemaField, sqlFragment } from './sql-builders.js';
import { createSyncTrigger, dropSyncTrigger, syncObjectNames } from './sync-trigger.js';

/**
 * Spec of `setNotNull`. `up` (SQL over the row's columns) fixes NULLs: the existing ones in batches, and
 * every NULL a writer (old code) sends until contract.
 */
export const setNotNullSpec = z.object({ schema: schemaField, table: identifier, column: identifier, up: sqlFragment.optional() }).strict();
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
export function notNullUnits(schema: string | undefined, table: string, column: string): SqlUnit[] {
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
 *
 * With `up`, old code that still writes NULLs keeps working (pgroll's `up`): a BEFORE INSERT OR UPDATE
 * trigger (added first, in its own short transaction) replaces a NULL with `up` over the row being written,
 * the existing NULLs are fixed in batches, then the NOT NULL path runs; no write fails at any point. The
 * trigger goes at contract, from when on a NULL is refused. The precheck then counts the NULLs as repaired
 * by `up` rather than refusing them.
 */
export const setNotNull = {
  kind: 'setNotNull',
  spec: setNotNullSpec,
  describe: (spec) => `set "${spec.table}"."${spec.column}" not null`,
  plan(spec, catalog) {
    const table = requireTable(catalog, spec.schema, spec.table);
    const column = requireColumn(table, spec.column, 'setNotNull.column');
    if (column.notNull) throw new InvalidArgumentError('setNotNull.column', `"${spec.table}"."${spec.column}" is NOT NULL already`);
    const col = quoteIdent(spec.column);
    const repair: PlannedUnit[] =
      spec.up === undefined
        ? []
        : [
            {
              kind: 'sql',
              name: `not_null_up_${spec.table}_${spec.column}`,
              transactional: true,
              statements: createSyncTrigger(spec.schema, spec.table, spec.column, `  IF NEW.${col} IS NULL THEN NEW.${col} := (SELECT ${spec.up} FROM (SELECT NEW.*) AS evolve_row); END IF;`),
            },
            backfillUnit(`not_null_fix_${spec.table}_${spec.column}`, `replace NULLs of "${spec.column}" with ${spec.up}`, { schema: spec.schema, table: spec.table, set: { [spec.column]: spec.up }, where: `t.${col} IS NULL` }),
          ];
    return {
      expand: [...repair, ...notNullUnits(spec.schema, spec.table, spec.column)],
      down: [
        {
          kind: 'sql',
          name: `drop_not_null_${spec.table}_${spec.column}`,
          transactional: true,
          statements: [
            // A failed VALIDATE leaves the NOT VALID check behind: drop it too.
            alterTable(spec.schema, spec.table, `DROP CONSTRAINT IF EXISTS ${quoteIdent(notNullCheckName(spec.table, spec.column))}`, 'ACCESS EXCLUSIVE'),
            alterTable(spec.schema, spec.table, `ALTER COLUMN ${quoteIdent(spec.column)} DROP NOT NULL`, 'ACCESS EXCLUSIVE'),
            ...(spec.up === undefined ? [] : dropSyncTrigger(spec.schema, spec.table, spec.column)),
          ],
        },
      ],
      contract: spec.up === undefined ? [] : [{ kind: 'sql', name: `not_null_contract_${spec.table}_${spec.column}`, transactional: true, statements: dropSyncTrigger(spec.schema, spec.table, spec.column) }],
    };
  },
  async precheck(spec, client, catalog) {
    const table = requireTable(catalog, spec.schema, spec.table);
    const { count, samples } = await countWithSamples(client, spec.schema, spec.table, `t.${quoteIdent(spec.column)} IS NULL`, primaryKeyOf(table));
    if (spec.up !== undefined) return [{ name: `NULLs in "${spec.table}"."${spec.column}" repaired by up`, ok: true, detail: `${count} row(s) will get ${spec.up}` }];
    return [
      {
        name: `no NULL in "${spec.table}"."${spec.column}"`,
        ok: count === 0,
        detail: count === 0 ? 'none' : `${count} row(s) of ${quoteQualified(spec.schema, spec.table)} are NULL, e.g. ${samples.join(', ')}; backfill them first`,
      },
    ];
  },
  async verify(spec, client, stage) {
    const checks = [
      await checkColumn(client, spec.schema, spec.table, spec.column, { present: true, notNull: true }),
      await checkConstraint(client, spec.schema, spec.table, notNullCheckName(spec.table, spec.column), false),
    ];
    if (spec.up === undefined) return checks;
    const { rows } = await client.query<{ n: number }>(`select count(*)::int as n from pg_trigger where tgrelid = $1::regclass and tgname = $2`, [
      quoteQualified(spec.schema, spec.table),
      syncObjectNames(spec.table, spec.column).trigger,
    ]);
    const present = (rows[0]?.n ?? 0) > 0;
    return [...checks, { name: `"up" trigger ${stage === 'expand' ? 'present' : 'removed'}`, ok: present === (stage === 'expand'), detail: present ? 'present' : 'absent' }];
  },
} satisfies Operation<SetNotNullSpec, z.input<typeof setNotNullSpec>>;
