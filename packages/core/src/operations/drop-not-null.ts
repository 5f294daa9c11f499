import { z } from 'zod';
import { requireColumn, requireTable } from '../db/catalog-snapshot.js';
import { InvalidArgumentError } from '../errors.js';
import { quoteIdent } from '../sql.js';
import type { Operation } from './operation.js';
import { notNullUnits } from './set-not-null.js';
import { alterTable, checkColumn, identifier, schemaField } from './sql-builders.js';

/** Spec of `dropNotNull`. */
export const dropNotNullSpec = z.object({ schema: schemaField, table: identifier, column: identifier }).strict();
export type DropNotNullSpec = z.infer<typeof dropNotNullSpec>;

/**
 * Makes a column nullable: `ALTER COLUMN … DROP NOT NULL` (ACCESS EXCLUSIVE briefly, no scan). It only
 * relaxes a rule, so old code keeps working; old code that reads the column may now see NULLs new code
 * writes. Down restores NOT NULL through the check path (`CHECK … NOT VALID`, `VALIDATE`, `SET NOT NULL`),
 * which fails, naming the column, once new code has written NULLs. Refused for a primary key column.
 */
export const dropNotNull = {
  kind: 'dropNotNull',
  spec: dropNotNullSpec,
  describe: (spec) => `make "${spec.table}"."${spec.column}" nullable`,
  plan(spec, catalog) {
    const table = requireTable(catalog, spec.schema, spec.table);
    const column = requireColumn(table, spec.column, 'dropNotNull.column');
    if (!column.notNull) throw new InvalidArgumentError('dropNotNull.column', `"${spec.table}"."${spec.column}" is nullable already`);
    const key = table.constraints.find((c) => c.type === 'p' && c.columns.includes(spec.column));
    if (key) throw new InvalidArgumentError('dropNotNull.column', `"${spec.table}"."${spec.column}" belongs to primary key "${key.name}"`);
    return {
      expand: [{ kind: 'sql', name: `drop_not_null_${spec.table}_${spec.column}`, transactional: true, statements: [alterTable(spec.schema, spec.table, `ALTER COLUMN ${quoteIdent(spec.column)} DROP NOT NULL`, 'ACCESS EXCLUSIVE')] }],
      down: notNullUnits(spec.schema, spec.table, spec.column),
      contract: [],
    };
  },
  async verify(spec, client) {
    return [await checkColumn(client, spec.schema, spec.table, spec.column, { present: true, notNull: false })];
  },
} satisfies Operation<DropNotNullSpec, z.input<typeof dropNotNullSpec>>;
