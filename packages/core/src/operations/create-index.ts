import { z } from 'zod';
import { findIndex, requireColumn, requireTable } from '../db/catalog-snapshot.js';
import { InvalidArgumentError } from '../errors.js';
import type { Operation } from './operation.js';
import { prismaStyleName } from './operation.js';
import { checkIndex, createIndexConcurrentlyUnit, dropIndexConcurrentlyUnit, identifier, schemaField, sqlFragment } from './sql-builders.js';

/** Spec of `createIndex`. The name defaults to Prisma's `<Table>_<columns>_idx` (`_key` when unique). */
export const createIndexSpec = z
  .object({
    schema: schemaField,
    table: identifier,
    columns: z.array(identifier).min(1, 'name at least one column'),
    name: identifier.optional(),
    unique: z.boolean().default(false),
    using: z.enum(['btree', 'hash', 'gin', 'gist', 'brin', 'spgist']).optional(),
    where: sqlFragment.optional(),
  })
  .strict();
export type CreateIndexSpec = z.infer<typeof createIndexSpec>;

/** The index name `createIndex` uses for a spec. Pure. */
export function createIndexName(spec: CreateIndexSpec): string {
  return spec.name ?? prismaStyleName(spec.table, spec.columns, spec.unique ? 'key' : 'idx', 'createIndex.name');
}

/**
 * Builds an index with `CREATE INDEX CONCURRENTLY`, in a folder of its own (PostgreSQL refuses it inside
 * a transaction). It holds SHARE UPDATE EXCLUSIVE, so reads and writes go on while it builds. An INVALID
 * index left by a failed earlier try is dropped (concurrently) and rebuilt by the runner before the folder
 * is applied. Down drops it concurrently.
 */
export const createIndex = {
  kind: 'createIndex',
  spec: createIndexSpec,
  describe: (spec) => `create ${spec.unique ? 'unique ' : ''}index "${createIndexName(spec)}" on "${spec.table}" (${spec.columns.join(', ')}) concurrently`,
  plan(spec, catalog) {
    const table = requireTable(catalog, spec.schema, spec.table);
    for (const column of spec.columns) requireColumn(table, column, 'createIndex.columns');
    const name = createIndexName(spec);
    const existing = findIndex(catalog, spec.schema, name);
    if (existing?.index.valid) throw new InvalidArgumentError('createIndex.name', `index "${name}" already exists on "${existing.table.name}"`);
    return {
      expand: [
        createIndexConcurrentlyUnit(`index_${name}`, {
          schema: spec.schema,
          table: spec.table,
          name,
          columns: spec.columns,
          unique: spec.unique,
          ...(spec.using ? { using: spec.using } : {}),
          ...(spec.where ? { where: spec.where } : {}),
        }),
      ],
      down: [dropIndexConcurrentlyUnit(`drop_index_${name}`, spec.schema, name)],
      contract: [],
    };
  },
  async verify(spec, client) {
    return [await checkIndex(client, spec.schema, createIndexName(spec), spec.unique)];
  },
} satisfies Operation<CreateIndexSpec, z.input<typeof createIndexSpec>>;
