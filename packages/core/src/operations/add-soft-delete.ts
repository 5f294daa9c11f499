import { z } from 'zod';
import { findIndex, requireColumn, requireTable } from '../db/catalog-snapshot.js';
import { InvalidArgumentError } from '../errors.js';
import { toolkitName } from '../naming.js';
import { quoteIdent, quoteQualified } from '../sql.js';
import type { Check, Operation, PlannedUnit } from './operation.js';
import { prismaStyleName } from './operation.js';
import { alterTable, checkColumn, checkIndex, createIndexConcurrentlyUnit, dropIndexConcurrentlyUnit, identifier, schemaField, sqlFragment } from './sql-builders.js';

/**
 * Spec of `addSoftDelete`. `partialUniques` names unique indexes or constraints (with their columns) to
 * turn into partial unique indexes `WHERE "<column>" IS NULL`, so a soft-deleted row no longer blocks a
 * new one with the same email.
 */
export const addSoftDeleteSpec = z
  .object({
    schema: schemaField,
    table: identifier,
    /** `timestamp` (a nullable `deletedAt`, Prisma `DateTime?`) or `boolean` (a `deleted` flag, Prisma `Boolean @default(false)`). */
    flag: z.enum(['timestamp', 'boolean']).default('timestamp'),
    /** Default `deletedAt` (timestamp) or `deleted` (boolean). */
    column: identifier.optional(),
    /** SQL type of a timestamp flag. */
    type: sqlFragment.default('TIMESTAMP(3)'),
    index: z.boolean().default(true),
    partialUniques: z.array(z.object({ name: identifier, columns: z.array(identifier).min(1) }).strict()).default([]),
  })
  .strict();
export type AddSoftDeleteSpec = z.infer<typeof addSoftDeleteSpec>;

/** The flag column of a spec: as given, else `deletedAt` or `deleted`. Pure. */
function flagColumn(spec: AddSoftDeleteSpec): string {
  return spec.column ?? (spec.flag === 'boolean' ? 'deleted' : 'deletedAt');
}

/** The column definition and the predicate of a live row, for each form of flag. Pure. */
function flagSql(spec: AddSoftDeleteSpec): { definition: string; live: string } {
  const col = quoteIdent(flagColumn(spec));
  // A constant default is stored once in the catalog (no rewrite, PostgreSQL 11+).
  return spec.flag === 'boolean' ? { definition: `${col} BOOLEAN NOT NULL DEFAULT false`, live: `NOT ${col}` } : { definition: `${col} ${spec.type}`, live: `${col} IS NULL` };
}

/**
 * Adds a soft-delete column (a nullable timestamp, or with `flag: 'boolean'` a `BOOLEAN NOT NULL DEFAULT
 * false`: both instant, ACCESS EXCLUSIVE briefly) and its index (concurrently).
 * Each named unique is rebuilt as a partial unique index:
 * 1. The new index is built concurrently under a temporary name.
 * 2. One short transaction drops the old unique (index or constraint) and renames the new index into
 *    its place.
 * Down reverses every step in the same way: full unique indexes are rebuilt concurrently and constraints
 * re-attached with `USING INDEX`.
 */
