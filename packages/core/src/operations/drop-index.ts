import { z } from 'zod';
import { findIndex } from '../db/catalog-snapshot.js';
import { InvalidArgumentError } from '../errors.js';
import type { Operation } from './operation.js';
import { checkIndex, concurrentIndexDefinition, dropIndexConcurrentlyUnit, identifier, schemaField } from './sql-builders.js';

/** Spec of `dropIndex`. */
export const dropIndexSpec = z.object({ schema: schemaField, name: identifier }).strict();
export type DropIndexSpec = z.infer<typeof dropIndexSpec>;

/**
 * Drops an index with `DROP INDEX CONCURRENTLY` (SHARE UPDATE EXCLUSIVE, its own folder). Down rebuilds it
 * concurrently from the definition read when it was planned. Refused for an index that backs a
 * constraint (drop the constraint instead).
 */
export const dropIndex = {
  kind: 'dropIndex',
  spec: dropIndexSpec,
  describe: (spec) => `drop index "${spec.schema}"."${spec.name}" concurrently`,
  plan(spec, catalog) {
    const found = findIndex(catalog, spec.schema, spec.name);
    if (!found) throw new InvalidArgumentError('dropIndex.name', `index "${spec.schema}"."${spec.name}" does not exist`);
    if (found.index.constraint) {
      throw new InvalidArgumentError('dropIndex.name', `index "${spec.name}" backs constraint "${found.index.constraint}" of "${found.table.name}"; drop the constraint instead`);
    }
    return {
      expand: [dropIndexConcurrentlyUnit(`drop_index_${spec.name}`, spec.schema, spec.name)],
      down: [
        {
          kind: 'sql',
          name: `restore_index_${spec.name}`,
          transactional: false,
          buildsIndex: { schema: spec.schema, name: spec.name },
          statements: [{ sql: concurrentIndexDefinition(found.index.definition), lock: 'SHARE UPDATE EXCLUSIVE', scansData: true }],
        },
      ],
      contract: [],
    };
  },
  async verify(spec, client) {
    const check = await checkIndex(client, spec.schema, spec.name);
    return [{ name: `index "${spec.name}" absent`, ok: check.detail === 'missing', detail: check.detail }];
  },
} satisfies Operation<DropIndexSpec, z.input<typeof dropIndexSpec>>;
