import { z } from 'zod';
import { requireColumn, requireTable } from '../db/catalog-snapshot.js';
import { backfillUnit } from './backfill-unit.js';
import { InvalidArgumentError } from '../errors.js';
import { backupTable, type BackupTable } from '../naming.js';
import { quoteIdent, quoteQualified } from '../sql.js';
import type { Operation, PlannedUnit } from './operation.js';
import { notNullUnits } from './set-not-null.js';
import { alterTable, checkColumn, checkTable, columnList, concurrentIndexDefinition, identifier, primaryKeyOf, schemaField, sqlFragment } from './sql-builders.js';
import { createSyncTrigger, dropSyncTrigger } from './sync-trigger.js';

/** Spec of `dropColumn`: by default the column's values are copied to a backup table first. */
export const dropColumnSpec = z
  .object({
    schema: schemaField,
    table: identifier,
    column: identifier,
    backup: z.boolean().default(true),
    /** SQL over the row: the value the column gets when new code (which no longer knows it) writes a row without it; the drop then waits for contract. */
    down: sqlFragment.optional(),
  })
  .strict();
export type DropColumnSpec = z.infer<typeof dropColumnSpec>;

/** The backup table holding (primary key, column) of a dropped column, in the `_evolve` schema. Pure. */
export function droppedColumnBackupName(schema: string, table: string, column: string): BackupTable {
  return backupTable(schema, table, column);
}

/**
 * Drops a column (a contract step: the code that used it must be gone).
 * - With `backup` (default), the primary key and the column's values are first copied to
 *   `_evolve._evolve_bak_<table>_<column>` (outside Prisma's view). That is a read under ACCESS SHARE, in
 *   its own folder.
 * - `DROP COLUMN` takes ACCESS EXCLUSIVE briefly, with no rewrite and no scan.
 * - Down re-adds the column with its type and default and restores the values from the backup in
 *   batches (the backfill engine). It restores NOT NULL by the check-constraint path and rebuilds the
 *   column's indexes concurrently.
 * - Refused when the column belongs to a constraint: drop that first.
 *
 * With `down` (pgroll's `down`), the column goes in two stages, so old code keeps reading it while new code
 * no longer writes it: expand adds a trigger that sets it to `down` (SQL over the row) on every write that
 * leaves it NULL (new code's inserts, which would otherwise break its NOT NULL); contract drops the trigger,
 * then backs the values up and drops the column as above. Down of expand drops the trigger.
 */
