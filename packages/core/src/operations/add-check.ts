import { z } from 'zod';
import { requireTable } from '../db/catalog-snapshot.js';
import { InvalidArgumentError } from '../errors.js';
import { quoteIdent } from '../sql.js';
import type { Operation } from './operation.js';
import { alterTable, checkConstraint, countWithSamples, identifier, primaryKeyOf, schemaField, sqlFragment } from './sql-builders.js';

/** Spec of `addCheck`: a named CHECK constraint over the table's columns. */
export const addCheckSpec = z.object({ schema: schemaField, table: identifier, name: identifier, expression: sqlFragment }).strict();
export type AddCheckSpec = z.infer<typeof addCheckSpec>;

/**
 * Adds a CHECK constraint in two short transactions:
 * 1. `NOT VALID`: ACCESS EXCLUSIVE, no scan.
 * 2. `VALIDATE`: SHARE UPDATE EXCLUSIVE during the scan, so writes go on.
 * The precheck counts the violating rows and lists sample keys first, so nothing runs when the data
 * does not satisfy it. Down drops it.
 */
export const addCheck = {
  kind: 'addCheck',
  spec: addCheckSpec,
  describe: (spec) => `add check "${spec.name}" on "${spec.table}": ${spec.expression}`,
  plan(spec, catalog) {
    const table = requireTable(catalog, spec.schema, spec.table);
    if (table.constraints.some((c) => c.name === spec.name)) {
      throw new InvalidArgumentError('addCheck.name', `constraint "${spec.name}" already exists on "${spec.schema}"."${spec.table}"`);
    }
    const name = quoteIdent(spec.name);
    return {
      expand: [
        { kind: 'sql', name: `check_${spec.name}`, transactional: true, statements: [alterTable(spec.schema, spec.table, `ADD CONSTRAINT ${name} CHECK (${spec.expression}) NOT VALID`, 'ACCESS EXCLUSIVE')] },
        { kind: 'sql', name: `check_validate_${spec.name}`, transactional: true, statements: [alterTable(spec.schema, spec.table, `VALIDATE CONSTRAINT ${name}`, 'SHARE UPDATE EXCLUSIVE', true)] },
      ],
      down: [{ kind: 'sql', name: `drop_check_${spec.name}`, transactional: true, statements: [alterTable(spec.schema, spec.table, `DROP CONSTRAINT IF EXISTS ${name}`, 'ACCESS EXCLUSIVE')] }],
      contract: [],
    };
  },
  async precheck(spec, client, catalog) {
    const table = requireTable(catalog, spec.schema, spec.table);
    const { count, samples } = await countWithSamples(client, spec.schema, spec.table, `NOT (${spec.expression})`, primaryKeyOf(table));
    return [
      {
        name: `rows of "${spec.table}" satisfy "${spec.name}"`,
        ok: count === 0,
        detail: count === 0 ? 'all rows satisfy it' : `${count} row(s) violate ${spec.expression}, e.g. keys ${samples.join(', ')}; fix or remove them first`,
      },
    ];
  },
  async verify(spec, client) {
    return [await checkConstraint(client, spec.schema, spec.table, spec.name)];
  },
} satisfies Operation<AddCheckSpec, z.input<typeof addCheckSpec>>;
