import { z } from 'zod';
import { requireColumn, requireTable } from '../db/catalog-snapshot.js';
import { InvalidArgumentError } from '../errors.js';
import { quoteIdent } from '../sql.js';
import type { Operation } from './operation.js';
import { checkRepairTrigger, dropRepairTrigger, repairRowsUnit, repairTriggerUnit, type RuleRepair } from './rule-repair.js';
import { alterTable, checkConstraint, countWithSamples, identifier, primaryKeyOf, schemaField, sqlFragment } from './sql-builders.js';

/**
 * Spec of `addCheck`: a named CHECK constraint over the table's columns. With `column` and `up` (SQL over
 * the row), rows that would break it get `column` set to `up`: the existing ones, and old code's writes until
 * contract.
 */
export const addCheckSpec = z
  .object({ schema: schemaField, table: identifier, name: identifier, expression: sqlFragment, column: identifier.optional(), up: sqlFragment.optional() })
  .strict()
  .refine((spec) => (spec.column === undefined) === (spec.up === undefined), { path: ['up'], message: 'give `column` and `up` together' });
export type AddCheckSpec = z.infer<typeof addCheckSpec>;

/** The repair of rows that would break the check, when `column` and `up` are given. Pure. */
function repairOf(spec: AddCheckSpec): RuleRepair | undefined {
  if (spec.column === undefined || spec.up === undefined) return undefined;
  return { schema: spec.schema, table: spec.table, rule: spec.name, column: spec.column, up: spec.up, broken: () => `NOT (${spec.expression})` };
}

/**
 * Adds a CHECK constraint in two short transactions:
 * 1. `NOT VALID`: ACCESS EXCLUSIVE, no scan.
 * 2. `VALIDATE`: SHARE UPDATE EXCLUSIVE during the scan, so writes go on.
 * The precheck counts the violating rows and lists sample keys first, so nothing runs when the data
 * does not satisfy it. Down drops it.
 *
 * With `column` and `up`, old code that still writes violating rows keeps working: a trigger (first, its own
 * short transaction) sets `column` to `up` on every write that would break the check, the existing
 * violations are repaired in batches between the two steps, and the precheck reports them as repaired. The
 * trigger goes at contract, from when on a violating write is refused. Repaired values stay on rollback.
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
    if (spec.column !== undefined) requireColumn(table, spec.column, 'addCheck.column');
    const name = quoteIdent(spec.name);
    const repair = repairOf(spec);
    return {
      expand: [
        ...(repair ? [repairTriggerUnit(repair)] : []),
        { kind: 'sql', name: `check_${spec.name}`, transactional: true, statements: [alterTable(spec.schema, spec.table, `ADD CONSTRAINT ${name} CHECK (${spec.expression}) NOT VALID`, 'ACCESS EXCLUSIVE')] },
        ...(repair ? [repairRowsUnit(repair)] : []),
        { kind: 'sql', name: `check_validate_${spec.name}`, transactional: true, statements: [alterTable(spec.schema, spec.table, `VALIDATE CONSTRAINT ${name}`, 'SHARE UPDATE EXCLUSIVE', true)] },
      ],
      down: [
        {
          kind: 'sql',
          name: `drop_check_${spec.name}`,
          transactional: true,
          statements: [alterTable(spec.schema, spec.table, `DROP CONSTRAINT IF EXISTS ${name}`, 'ACCESS EXCLUSIVE'), ...(repair ? dropRepairTrigger(repair) : [])],
        },
      ],
      contract: repair ? [{ kind: 'sql', name: `check_contract_${spec.name}`, transactional: true, statements: dropRepairTrigger(repair) }] : [],
    };
  },
  async precheck(spec, client, catalog) {
    const table = requireTable(catalog, spec.schema, spec.table);
    const { count, samples } = await countWithSamples(client, spec.schema, spec.table, `NOT (${spec.expression})`, primaryKeyOf(table));
    if (spec.up !== undefined) return [{ name: `rows of "${spec.table}" breaking "${spec.name}" repaired by up`, ok: true, detail: `${count} row(s) will get "${spec.column}" = ${spec.up}` }];
    return [
      {
        name: `rows of "${spec.table}" satisfy "${spec.name}"`,
        ok: count === 0,
        detail: count === 0 ? 'all rows satisfy it' : `${count} row(s) violate ${spec.expression}, e.g. keys ${samples.join(', ')}; fix or remove them first`,
      },
    ];
  },
  async verify(spec, client, stage) {
    const repair = repairOf(spec);
    return [await checkConstraint(client, spec.schema, spec.table, spec.name), ...(repair ? [await checkRepairTrigger(client, repair, stage)] : [])];
  },
} satisfies Operation<AddCheckSpec, z.input<typeof addCheckSpec>>;
