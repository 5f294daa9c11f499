import { z } from 'zod';
import { requireColumn, requireTable } from '../db/catalog-snapshot.js';
import { quoteIdent } from '../sql.js';
import { checkDefault } from './column-default.js';
import type { Operation } from './operation.js';
import { alterTable, identifier, schemaField, sqlFragment } from './sql-builders.js';

/** Spec of `setDefault`: the column's new default, SQL (volatile ones included). */
export const setDefaultSpec = z.object({ schema: schemaField, table: identifier, column: identifier, default: sqlFragment }).strict();
export type SetDefaultSpec = z.infer<typeof setDefaultSpec>;

/**
 * Sets a column's default: `ALTER COLUMN … SET DEFAULT`, a catalog change only (ACCESS EXCLUSIVE briefly,
 * no rewrite and no scan, even for a volatile default: it applies to rows inserted from then on). Old code
 * that omits the column gets the new default too. Down puts the previous default back, or drops it when
 * there was none.
 */
export const setDefault = {
  kind: 'setDefault',
  spec: setDefaultSpec,
  describe: (spec) => `set default of "${spec.table}"."${spec.column}" to ${spec.default}`,
  plan(spec, catalog) {
    const column = requireColumn(requireTable(catalog, spec.schema, spec.table), spec.column, 'setDefault.column');
    const col = quoteIdent(spec.column);
    const previous = column.default === null ? `ALTER COLUMN ${col} DROP DEFAULT` : `ALTER COLUMN ${col} SET DEFAULT ${column.default}`;
    return {
      expand: [{ kind: 'sql', name: `set_default_${spec.table}_${spec.column}`, transactional: true, statements: [alterTable(spec.schema, spec.table, `ALTER COLUMN ${col} SET DEFAULT ${spec.default}`, 'ACCESS EXCLUSIVE')] }],
      down: [{ kind: 'sql', name: `restore_default_${spec.table}_${spec.column}`, transactional: true, statements: [alterTable(spec.schema, spec.table, previous, 'ACCESS EXCLUSIVE')] }],
      contract: [],
    };
  },
  async verify(spec, client) {
    return [await checkDefault(client, spec.schema, spec.table, spec.column, { present: true })];
  },
} satisfies Operation<SetDefaultSpec, z.input<typeof setDefaultSpec>>;
