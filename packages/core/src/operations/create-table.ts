import { z } from 'zod';
import { findTable } from '../db/catalog-snapshot.js';
import { InvalidArgumentError } from '../errors.js';
import { quoteIdent, quoteQualified } from '../sql.js';
import { referentialAction } from './add-foreign-key.js';
import { prismaStyleName, type Operation, type PlannedStatement } from './operation.js';
import { alterTable, checkColumn, checkConstraint, checkIndex, checkTable, columnList, identifier, schemaField, sqlFragment } from './sql-builders.js';

const columnsField = z.array(identifier).min(1);

/**
 * Spec of `createTable`: a new table with its columns and primary key, and optionally its unique and plain
 * indexes, foreign keys and checks (names default to Prisma's: `<Table>_<cols>_key|_idx|_fkey`).
 */
export const createTableSpec = z
  .object({
    schema: schemaField,
    table: identifier,
    columns: z
      .array(z.object({ name: identifier, type: sqlFragment, nullable: z.boolean().default(true), default: sqlFragment.optional() }).strict())
      .min(1, 'a table needs at least one column'),
    primaryKey: z.array(identifier).min(1, 'name the primary key columns'),
    uniques: z.array(z.object({ columns: columnsField, name: identifier.optional() }).strict()).default([]),
    indexes: z.array(z.object({ columns: columnsField, name: identifier.optional() }).strict()).default([]),
    foreignKeys: z
      .array(
        z
          .object({
            columns: columnsField,
            references: z.object({ schema: identifier.optional(), table: identifier, columns: columnsField }).strict(),
            name: identifier.optional(),
            onDelete: referentialAction.optional(),
            onUpdate: referentialAction.optional(),
          })
          .strict(),
      )
      .default([]),
    checks: z.array(z.object({ name: identifier, expression: sqlFragment }).strict()).default([]),
  })
  .strict()
  .superRefine((spec, ctx) => {
    const known = (column: string) => spec.columns.some((c) => c.name === column);
    const named: [string, readonly string[]][] = [
      ['primaryKey', spec.primaryKey],
      ...spec.uniques.map((u, i): [string, readonly string[]] => [`uniques.${i}.columns`, u.columns]),
      ...spec.indexes.map((u, i): [string, readonly string[]] => [`indexes.${i}.columns`, u.columns]),
      ...spec.foreignKeys.map((f, i): [string, readonly string[]] => [`foreignKeys.${i}.columns`, f.columns]),
    ];
    for (const [path, columns] of named) {
      for (const column of columns) if (!known(column)) ctx.addIssue({ code: 'custom', path: path.split('.'), message: `"${column}" is not one of the columns` });
    }
    spec.foreignKeys.forEach((f, i) => {
      if (f.columns.length !== f.references.columns.length) ctx.addIssue({ code: 'custom', path: ['foreignKeys', i, 'references', 'columns'], message: 'must have as many columns as "columns"' });
    });
  });
export type CreateTableSpec = z.infer<typeof createTableSpec>;

/**
 * Creates a table with its primary key, checks, unique and plain indexes and foreign keys, in one
 * transaction, as Prisma's own migration would (unique indexes rather than constraints, Prisma's names).
 * Locks: none on existing tables (the new table is invisible until commit), except SHARE ROW EXCLUSIVE,
 * briefly, on each table a foreign key references (nothing to scan: the table is empty). Down drops it
 * (ACCESS EXCLUSIVE on the new table only). Refuses when the table exists already.
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
    const checks = spec.checks.map((c) => `    CONSTRAINT ${quoteIdent(c.name)} CHECK (${c.expression})`);
    const qualified = quoteQualified(spec.schema, spec.table);
    // The table is new and empty: its indexes build instantly, in the same transaction, as Prisma writes them.
    const indexes: PlannedStatement[] = [
      ...spec.uniques.map((u, i) => ({ unique: true, columns: u.columns, name: u.name ?? prismaStyleName(spec.table, u.columns, 'key', `createTable.uniques.${i}.name`) })),
      ...spec.indexes.map((u, i) => ({ unique: false, columns: u.columns, name: u.name ?? prismaStyleName(spec.table, u.columns, 'idx', `createTable.indexes.${i}.name`) })),
    ].map((index) => ({ sql: `CREATE ${index.unique ? 'UNIQUE ' : ''}INDEX ${quoteIdent(index.name)} ON ${qualified} (${columnList(index.columns)})`, lock: null, scansData: false }));
    // A foreign key takes SHARE ROW EXCLUSIVE on the (existing) referenced table, briefly: the new table has no row to check.
    const foreignKeys = spec.foreignKeys.map((f, i) => {
      const name = f.name ?? prismaStyleName(spec.table, f.columns, 'fkey', `createTable.foreignKeys.${i}.name`);
      const target = quoteQualified(f.references.schema ?? spec.schema, f.references.table);
      const actions = `${f.onDelete ? ` ON DELETE ${f.onDelete}` : ''}${f.onUpdate ? ` ON UPDATE ${f.onUpdate}` : ''}`;
      return alterTable(spec.schema, spec.table, `ADD CONSTRAINT ${quoteIdent(name)} FOREIGN KEY (${columnList(f.columns)}) REFERENCES ${target} (${columnList(f.references.columns)})${actions}`, 'SHARE ROW EXCLUSIVE');
    });
    return {
      expand: [
        {
          kind: 'sql',
          name: `create_table_${spec.table}`,
          transactional: true,
          statements: [{ sql: `CREATE TABLE ${qualified} (\n${[...columns, pk, ...checks].join(',\n')}\n)`, lock: null, scansData: false }, ...indexes, ...foreignKeys],
        },
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
    for (const [i, u] of spec.uniques.entries()) checks.push(await checkIndex(client, spec.schema, u.name ?? prismaStyleName(spec.table, u.columns, 'key', `createTable.uniques.${i}.name`), true));
    for (const [i, u] of spec.indexes.entries()) checks.push(await checkIndex(client, spec.schema, u.name ?? prismaStyleName(spec.table, u.columns, 'idx', `createTable.indexes.${i}.name`)));
    for (const [i, f] of spec.foreignKeys.entries()) checks.push(await checkConstraint(client, spec.schema, spec.table, f.name ?? prismaStyleName(spec.table, f.columns, 'fkey', `createTable.foreignKeys.${i}.name`)));
    for (const c of spec.checks) checks.push(await checkConstraint(client, spec.schema, spec.table, c.name));
    return checks;
  },
} satisfies Operation<CreateTableSpec, z.input<typeof createTableSpec>>;
