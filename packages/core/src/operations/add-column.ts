import { z } from 'zod';
import { requireTable } from '../db/catalog-snapshot.js';
import { InvalidArgumentError } from '../errors.js';
import { quoteIdent } from '../sql.js';
import type { Check, Operation } from './operation.js';
import { alterTable, checkColumn, identifier, schemaField, sqlFragment } from './sql-builders.js';

/** Spec of `addColumn`: nullable, or with a constant default (instant on PostgreSQL ≥ 11). */
export const addColumnSpec = z
  .object({
    schema: schemaField,
    table: identifier,
    column: identifier,
    type: sqlFragment,
    nullable: z.boolean().default(true),
    default: sqlFragment.optional(),
  })
  .strict()
  .refine((spec) => spec.nullable || spec.default !== undefined, {
    path: ['nullable'],
    message: 'a NOT NULL column needs a constant default; or add it nullable, backfill it, then use setNotNull',
  });
export type AddColumnSpec = z.infer<typeof addColumnSpec>;

/**
 * Adds a column. Locks: ACCESS EXCLUSIVE for a catalog-only change (no rewrite, no scan): a nullable
 * column, or a default PostgreSQL stores as a "missing value". The precheck proves that on a scratch
 * temporary table (`pg_attribute.atthasmissing`), which is exact for any expression. A volatile default
 * (`random()`, `clock_timestamp()`, `gen_random_uuid()`) would rewrite the whole table under that lock, so
 * it is refused, with the safe sequence in the message. Down drops the column.
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
    const definition = `${quoteIdent(spec.column)} ${spec.type}${spec.nullable ? '' : ' NOT NULL'}${spec.default ? ` DEFAULT ${spec.default}` : ''}`;
    return {
      expand: [{ kind: 'sql', name: `add_column_${spec.table}_${spec.column}`, transactional: true, statements: [alterTable(spec.schema, spec.table, `ADD COLUMN ${definition}`, 'ACCESS EXCLUSIVE')] }],
      down: [{ kind: 'sql', name: `drop_column_${spec.table}_${spec.column}`, transactional: true, statements: [alterTable(spec.schema, spec.table, `DROP COLUMN IF EXISTS ${quoteIdent(spec.column)}`, 'ACCESS EXCLUSIVE')] }],
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
  async verify(spec, client) {
    // A nullable column may be made NOT NULL by a later step; only a requested NOT NULL is checked.
    return [await checkColumn(client, spec.schema, spec.table, spec.column, spec.nullable ? { present: true } : { present: true, notNull: true })];
  },
} satisfies Operation<AddColumnSpec, z.input<typeof addColumnSpec>>;
