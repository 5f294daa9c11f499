import { z } from 'zod';
import { requireTable } from '../db/catalog-snapshot.js';
import { backupTable, type BackupTable } from '../naming.js';
import { relationExists } from '../db/table-catalog.js';
import { quoteIdent, quoteQualified } from '../sql.js';
import type { Operation } from './operation.js';
import { checkTable, identifier, schemaField } from './sql-builders.js';

/** Spec of `dropTable`. */
export const dropTableSpec = z.object({ schema: schemaField, table: identifier }).strict();
export type DropTableSpec = z.infer<typeof dropTableSpec>;

/** Where the table is kept between `dropTable`'s expand and its contract (`_evolve._evolve_bak_<table>`). Pure. */
export function droppedTableName(schema: string, table: string): BackupTable {
  return backupTable(schema, table);
}

/**
 * Drops a table in two stages. Expand renames it to a backup name and moves it into the `_evolve` schema
 * (`_evolve._evolve_bak_<table>`, out of Prisma's drift check; ACCESS EXCLUSIVE for the rename and the move
 * only, no scan, one transaction), so code that still used it fails loudly while the data, indexes and
 * constraints stay; down moves it back. Contract purges the backup (`DROP TABLE`, irreversible). The
 * precheck refuses when the table is still in place and a backup of that name exists already.
 */
export const dropTable = {
  kind: 'dropTable',
  spec: dropTableSpec,
  describe: (spec) => {
    const backup = droppedTableName(spec.schema, spec.table);
    return `drop table "${spec.schema}"."${spec.table}" (kept as "${backup.schema}"."${backup.table}" until contract)`;
  },
  plan(spec, catalog) {
    requireTable(catalog, spec.schema, spec.table);
    const backup = droppedTableName(spec.schema, spec.table);
    const rename = (schema: string, from: string, to: string) => ({ sql: `ALTER TABLE ${quoteQualified(schema, from)} RENAME TO ${quoteIdent(to)}`, lock: 'ACCESS EXCLUSIVE' as const, scansData: false });
    const setSchema = (schema: string, table: string, to: string) => ({ sql: `ALTER TABLE ${quoteQualified(schema, table)} SET SCHEMA ${quoteIdent(to)}`, lock: 'ACCESS EXCLUSIVE' as const, scansData: false });
    return {
      expand: [
        {
          kind: 'sql',
          name: `drop_table_${spec.table}`,
          transactional: true,
          // Renamed in place first: the backup schema may hold a table of the same name (the tracking table, say).
          statements: [
            { sql: `CREATE SCHEMA IF NOT EXISTS ${quoteIdent(backup.schema)}`, lock: null, scansData: false },
            rename(spec.schema, spec.table, backup.table),
            setSchema(spec.schema, backup.table, backup.schema),
          ],
        },
      ],
      down: [
        {
          kind: 'sql',
          name: `restore_table_${spec.table}`,
          transactional: true,
          statements: [setSchema(backup.schema, backup.table, spec.schema), rename(spec.schema, backup.table, spec.table)],
        },
      ],
      contract: [
        {
          kind: 'sql',
          name: `purge_table_${spec.table}`,
          transactional: true,
          statements: [{ sql: `DROP TABLE IF EXISTS ${quoteQualified(backup.schema, backup.table)}`, lock: 'ACCESS EXCLUSIVE', scansData: false }],
        },
      ],
    };
  },
  async precheck(spec, client) {
    const backup = droppedTableName(spec.schema, spec.table);
    // Only while the table is still in place: once expand moved it, the backup is the table itself.
    const taken = (await relationExists(client, quoteQualified(spec.schema, spec.table))) && (await relationExists(client, quoteQualified(backup.schema, backup.table)));
    return [{ name: 'backup name free', ok: !taken, detail: taken ? `backup table "${backup.schema}"."${backup.table}" exists already; purge or rename it first` : 'free' }];
  },
  async verify(spec, client, stage) {
    const backup = droppedTableName(spec.schema, spec.table);
    return [await checkTable(client, spec.schema, spec.table, false), await checkTable(client, backup.schema, backup.table, stage === 'expand')];
  },
} satisfies Operation<DropTableSpec, z.input<typeof dropTableSpec>>;
