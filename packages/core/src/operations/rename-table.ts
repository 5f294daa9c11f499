import { z } from 'zod';
import { findTable, requireTable, type SnapshotTable } from '../db/catalog-snapshot.js';
import { InvalidArgumentError } from '../errors.js';
import { MAX_IDENTIFIER_BYTES, quoteIdent, quoteLiteral, quoteQualified } from '../sql.js';
import { conditionalStatement } from './guard-sql.js';
import type { Check, Operation, PlannedStatement } from './operation.js';
import { alterTable, checkTable, identifier, RENAME_TABLE_VIEW_COMMENT, schemaField } from './sql-builders.js';

/** Spec of `renameTable` (a Prisma `@@map` change). */
export const renameTableSpec = z.object({ schema: schemaField, from: identifier, to: identifier }).strict();
export type RenameTableSpec = z.infer<typeof renameTableSpec>;

/** The sequence a `serial` default draws from (`nextval('"T_id_seq"'::regclass)`), as PostgreSQL prints it; else undefined. Pure. */
function sequenceOf(defaultSql: string | null): string | undefined {
  const match = defaultSql?.match(/^nextval\('(?:"((?:[^"]|"")+)"|([^'".]+))'::regclass\)$/);
  return match ? (match[1]?.replace(/""/g, '"') ?? match[2]) : undefined;
}

/**
 * The renames that give the table's own objects Prisma's names for the new table: every constraint, index
 * and serial sequence whose name starts with `<from>_`, read from `current` (the table before the rename),
 * applied to the table under its new name. Pure.
 */
function followingNames(spec: RenameTableSpec, current: SnapshotTable): PlannedStatement[] {
  const prefix = `${spec.from}_`;
  const renamed = (name: string): string => {
    const next = `${spec.to}_${name.slice(prefix.length)}`;
    if (Buffer.byteLength(next, 'utf8') > MAX_IDENTIFIER_BYTES) throw new InvalidArgumentError('renameTable.to', `"${name}" would become "${next}", longer than ${MAX_IDENTIFIER_BYTES} bytes`);
    return next;
  };
  const statements: PlannedStatement[] = [];
  const constraints = new Set(current.constraints.map((c) => c.name));
  for (const constraint of current.constraints.filter((c) => c.name.startsWith(prefix))) {
    statements.push(alterTable(spec.schema, spec.to, `RENAME CONSTRAINT ${quoteIdent(constraint.name)} TO ${quoteIdent(renamed(constraint.name))}`, 'ACCESS EXCLUSIVE'));
  }
  // A constraint's index is renamed with it.
  for (const index of current.indexes.filter((i) => i.name.startsWith(prefix) && !(i.constraint && constraints.has(i.constraint)))) {
    statements.push({ sql: `ALTER INDEX ${quoteQualified(spec.schema, index.name)} RENAME TO ${quoteIdent(renamed(index.name))}`, lock: 'SHARE UPDATE EXCLUSIVE', scansData: false });
  }
  for (const sequence of current.columns.map((c) => sequenceOf(c.default)).filter((s): s is string => s?.startsWith(prefix) === true)) {
    statements.push({ sql: `ALTER SEQUENCE ${quoteQualified(spec.schema, sequence)} RENAME TO ${quoteIdent(renamed(sequence))}`, lock: null, scansData: false });
  }
  return statements;
}

/**
 * Renames a table (a Prisma `@@map` change) while old and new code both write, as pgroll does:
 * - Expand, one transaction (ACCESS EXCLUSIVE briefly, no scan): the table takes the new name and a view
 *   with the old name (`SELECT *` over it) takes its place. The view is automatically updatable, so old
 *   code's inserts (with the table's defaults and sequences), updates, deletes, `RETURNING` and
 *   `ON CONFLICT` go through to the table; foreign keys follow the table.
 * - Contract (irreversible), one transaction: the view goes, and the table's constraints, indexes and
 *   serial sequences named `<old>_…` take the names Prisma gives them for the new table (`<new>_…`).
 * - Down of expand drops the view and renames the table back.
 * Columns added to the table after expand are not in the view (old code does not know them). Refused when
 * the new name is taken.
 */
export const renameTable = {
  kind: 'renameTable',
  spec: renameTableSpec,
  creates: (spec) => [{ schema: spec.schema, table: spec.to }],
  describe: (spec) => `rename table "${spec.from}" to "${spec.to}" (the old name stays as a view until contract)`,
  plan(spec, catalog) {
    // Planned before expand, the table has its old name. A contract planned on a catalog model where expand
    // already ran (a preview) finds it under the new one, with the names expand left.
    const before = findTable(catalog, spec.schema, spec.from);
    if (before && findTable(catalog, spec.schema, spec.to)) throw new InvalidArgumentError('renameTable.to', `table "${spec.schema}"."${spec.to}" exists already`);
    const current = before ?? findTable(catalog, spec.schema, spec.to) ?? requireTable(catalog, spec.schema, spec.from);
    const [from, to] = [quoteQualified(spec.schema, spec.from), quoteQualified(spec.schema, spec.to)];
    // Only our view: after an expand that stopped before the rename, the old name is still the table.
    const dropView = conditionalStatement(`EXISTS (SELECT 1 FROM pg_class WHERE oid = to_regclass(${quoteLiteral(from)}) AND relkind = 'v')`, {
      sql: `DROP VIEW ${from}`,
      lock: 'ACCESS EXCLUSIVE',
      scansData: false,
    });
    return {
      expand: [
        {
          kind: 'sql',
          name: `rename_table_${spec.from}`,
          transactional: true,
          statements: [
            alterTable(spec.schema, spec.from, `RENAME TO ${quoteIdent(spec.to)}`, 'ACCESS EXCLUSIVE'),
            { sql: `CREATE VIEW ${from} AS SELECT * FROM ${to}`, lock: 'ACCESS SHARE', scansData: false },
            // Marks it as ours: a column swap of the table may proceed while it stands (its contract drops it first).
            { sql: `COMMENT ON VIEW ${from} IS ${quoteLiteral(RENAME_TABLE_VIEW_COMMENT)}`, lock: null, scansData: false },
          ],
        },
      ],
      // Safe to run again, and after an expand that stopped before the rename: only while the old name is free.
      down: [
        {
          kind: 'sql',
          name: `rename_table_back_${spec.to}`,
          transactional: true,
          statements: [dropView, conditionalStatement(`to_regclass(${quoteLiteral(from)}) IS NULL AND to_regclass(${quoteLiteral(to)}) IS NOT NULL`, alterTable(spec.schema, spec.to, `RENAME TO ${quoteIdent(spec.from)}`, 'ACCESS EXCLUSIVE'))],
        },
      ],
      contract: [{ kind: 'sql', name: `rename_table_contract_${spec.to}`, transactional: true, statements: [dropView, ...followingNames(spec, current)] }],
    };
  },
  async verify(spec, client, stage) {
    const { rows } = await client.query<{ kind: string }>(
      `select c.relkind::text as kind from pg_class c join pg_namespace n on n.oid = c.relnamespace where n.nspname = $1 and c.relname = $2`,
      [spec.schema, spec.from],
    );
    const oldName = rows[0]?.kind;
    const checks: Check[] = [
      await checkTable(client, spec.schema, spec.to),
      { name: `"${spec.from}" ${stage === 'expand' ? 'is a view over the table' : 'is gone'}`, ok: stage === 'expand' ? oldName === 'v' : oldName === undefined, detail: oldName === undefined ? 'absent' : `relkind ${oldName}` },
    ];
    if (stage === 'contract') {
      const { rows: stale } = await client.query<{ name: string }>(
        `select conname::text as name from pg_constraint where conrelid = $1::regclass and left(conname, length($2)) = $2
         union select c.relname::text from pg_index i join pg_class c on c.oid = i.indexrelid where i.indrelid = $1::regclass and left(c.relname, length($2)) = $2`,
        [quoteQualified(spec.schema, spec.to), `${spec.from}_`],
      );
      checks.push({ name: `names follow "${spec.to}"`, ok: stale.length === 0, detail: stale.length === 0 ? 'all renamed' : `still named after "${spec.from}": ${stale.map((r) => r.name).join(', ')}` });
    }
    return checks;
  },
} satisfies Operation<RenameTableSpec, z.input<typeof renameTableSpec>>;
