import { z } from 'zod';
import { requireTable } from '../db/catalog-snapshot.js';
import { InvalidArgumentError } from '../errors.js';
import { quoteIdent, quoteQualified } from '../sql.js';
import { conditionalStatement, constraintExists } from './guard-sql.js';
import type { Operation, PlannedUnit } from './operation.js';
import { alterTable, checkConstraint, concurrentIndexDefinition, identifier, schemaField } from './sql-builders.js';

/** Spec of `dropConstraint`: a check, foreign key or unique constraint by name. */
export const dropConstraintSpec = z.object({ schema: schemaField, table: identifier, name: identifier }).strict();
export type DropConstraintSpec = z.infer<typeof dropConstraintSpec>;

/**
 * Drops a check, foreign key or unique constraint: `DROP CONSTRAINT` (ACCESS EXCLUSIVE briefly, no scan;
 * a unique constraint's index goes with it). It only relaxes a rule, so old code keeps working. Down puts it
 * back without blocking writes for a scan: a check or foreign key `NOT VALID`, then `VALIDATE`; a unique
 * constraint by building its index `CONCURRENTLY` and attaching it (`ADD CONSTRAINT … USING INDEX`,
 * ACCESS EXCLUSIVE briefly). Each down unit is guarded on the catalog, so a rerun is harmless. Down
 * fails, naming the constraint, when rows written since break it. Refused for a primary key and an
 * exclusion constraint.
 */
export const dropConstraint = {
  kind: 'dropConstraint',
  spec: dropConstraintSpec,
  describe: (spec) => `drop constraint "${spec.name}" of "${spec.table}"`,
  plan(spec, catalog) {
    const table = requireTable(catalog, spec.schema, spec.table);
    const constraint = table.constraints.find((c) => c.name === spec.name);
    if (!constraint) throw new InvalidArgumentError('dropConstraint.name', `"${spec.schema}"."${spec.table}" has no constraint "${spec.name}"`);
    if (constraint.type === 'p' || constraint.type === 'x') {
      throw new InvalidArgumentError('dropConstraint.name', `"${spec.name}" is ${constraint.type === 'p' ? 'the primary key' : 'an exclusion constraint'}: dropping it cannot be undone without blocking writes`);
    }
    const name = quoteIdent(spec.name);
    const exists = constraintExists(quoteQualified(spec.schema, spec.table), spec.name);
    const down: PlannedUnit[] = [];
    if (constraint.type === 'u') {
      const index = table.indexes.find((i) => i.constraint === spec.name);
      if (!index) throw new InvalidArgumentError('dropConstraint.name', `unique constraint "${spec.name}" has no index in the catalog`);
      // Each unit is safe to run again, and after an expand that never dropped it: guarded on the catalog.
      down.push(
        {
          kind: 'sql',
          name: `restore_unique_index_${spec.name}`,
          transactional: false,
          buildsIndex: { schema: spec.schema, name: index.name },
          statements: [{ sql: concurrentIndexDefinition(index.definition, { ifNotExists: true }), lock: 'SHARE UPDATE EXCLUSIVE', scansData: true }],
        },
        {
          kind: 'sql',
          name: `restore_unique_${spec.name}`,
          transactional: true,
          statements: [conditionalStatement(`NOT ${exists}`, alterTable(spec.schema, spec.table, `ADD CONSTRAINT ${name} UNIQUE USING INDEX ${quoteIdent(index.name)}`, 'ACCESS EXCLUSIVE'))],
        },
      );
    } else {
      down.push(
        {
          kind: 'sql',
          name: `restore_${spec.name}`,
          transactional: true,
          statements: [conditionalStatement(`NOT ${exists}`, alterTable(spec.schema, spec.table, `ADD CONSTRAINT ${name} ${constraint.definition} NOT VALID`, constraint.type === 'f' ? 'SHARE ROW EXCLUSIVE' : 'ACCESS EXCLUSIVE'))],
        },
        { kind: 'sql', name: `restore_validate_${spec.name}`, transactional: true, statements: [alterTable(spec.schema, spec.table, `VALIDATE CONSTRAINT ${name}`, 'SHARE UPDATE EXCLUSIVE', true)] },
      );
    }
    return {
      expand: [{ kind: 'sql', name: `drop_constraint_${spec.name}`, transactional: true, statements: [alterTable(spec.schema, spec.table, `DROP CONSTRAINT ${name}`, 'ACCESS EXCLUSIVE')] }],
      down,
      contract: [],
    };
  },
  async verify(spec, client) {
    return [await checkConstraint(client, spec.schema, spec.table, spec.name, false)];
  },
} satisfies Operation<DropConstraintSpec, z.input<typeof dropConstraintSpec>>;
