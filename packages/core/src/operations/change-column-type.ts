import { z } from 'zod';
import { requireColumn, requireTable } from '../db/catalog-snapshot.js';
import { InvalidArgumentError } from '../errors.js';
import { toolkitName } from '../naming.js';
import { quoteIdent, quoteQualified } from '../sql.js';
import { backfillUnit } from './backfill-unit.js';
import { guardStatement } from './guard-sql.js';
import type { Operation, PlannedUnit } from './operation.js';
import { notNullCheckName } from './set-not-null.js';
import { createSyncTrigger, dropSyncTrigger } from './sync-trigger.js';
import { carryDependents } from './carried-dependents.js';
import { alterTable, checkColumn, checkNoDependentViews, identifier, schemaField, sqlFragment } from './sql-builders.js';

/** SQL conversion of a value: gets the SQL of the source value, returns the SQL of the converted one. */
export type SqlConversion = (value: string) => string;

const conversion = z.custom<SqlConversion>((value) => typeof value === 'function', 'must be a function (value SQL) => SQL');

/** Spec of `changeColumnType`. `using` converts old to new (default a cast); `reverse` lets new code write the new column. */
export const changeColumnTypeSpec = z
  .object({
    schema: schemaField,
    table: identifier,
    column: identifier,
    type: sqlFragment,
    using: conversion.optional(),
    reverse: conversion.optional(),
    /** Default of the column after the change (SQL); without it the old default is kept (it must convert). */
    default: sqlFragment.optional(),
  })
  .strict();
export type ChangeColumnTypeSpec = z.infer<typeof changeColumnTypeSpec>;

/** The temporary column holding the new type during the transition. Pure. */
export function typeChangeColumnName(column: string): string {
  return toolkitName('tmp', column);
}

/**
 * Changes a column's type without the table rewrite under ACCESS EXCLUSIVE that `ALTER COLUMN TYPE`
 * does.
 *
 * Expand:
 * 1. Adds `_evolve_tmp_<column>` of the new type.
 * 2. Adds a trigger that fills it from every write of the old column, and fills the old column from
 *    writes of the new one when `reverse` is given.
 * 3. Backfills it with the backfill engine.
 * 4. Adds and validates a NOT NULL check when the column is NOT NULL (validation runs under SHARE UPDATE
 *    EXCLUSIVE).
 *
 * Contract (irreversible), one short transaction:
 * - It starts with a guard that fails while a row's converted value differs.
 * - It drops the trigger and the old column, renames the new one into place, and sets NOT NULL (proven
 *   by the valid check, no scan) and the default.
 *
 * Down of expand drops the trigger, the function and the temporary column.
 *
 * Its indexes and constraints come along (`carryDependents`): rebuilt on the temporary column during
 * expand (indexes `CONCURRENTLY`, constraints `NOT VALID` then `VALIDATE`), renamed to their own names at
 * contract. Its default is kept unless `default` gives one for the new type; the precheck refuses an old
 * default that does not convert. Refused, naming them: a primary key, an exclusion constraint, a foreign
 * key of another table that references the column, an identity/serial column.
 */
