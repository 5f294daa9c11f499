import { z } from 'zod';
import { requireTable } from '../db/catalog-snapshot.js';
import { InvalidArgumentError } from '../errors.js';
import { quoteIdent, quoteQualified } from '../sql.js';
import { conditionalStatement, constraintExists } from './guard-sql.js';
import type { Operation } from './operation.js';
import { alterTable, checkConstraint, identifier, schemaField } from './sql-builders.js';

/** Spec of `renameConstraint`. */
export const renameConstraintSpec = z.object({ schema: schemaField, table: identifier, from: identifier, to: identifier }).strict();
export type RenameConstraintSpec = z.infer<typeof renameConstraintSpec>;

/**
 * Renames a constraint (a unique or primary key constraint's index follows): `RENAME CONSTRAINT`,
 * ACCESS EXCLUSIVE briefly, no scan. Rules and data are untouched; only code that names the constraint
 * (`ON CONFLICT ON CONSTRAINT`, error handling by name) sees the change. Down renames it back. Refused when
 * the new name is taken.
 */
export const renameConstraint = {
  kind: 'renameConstraint',
  spec: renameConstraintSpec,
  describe: (spec) => `rename constraint "${spec.from}" of "${spec.table}" to "${spec.to}"`,
  plan(spec, catalog) {
    const table = requireTable(catalog, spec.schema, spec.table);
    if (!table.constraints.some((c) => c.name === spec.from)) throw new InvalidArgumentError('renameConstraint.from', `"${spec.schema}"."${spec.table}" has no constraint "${spec.from}"`);
    if (table.constraints.some((c) => c.name === spec.to) || table.indexes.some((i) => i.name === spec.to)) {
      throw new InvalidArgumentError('renameConstraint.to', `"${spec.to}" is taken on "${spec.schema}"."${spec.table}"`);
    }
    const qualified = quoteQualified(spec.schema, spec.table);
    const rename = (from: string, to: string) => alterTable(spec.schema, spec.table, `RENAME CONSTRAINT ${quoteIdent(from)} TO ${quoteIdent(to)}`, 'ACCESS EXCLUSIVE');
    return {
      expand: [{ kind: 'sql', name: `rename_constraint_${spec.from}`, transactional: true, statements: [rename(spec.from, spec.to)] }],
      // Only while the new name is there and the old one free: safe to run again, and after an expand that never ran.
      down: [{ kind: 'sql', name: `rename_constraint_back_${spec.to}`, transactional: true, statements: [conditionalStatement(`${constraintExists(qualified, spec.to)} AND NOT ${constraintExists(qualified, spec.from)}`, rename(spec.to, spec.from))] }],
      contract: [],
    };
  },
  async verify(spec, client) {
    return [await checkConstraint(client, spec.schema, spec.table, spec.to), await checkConstraint(client, spec.schema, spec.table, spec.from, false)];
  },
} satisfies Operation<RenameConstraintSpec, z.input<typeof renameConstraintSpec>>;
