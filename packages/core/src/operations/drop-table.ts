import { z } from 'zod';
import { findTable, requireTable } from '../db/catalog-snapshot.js';
import { InvalidArgumentError } from '../errors.js';
import { toolkitName } from '../naming.js';
import { quoteIdent, quoteQualified } from '../sql.js';
import type { Operation } from './operation.js';
import { checkTable, identifier, schemaField } from './sql-builders.js';

/** Spec of `dropTable`. */
export const dropTableSpec = z.object({ schema: schemaField, table: identifier }).strict();
export type DropTableSpec = z.infer<typeof dropTableSpec>;

/** The name the table is kept under between `dropTable`'s expand and its contract. Pure. */
export function droppedTableName(table: string): string {
  return toolkitName('bak', table);
}

/**
 * Drops a table in two stages. Expand renames it to a backup name (`_evolve_bak_<table>`; ACCESS EXCLUSIVE
 * for the rename only, no scan), so code that still used it fails loudly while the data stays; down renames
 * it back. Contract purges the backup (`DROP TABLE`, irreversible).
 */
export const dropTable = {
  kind: 'dropTable',
  spec: dropTableSpec,
  describe: (spec) => `drop table "${spec.schema}"."${spec.table}" (kept as "${droppedTableName(spec.table)}" until contract)`,
  plan(spec, catalog) {
    requireTable(catalog, spec.schema, spec.table);
    const backup = droppedTableName(spec.table);
    if (findTable(catalog, spec.schema, backup)) {
      throw new InvalidArgumentError('dropTable.table', `backup table "${spec.schema}"."${backup}" exists already; purge or rename it first`);
    }
    return {
      expand: [
        {
          kind: 'sql',
          name: `drop_table_${spec.table}`,
          transactional: true,
          statements: [{ sql: `ALTER TABLE ${quoteQualified(spec.schema, spec.table)} RENAME TO ${quoteIdent(backup)}`, lock: 'ACCESS EXCLUSIVE', scansData: false }],
        },
      ],
      down: [
        {
          kind: 'sql',
          name: `restore_table_${spec.table}`,
          transactional: true,
          statements: [{ sql: `ALTER TABLE ${quoteQualified(spec.schema, backup)} RENAME TO ${quoteIdent(spec.table)}`, lock: 'ACCESS EXCLUSIVE', scansData: false }],
        },
      ],
      contract: [
        {
          kind: 'sql',
          name: `purge_table_${spec.table}`,
          transactional: true,
          statements: [{ sql: `DROP TABLE IF EXISTS ${quoteQualified(spec.schema, backup)}`, lock: 'ACCESS EXCLUSIVE', scansData: false }],
        },
      ],
    };
  },
  async verify(spec, client, stage) {
    return [
      await checkTable(client, spec.schema, spec.table, false),
      await checkTable(client, spec.schema, droppedTableName(spec.table), stage === 'expand'),
    ];
  },
} satisfies Operation<DropTableSpec, z.input<typeof dropTableSpec>>;