export const changeColumnType = {
  kind: 'changeColumnType',
  spec: changeColumnTypeSpec,
  creates: (spec) => [{ schema: spec.schema, table: spec.table, column: typeChangeColumnName(spec.column) }],
  describe: (spec) => `change type of "${spec.table}"."${spec.column}" to ${spec.type} (expand/contract)`,
  plan(spec, catalog) {
    const table = requireTable(catalog, spec.schema, spec.table);
    const column = requireColumn(table, spec.column, 'changeColumnType.column');
    const tmpName = typeChangeColumnName(spec.column);
    if (table.columns.some((c) => c.name === tmpName)) {
      throw new InvalidArgumentError('changeColumnType.column', `"${spec.table}"."${tmpName}" exists already: an earlier change was not finished`);
    }
    if (column.generated) {
      throw new InvalidArgumentError('changeColumnType.column', `"${spec.table}"."${spec.column}" is an identity/serial column: its sequence cannot follow a copy of it`);
    }
    const carried = carryDependents(catalog, table, spec.column, tmpName, spec.column);
    if (carried.refusals.length > 0) {
      throw new InvalidArgumentError('changeColumnType.column', `"${spec.table}"."${spec.column}" has dependents that cannot be carried to the new type: ${carried.refusals.join('; ')}`);
    }
    // The column keeps its default unless the spec gives one for the new type (the precheck proves it converts).
    const finalDefault = spec.default ?? column.default ?? undefined;
    const using = spec.using ?? ((value: string) => `(${value})::${spec.type}`);
    const qualified = quoteQualified(spec.schema, spec.table);
    const [col, tmp] = [quoteIdent(spec.column), quoteIdent(tmpName)];
    const fromNew = spec.reverse ? `NEW.${col} := ${spec.reverse(`NEW.${tmp}`)};` : 'NULL;';
    const unfinished = `EXISTS (SELECT 1 FROM ${qualified} t WHERE t.${tmp} IS DISTINCT FROM ${using(`t.${col}`)})`;
    const check = quoteIdent(notNullCheckName(spec.table, tmpName));
    const body =
      // New code's value flows back only when it disagrees with the conversion of the old column: the
      // backfill (which sets exactly that conversion) must never rewrite values old code still reads.
      `  IF TG_OP = 'INSERT' THEN\n    IF NEW.${tmp} IS NULL THEN NEW.${tmp} := ${using(`NEW.${col}`)};\n` +
      `    ELSIF NEW.${tmp} IS DISTINCT FROM ${using(`NEW.${col}`)} THEN ${fromNew} END IF;\n` +
      `  ELSIF NEW.${tmp} IS DISTINCT FROM OLD.${tmp} AND NEW.${tmp} IS DISTINCT FROM ${using(`NEW.${col}`)} THEN\n    ${fromNew}\n` +
      `  ELSE\n    NEW.${tmp} := ${using(`NEW.${col}`)};\n  END IF;`;
    const expand: PlannedUnit[] = [
      {
        kind: 'sql',
        name: `retype_expand_${spec.table}_${spec.column}`,
        transactional: true,
        statements: [alterTable(spec.schema, spec.table, `ADD COLUMN ${tmp} ${spec.type}`, 'ACCESS EXCLUSIVE'), ...createSyncTrigger(spec.schema, spec.table, tmpName, body)],
      },
      backfillUnit(
        `retype_backfill_${spec.table}_${spec.column}`,
        `convert "${spec.column}" into ${spec.type}`,
        { schema: spec.schema, table: spec.table, set: { [tmpName]: using(`t.${col}`) }, where: `t.${tmp} IS DISTINCT FROM ${using(`t.${col}`)}` },
        unfinished,
      ),
    ];
    if (column.notNull) {
      expand.push(
        { kind: 'sql', name: `retype_not_null_check_${spec.table}_${spec.column}`, transactional: true, statements: [alterTable(spec.schema, spec.table, `ADD CONSTRAINT ${check} CHECK (${tmp} IS NOT NULL) NOT VALID`, 'ACCESS EXCLUSIVE')] },
        { kind: 'sql', name: `retype_not_null_validate_${spec.table}_${spec.column}`, transactional: true, statements: [alterTable(spec.schema, spec.table, `VALIDATE CONSTRAINT ${check}`, 'SHARE UPDATE EXCLUSIVE', true)] },
      );
    }
    expand.push(...carried.expand);
    const drops = dropSyncTrigger(spec.schema, spec.table, tmpName);
    return {
      expand,
      down: [{ kind: 'sql', name: `retype_down_${spec.table}_${spec.column}`, transactional: true, statements: [...drops, alterTable(spec.schema, spec.table, `DROP COLUMN IF EXISTS ${tmp}`, 'ACCESS EXCLUSIVE')] }],
      contract: [
        {
          kind: 'sql',
          name: `retype_contract_${spec.table}_${spec.column}`,
          transactional: true,
          statements: [
            guardStatement(unfinished, `"${spec.table}"."${tmpName}" is not yet converted from "${spec.column}"; run the expand phase first`),
            ...drops,
            alterTable(spec.schema, spec.table, `DROP COLUMN ${col}`, 'ACCESS EXCLUSIVE'),
            alterTable(spec.schema, spec.table, `RENAME COLUMN ${tmp} TO ${col}`, 'ACCESS EXCLUSIVE'),
            ...carried.contract,
            ...(column.notNull
              ? [alterTable(spec.schema, spec.table, `ALTER COLUMN ${col} SET NOT NULL`, 'ACCESS EXCLUSIVE'), alterTable(spec.schema, spec.table, `DROP CONSTRAINT ${check}`, 'ACCESS EXCLUSIVE')]
              : []),
            ...(finalDefault ? [alterTable(spec.schema, spec.table, `ALTER COLUMN ${col} SET DEFAULT ${finalDefault}`, 'ACCESS EXCLUSIVE')] : []),
          ],
        },
      ],
    };
  },
  async precheck(spec, client, catalog) {
    const column = requireColumn(requireTable(catalog, spec.schema, spec.table), spec.column, 'changeColumnType.column');
    const views = await checkNoDependentViews(client, spec.schema, spec.table, spec.column);
    if (spec.default !== undefined || column.default === null) return [views];
    // Evaluating a default that draws from a sequence would consume a value: it is kept without the test.
    if (/\bnextval\s*\(/i.test(column.default)) return [views, { name: `default of "${spec.column}" kept`, ok: true, detail: `${column.default} (not evaluated: it draws from a sequence)` }];
    // The old default must still mean something for the new type: it is cast once, read-only.
    const converts = await client.query(`select (${column.default})::${spec.type}`).then(() => true, () => false);
    return [
      views,
      {
        name: `default of "${spec.column}" converts to ${spec.type}`,
        ok: converts,
        detail: converts ? `${column.default} is kept` : `${column.default} cannot become ${spec.type}; give \`default\` for the new type`,
      },
    ];
  },
  async verify(spec, client, stage) {
    const tmpName = typeChangeColumnName(spec.column);
    const { rows } = await client.query<{ type: string }>(
      `select format_type(a.atttypid, a.atttypmod) as type from pg_attribute a join pg_class c on c.oid = a.attrelid
       join pg_namespace n on n.oid = c.relnamespace where n.nspname = $1 and c.relname = $2 and a.attname = $3 and not a.attisdropped`,
      [spec.schema, spec.table, stage === 'expand' ? tmpName : spec.column],
    );
    const expected = await client.query<{ type: string }>(`select format_type($1::regtype, null) as type`, [spec.type]).catch(() => undefined);
    const actual = rows[0]?.type;
    return [
      { name: `${stage === 'expand' ? `"${tmpName}"` : `"${spec.column}"`} has type ${spec.type}`, ok: actual !== undefined && (expected === undefined || actual.startsWith(expected.rows[0]?.type ?? '')), detail: actual ?? 'absent' },
      await checkColumn(client, spec.schema, spec.table, tmpName, { present: stage === 'expand' }),
    ];
  },
} satisfies Operation<ChangeColumnTypeSpec, z.input<typeof changeColumnTypeSpec>>;
