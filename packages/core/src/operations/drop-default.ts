import { z } from 'zod';
import { requireColumn, requireTable } from '../db/catalog-snapshot.js';
import { InvalidArgumentError } from '../errors.js';
import { quoteIdent } from '../sql.js';
import { checkDefault } from './column-default.js';
import type { Operation } from './operation.js';
import { alterTable, identifier, schemaField } from './sql-builders.js';

/** Spec of `dropDefault`. */
export const dropDefaultSpec = z.object({ schema: schemaField, table: identifier, column: identifier }).strict();
export type DropDefaultSpec = z.infer<typeof dropDefaultSpec>;

/**
 * Drops a column's default: `ALTER COLUMN … DROP DEFAULT` (ACCESS EXCLUSIVE briefly, no scan). Old code
 * that inserts without the column relies on the default, so put it in a contract phase, once that code is
 * gone (on a NOT NULL column its inserts would fail). Down sets the default back. Refused when the column
 * has none, and for an identity/serial column (its default is its sequence).
 */
export const dropDefault = {
  kind: 'dropDefault',
  spec: dropDefaultSpec,
  describe: (spec) => `drop default of "${spec.table}"."${spec.column}"`,
  plan(spec, catalog) {
    const column = requireColumn(requireTable(catalog, spec.schema, spec.table), spec.column, 'dropDefault.column');
    if (column.generated) throw new InvalidArgumentError('dropDefault.column', `"${spec.table}"."${spec.column}" is an identity/serial column: its default is its sequence`);
    if (column.default === null) throw new InvalidArgumentError('dropDefault.column', `"${spec.table}"."${spec.column}" has no default`);
    const col = quoteIdent(spec.column);
    return {
      expand: [{ kind: 'sql', name: `drop_default_${spec.table}_${spec.column}`, transactional: true, statements: [alterTable(spec.schema, spec.table, `ALTER COLUMN ${col} DROP DEFAULT`, 'ACCESS EXCLUSIVE')] }],
      down: [{ kind: 'sql', name: `restore_default_${spec.table}_${spec.column}`, transactional: true, statements: [alterTable(spec.schema, spec.table, `ALTER COLUMN ${col} SET DEFAULT ${column.default}`, 'ACCESS EXCLUSIVE')] }],
      contract: [],
    };
  },
  async verify(spec, client) {
    return [await checkDefault(client, spec.schema, spec.table, spec.column, { present: false })];
  },
} satisfies Operation<DropDefaultSpec, z.input<typeof dropDefaultSpec>>;
