import { z } from 'zod';
import type pg from 'pg';
import { readCatalogSnapshot, requireColumn, requireTable } from '../db/catalog-snapshot.js';
import { RESERVED_PREFIX } from '../naming.js';
import { InvalidArgumentError } from '../errors.js';
import { quoteIdent, quoteQualified } from '../sql.js';
import { backfillUnit } from './backfill-unit.js';
import { guardStatement } from './guard-sql.js';
import type { Check, Operation, PlannedUnit, Stage } from './operation.js';
import { notNullUnits } from './set-not-null.js';
import { alterTable, checkColumn, checkIndex, checkNoDependentViews, identifier, schemaField } from './sql-builders.js';
import { carryDependents } from './carried-dependents.js';
import { createSyncTrigger, dropSyncTrigger, syncObjectNames } from './sync-trigger.js';

/** Spec of `renameColumn`. */
export const renameColumnSpec = z.object({ schema: schemaField, table: identifier, from: identifier, to: identifier }).strict();
export type RenameColumnSpec = z.infer<typeof renameColumnSpec>;

/**
 * Renames a column without breaking the code still running.
 *
 * Expand:
 * 1. Adds the new column (nullable, same type; the default follows at contract).
 * 2. Adds a BEFORE INSERT OR UPDATE trigger that keeps both columns equal. A write that changes the new
 *    column wins; otherwise the old column is copied. This one transaction takes ACCESS EXCLUSIVE
 *    briefly, with no scan.
 * 3. Backfills the new column with the backfill engine.
 * 4. Makes it NOT NULL through the check-constraint path when the old one was.
 *
 * Contract (irreversible), one transaction:
 * - It starts with a guard that fails while a row still differs.
 * - It drops the trigger, the function and the old column, and gives the new column the old default.
 *
 * Down of expand drops the trigger, the function and the new column.
 *
 * Its dependents come along (`carryDependents`): every index (unique, partial, expression, multi-column),
 * unique and check constraint and foreign key of the old column is rebuilt on the new one during expand,
 * indexes `CONCURRENTLY`, constraints `NOT VALID` then `VALIDATE`, so uniqueness and references hold for
 * old and new code at every moment. At contract the old column's go with it and the new ones take the
 * names Prisma expects (`Customer_customer_email_key` → `Customer_email_key`; other names are kept).
 * Refused, naming them: a primary key, an exclusion constraint, a foreign key of another table that
 * references the column, an identity/serial column; and, by the precheck, a view or rule that reads it.
 */