export const addSoftDelete = {
  kind: 'addSoftDelete',
  spec: addSoftDeleteSpec,
  creates: (spec) => [{ schema: spec.schema, table: spec.table, column: flagColumn(spec) }],
  describe: (spec) => `add soft delete "${spec.table}"."${flagColumn(spec)}"${spec.partialUniques.length ? `, partial uniques ${spec.partialUniques.map((u) => u.name).join(', ')}` : ''}`,
  plan(spec, catalog) {
    const table = requireTable(catalog, spec.schema, spec.table);
    const column = flagColumn(spec);
    if (table.columns.some((c) => c.name === column)) throw new InvalidArgumentError('addSoftDelete.column', `"${spec.table}"."${column}" already exists`);
    const col = quoteIdent(column);
    const flag = flagSql(spec);
    const indexName = prismaStyleName(spec.table, [column], 'idx', 'addSoftDelete.column');
    const expand: PlannedUnit[] = [
      { kind: 'sql', name: `soft_delete_column_${spec.table}`, transactional: true, statements: [alterTable(spec.schema, spec.table, `ADD COLUMN ${flag.definition}`, 'ACCESS EXCLUSIVE')] },
    ];
    if (spec.index) expand.push(createIndexConcurrentlyUnit(`soft_delete_index_${spec.table}`, { schema: spec.schema, table: spec.table, name: indexName, columns: [column] }));
    const down: PlannedUnit[] = [];
    for (const unique of spec.partialUniques) {
      for (const column of unique.columns) requireColumn(table, column, 'addSoftDelete.partialUniques.columns');
      const found = findIndex(catalog, spec.schema, unique.name);
      if (!found || found.table.name !== spec.table || !found.index.unique) {
        throw new InvalidArgumentError('addSoftDelete.partialUniques', `"${unique.name}" is not a unique index of "${spec.schema}"."${spec.table}"`);
      }
      if (found.index.columns.join(',') !== unique.columns.join(',')) {
        throw new InvalidArgumentError('addSoftDelete.partialUniques', `"${unique.name}" covers (${found.index.columns.join(', ')}), not (${unique.columns.join(', ')})`);
      }
      const constraint = found.index.constraint;
      const tmp = toolkitName('idx', unique.name);
      const swap = (from: string): PlannedUnit => ({
        kind: 'sql',
        name: `swap_unique_${unique.name}`,
        transactional: true,
        statements: [
          constraint
            ? alterTable(spec.schema, spec.table, `DROP CONSTRAINT ${quoteIdent(constraint)}`, 'ACCESS EXCLUSIVE')
            : { sql: `DROP INDEX ${quoteQualified(spec.schema, unique.name)}`, lock: 'ACCESS EXCLUSIVE', scansData: false },
          { sql: `ALTER INDEX ${quoteQualified(spec.schema, from)} RENAME TO ${quoteIdent(unique.name)}`, lock: 'ACCESS EXCLUSIVE', scansData: false },
        ],
      });
      expand.push(
        createIndexConcurrentlyUnit(`partial_unique_${unique.name}`, { schema: spec.schema, table: spec.table, name: tmp, columns: unique.columns, unique: true, where: flag.live }),
        swap(tmp),
      );
      down.unshift(
        createIndexConcurrentlyUnit(`full_unique_${unique.name}`, { schema: spec.schema, table: spec.table, name: tmp, columns: unique.columns, unique: true }),
        {
          kind: 'sql',
          name: `unswap_unique_${unique.name}`,
          transactional: true,
          statements: [
            { sql: `DROP INDEX ${quoteQualified(spec.schema, unique.name)}`, lock: 'ACCESS EXCLUSIVE', scansData: false },
            { sql: `ALTER INDEX ${quoteQualified(spec.schema, tmp)} RENAME TO ${quoteIdent(unique.name)}`, lock: 'ACCESS EXCLUSIVE', scansData: false },
            ...(constraint ? [alterTable(spec.schema, spec.table, `ADD CONSTRAINT ${quoteIdent(constraint)} UNIQUE USING INDEX ${quoteIdent(unique.name)}`, 'ACCESS EXCLUSIVE')] : []),
          ],
        },
      );
    }
    if (spec.index) down.push(dropIndexConcurrentlyUnit(`drop_soft_delete_index_${spec.table}`, spec.schema, indexName));
    down.push({ kind: 'sql', name: `drop_soft_delete_column_${spec.table}`, transactional: true, statements: [alterTable(spec.schema, spec.table, `DROP COLUMN IF EXISTS ${col}`, 'ACCESS EXCLUSIVE')] });
    return { expand, down, contract: [] };
  },
  async verify(spec, client) {
    const column = flagColumn(spec);
    const checks: Check[] = [await checkColumn(client, spec.schema, spec.table, column, { present: true, notNull: spec.flag === 'boolean' })];
    if (spec.index) checks.push(await checkIndex(client, spec.schema, prismaStyleName(spec.table, [column], 'idx', 'addSoftDelete.column')));
    for (const unique of spec.partialUniques) {
      const { rows } = await client.query<{ partial: boolean; valid: boolean }>(
        `select i.indpred is not null as partial, i.indisvalid as valid from pg_index i join pg_class c on c.oid = i.indexrelid
         join pg_namespace n on n.oid = c.relnamespace where n.nspname = $1 and c.relname = $2`,
        [spec.schema, unique.name],
      );
      const row = rows[0];
      checks.push({ name: `"${unique.name}" is a valid partial unique index`, ok: row?.partial === true && row.valid, detail: row ? `partial=${row.partial} valid=${row.valid}` : 'missing' });
    }
    return checks;
  },
} satisfies Operation<AddSoftDeleteSpec, z.input<typeof addSoftDeleteSpec>>;