export const dropColumn = {
  kind: 'dropColumn',
  spec: dropColumnSpec,
  describe: (spec) => `drop column "${spec.table}"."${spec.column}"${spec.backup ? ' (values backed up)' : ''}`,
  plan(spec, catalog) {
    const table = requireTable(catalog, spec.schema, spec.table);
    const column = requireColumn(table, spec.column, 'dropColumn.column');
    const constraints = table.constraints.filter((c) => c.columns.includes(spec.column));
    if (constraints.length > 0) {
      throw new InvalidArgumentError(
        'dropColumn.column',
        `"${spec.table}"."${spec.column}" belongs to ${constraints.map((c) => `constraint "${c.name}"`).join(', ')}; drop it first`,
      );
    }
    if (column.generated) {
      throw new InvalidArgumentError('dropColumn.column', `"${spec.table}"."${spec.column}" is an identity/serial column; its sequence would go with it and a rollback could not bring it back`);
    }
    const key = primaryKeyOf(table);
    if (spec.backup && key.length === 0) {
      throw new InvalidArgumentError('dropColumn.backup', `"${spec.table}" has no primary key to restore a backup by; pass backup: false`);
    }
    const backupAt = droppedColumnBackupName(spec.schema, spec.table, spec.column);
    const backup = quoteQualified(backupAt.schema, backupAt.table);
    const col = quoteIdent(spec.column);
    const expand: PlannedUnit[] = [];
    if (spec.backup) {
      expand.push({
        kind: 'sql',
        name: `backup_column_${spec.table}_${spec.column}`,
        transactional: true,
        statements: [
          { sql: `CREATE SCHEMA IF NOT EXISTS ${quoteIdent(backupAt.schema)}`, lock: null, scansData: false },
          {
            sql: `CREATE TABLE ${backup} AS SELECT ${columnList([...key, spec.column])} FROM ${quoteQualified(spec.schema, spec.table)}`,
            lock: 'ACCESS SHARE',
            scansData: true,
          },
        ],
      });
    }
    expand.push({
      kind: 'sql',
      name: `drop_column_${spec.table}_${spec.column}`,
      transactional: true,
      // With `down`, its fill-in trigger goes first: its function names the column.
      statements: [...(spec.down !== undefined ? dropSyncTrigger(spec.schema, spec.table, spec.column) : []), alterTable(spec.schema, spec.table, `DROP COLUMN ${col}`, 'ACCESS EXCLUSIVE')],
    });

    const down: PlannedUnit[] = [
      {
        kind: 'sql',
        name: `restore_column_${spec.table}_${spec.column}`,
        transactional: true,
        // Without its default: a volatile one would rewrite the table; it is set after the values are back.
        statements: [alterTable(spec.schema, spec.table, `ADD COLUMN IF NOT EXISTS ${col} ${column.type}`, 'ACCESS EXCLUSIVE')],
      },
    ];
    if (spec.backup) {
      const on = key.map((k) => `b.${quoteIdent(k)} = t.${quoteIdent(k)}`).join(' AND ');
      down.push(
        backfillUnit(`restore_values_${spec.table}_${spec.column}`, `copy "${spec.column}" back from ${backup}`, {
          schema: spec.schema,
          table: spec.table,
          set: { [spec.column]: `b.${col}` },
          join: [{ schema: backupAt.schema, table: backupAt.table, alias: 'b', on }],
          where: `t.${col} IS DISTINCT FROM b.${col}`,
          coverage: false,
          restart: true,
        }),
      );
    }
    if (column.default) {
      down.push({ kind: 'sql', name: `restore_default_${spec.table}_${spec.column}`, transactional: true, statements: [alterTable(spec.schema, spec.table, `ALTER COLUMN ${col} SET DEFAULT ${column.default}`, 'ACCESS EXCLUSIVE')] });
    }
    if (column.notNull) down.push(...notNullUnits(spec.schema, spec.table, spec.column));
    for (const index of table.indexes.filter((i) => i.constraint === null && i.references.includes(spec.column))) {
      down.push({
        kind: 'sql',
        name: `restore_index_${index.name}`,
        transactional: false,
        buildsIndex: { schema: spec.schema, name: index.name },
        statements: [{ sql: concurrentIndexDefinition(index.definition), lock: 'SHARE UPDATE EXCLUSIVE', scansData: true }],
      });
    }
    if (spec.backup) {
      down.push({ kind: 'sql', name: `drop_backup_${spec.table}_${spec.column}`, transactional: true, statements: [{ sql: `DROP TABLE IF EXISTS ${backup}`, lock: 'ACCESS EXCLUSIVE', scansData: false }] });
    }
    if (spec.down !== undefined) {
      // Two stages: the fill-in trigger now, the drop (and its backup) at contract; down of expand drops the trigger only.
      const fill = `  IF NEW.${col} IS NULL THEN NEW.${col} := (SELECT ${spec.down} FROM (SELECT NEW.*) AS evolve_row); END IF;`;
      return {
        expand: [{ kind: 'sql', name: `drop_column_fill_${spec.table}_${spec.column}`, transactional: true, statements: createSyncTrigger(spec.schema, spec.table, spec.column, fill) }],
        down: [{ kind: 'sql', name: `drop_column_fill_down_${spec.table}_${spec.column}`, transactional: true, statements: dropSyncTrigger(spec.schema, spec.table, spec.column) }],
        contract: expand,
      };
    }
    return { expand, down, contract: [] };
  },
  async verify(spec, client, stage) {
    if (spec.down !== undefined && stage === 'expand') return [await checkColumn(client, spec.schema, spec.table, spec.column, { present: true })];
    const checks = [await checkColumn(client, spec.schema, spec.table, spec.column, { present: false })];
    const backupAt = droppedColumnBackupName(spec.schema, spec.table, spec.column);
    if (spec.backup) checks.push(await checkTable(client, backupAt.schema, backupAt.table));
    return checks;
  },
} satisfies Operation<DropColumnSpec, z.input<typeof dropColumnSpec>>;
