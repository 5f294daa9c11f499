import { z } from 'zod';
import { findTable } from '../db/catalog-snapshot.js';
import { InvalidArgumentError } from '../errors.js';
import { quoteIdent, quoteQualified } from '../sql.js';
import type { Operation } from './operation.js';
import { checkColumn, checkTable, columnList, identifier, schemaField, sqlFragment } from './sql-builders.js';

/** Spec of `createTable`: a new table with its columns and primary key. */
export const createTableSpec = z
  .object({
    schema: schemaField,
    table: identifier,
    columns: z
      .array(z.object({ name: identifier, type: sqlFragment, nullable: z.boolean().default(true), default: sqlFragment.optional() }).strict())
      .min(1, 'a table needs at least one column'),
    primaryKey: z.array(identifier).min(1, 'name the primary key columns'),
  })
  .strict()
  .superRefine((spec, ctx) => {
    for (const key of spec.primaryKey) {
      if (!spec.columns.some((c) => c.name === key)) ctx.addIssue({ code: 'custom', path: ['primaryKey'], message: `"${key}" is not one of the columns` });
    }
  });
export type CreateTableSpec = z.infer<typeof createTableSpec>;

/**
 * Creates a table. Locks: none on existing tables (the new table is invisible until commit). Down drops
 * it (ACCESS EXCLUSIVE on the new table only). Refuses when the table exists already.
 */
export const createTable = {
  kind: 'createTable',
  spec: createTableSpec,
  creates: (spec) => [{ schema: spec.schema, table: spec.table }],
  describe: (spec) => `create table "${spec.schema}"."${spec.table}"`,
  plan(spec, catalog) {
    if (findTable(catalog, spec.schema, spec.table)) {
      throw new InvalidArgumentError('createTable.table', `table "${spec.schema}"."${spec.table}" already exists`);
    }
    const columns = spec.columns.map(
      (c) => `    ${quoteIdent(c.name)} ${c.type}${c.nullable && !spec.primaryKey.includes(c.name) ? '' : ' NOT NULL'}${c.default ? ` DEFAULT ${c.default}` : ''}`,
    );
    const pk = `    CONSTRAINT ${quoteIdent(`${spec.table}_pkey`)} PRIMARY KEY (${columnList(spec.primaryKey)})`;
    const qualified = quoteQualified(spec.schema, spec.table);
    return {
      expand: [
        { kind: 'sql', name: `create_table_${spec.table}`, transactional: true, statements: [{ sql: `CREATE TABLE ${qualified} (\n${[...columns, pk].join(',\n')}\n)`, lock: null, scansData: false }] },
      ],
      down: [{ kind: 'sql', name: `drop_table_${spec.table}`, transactional: true, statements: [{ sql: `DROP TABLE IF EXISTS ${qualified}`, lock: 'ACCESS EXCLUSIVE', scansData: false }] }],
      contract: [],
    };
  },
  async verify(spec, client) {
    const checks = [await checkTable(client, spec.schema, spec.table)];
    for (const column of spec.columns) {
      checks.push(await checkColumn(client, spec.schema, spec.table, column.name, { present: true, notNull: !column.nullable || spec.primaryKey.includes(column.name) }));
    }
    return checks;
  },
} satisfies Operation<CreateTableSpec, z.input<typeof createTableSpec>>;