export const renameColumn = {
  kind: 'renameColumn',
  spec: renameColumnSpec,
  creates: (spec) => [{ schema: spec.schema, table: spec.table, column: spec.to }],
  describe: (spec) => `rename "${spec.table}"."${spec.from}" to "${spec.to}" (expand/contract)`,
  plan(spec, catalog) {
    const table = requireTable(catalog, spec.schema, spec.table);
    const from = requireColumn(table, spec.from, 'renameColumn.from');
    if (table.columns.some((c) => c.name === spec.to)) {
      throw new InvalidArgumentError('renameColumn.to', `column "${spec.to}" already exists on "${spec.schema}"."${spec.table}"`);
    }
    if (from.generated) {
      throw new InvalidArgumentError('renameColumn.from', `"${spec.table}"."${spec.from}" is an identity/serial column: its sequence cannot follow a copy of it; keep its name`);
    }
    const carried = carryDependents(catalog, table, spec.from, spec.to, spec.to);
    if (carried.refusals.length > 0) {
      throw new InvalidArgumentError('renameColumn.from', `"${spec.table}"."${spec.from}" has dependents that cannot be carried to "${spec.to}": ${carried.refusals.join('; ')}`);
    }
    const qualified = quoteQualified(spec.schema, spec.table);
    const [oldCol, newCol] = [quoteIdent(spec.from), quoteIdent(spec.to)];
    const unfinished = `EXISTS (SELECT 1 FROM ${qualified} t WHERE t.${newCol} IS DISTINCT FROM t.${oldCol})`;
    const body =
      `  IF TG_OP = 'INSERT' THEN\n    IF NEW.${newCol} IS NULL THEN NEW.${newCol} := NEW.${oldCol}; ELSE NEW.${oldCol} := NEW.${newCol}; END IF;\n` +
      `  ELSIF NEW.${newCol} IS DISTINCT FROM OLD.${newCol} THEN\n    NEW.${oldCol} := NEW.${newCol};\n` +
      `  ELSE\n    NEW.${newCol} := NEW.${oldCol};\n  END IF;`;
    const expand: PlannedUnit[] = [
      {
        kind: 'sql',
        name: `rename_expand_${spec.table}_${spec.to}`,
        transactional: true,
        statements: [
          // No default yet: a NULL new column is how the trigger tells a write of old code from one of new code.
          alterTable(spec.schema, spec.table, `ADD COLUMN ${newCol} ${from.type}`, 'ACCESS EXCLUSIVE'),
          ...createSyncTrigger(spec.schema, spec.table, spec.to, body),
        ],
      },
      backfillUnit(
        `rename_backfill_${spec.table}_${spec.to}`,
        `copy "${spec.from}" into "${spec.to}"`,
        { schema: spec.schema, table: spec.table, set: { [spec.to]: `t.${oldCol}` }, where: `t.${newCol} IS DISTINCT FROM t.${oldCol}` },
        unfinished,
      ),
    ];
    if (from.notNull) expand.push(...notNullUnits(spec.schema, spec.table, spec.to));
    // Its indexes and constraints, rebuilt on the new column while both are in sync: they hold for old and new code throughout.
    expand.push(...carried.expand);
    return {
      expand,
      down: [
        {
          kind: 'sql',
          name: `rename_down_${spec.table}_${spec.to}`,
          transactional: true,
          statements: [...dropSyncTrigger(spec.schema, spec.table, spec.to), alterTable(spec.schema, spec.table, `DROP COLUMN IF EXISTS ${newCol}`, 'ACCESS EXCLUSIVE')],
        },
      ],
      contract: [
        {
          kind: 'sql',
          name: `rename_contract_${spec.table}_${spec.from}`,
          transactional: true,
          statements: [
            guardStatement(unfinished, `"${spec.table}"."${spec.to}" is not yet backfilled from "${spec.from}"; run the expand phase first`),
            ...dropSyncTrigger(spec.schema, spec.table, spec.to),
            // Drops the old column's own indexes and constraints with it; the carried ones take their final names.
            alterTable(spec.schema, spec.table, `DROP COLUMN ${oldCol}`, 'ACCESS EXCLUSIVE'),
            ...carried.contract,
            ...(from.default ? [alterTable(spec.schema, spec.table, `ALTER COLUMN ${newCol} SET DEFAULT ${from.default}`, 'ACCESS EXCLUSIVE')] : []),
          ],
        },
      ],
    };
  },
  async precheck(spec, client) {
    return [await checkNoDependentViews(client, spec.schema, spec.table, spec.from)];
  },
  async verify(spec, client, stage) {
    const { rows } = await client.query<{ n: number }>(
      `select count(*)::int as n from pg_trigger t join pg_class c on c.oid = t.tgrelid join pg_namespace s on s.oid = c.relnamespace
       where s.nspname = $1 and c.relname = $2 and t.tgname = $3`,
      [spec.schema, spec.table, syncObjectNames(spec.table, spec.to).trigger],
    );
    const triggerPresent = (rows[0]?.n ?? 0) > 0;
    const parity =
      stage === 'expand'
        ? await client.query<{ n: number }>(
            `select count(*)::int as n from ${quoteQualified(spec.schema, spec.table)} t where t.${quoteIdent(spec.to)} is distinct from t.${quoteIdent(spec.from)}`,
          )
        : undefined;
    const differing = parity?.rows[0]?.n ?? 0;
    return [
      ...(parity ? [{ name: `"${spec.to}" equals "${spec.from}" in every row`, ok: differing === 0, detail: `${differing} row(s) differ` }] : []),
      ...(await checkCarried(client, spec, stage)),
      await checkColumn(client, spec.schema, spec.table, spec.to, { present: true }),
      await checkColumn(client, spec.schema, spec.table, spec.from, { present: stage === 'expand' }),
      { name: `sync trigger ${stage === 'expand' ? 'present' : 'removed'}`, ok: triggerPresent === (stage === 'expand'), detail: triggerPresent ? 'present' : 'absent' },
    ];
  },
} satisfies Operation<RenameColumnSpec, z.input<typeof renameColumnSpec>>;

/**
 * The carried indexes and constraints, read from the catalog. At expand, while the old column still has its
 * own, each one rebuilt on the new column is present and valid under the name it was built with. At
 * contract, none is left under a building name (each took its final one). Read-only.
 */
async function checkCarried(client: pg.ClientBase, spec: RenameColumnSpec, stage: Stage): Promise<Check[]> {
  const catalog = await readCatalogSnapshot(client, [spec.schema]);
  const table = catalog.tables.find((t) => t.name === spec.table);
  if (!table) return [];
  if (stage === 'contract') {
    const leftover = [...table.indexes.map((i) => i.name), ...table.constraints.map((c) => c.name)].filter((name) => name.startsWith(`${RESERVED_PREFIX}idx_`));
    return [{ name: 'carried indexes and constraints renamed', ok: leftover.length === 0, detail: leftover.length === 0 ? 'final names' : `still under building names: ${leftover.join(', ')}` }];
  }
  if (!table.columns.some((c) => c.name === spec.from)) return [];
  const checks: Check[] = [];
  for (const object of carryDependents(catalog, table, spec.from, spec.to, spec.to).objects) {
    if (object.kind === 'index' || object.kind === 'unique') {
      checks.push(await checkIndex(client, spec.schema, object.building, object.kind === 'unique'));
    } else {
      const found = table.constraints.find((c) => c.name === object.building);
      checks.push({ name: `${object.kind} "${object.building}" carried from "${object.from}"`, ok: found?.validated === true, detail: found ? `validated=${found.validated}` : 'missing' });
    }
  }
  return checks;
}
