import type pg from 'pg';
import { z } from 'zod';
import type { CatalogSnapshot } from '../db/catalog-snapshot.js';
import { InvalidArgumentError } from '../errors.js';
import { toolkitName } from '../naming.js';
import { quoteIdent, quoteLiteral, quoteQualified } from '../sql.js';
import { enumLabels } from './add-enum-value.js';
import { changeColumnType } from './change-column-type.js';
import type { Check, Operation, OperationPlan, PlannedUnit } from './operation.js';
import { identifier, RENAME_TABLE_VIEW_COMMENT, schemaField } from './sql-builders.js';

/**
 * Spec of `changeEnum`: the enum's values afterwards, in order, and `map` from each value that goes (removed
 * or renamed) to the value its rows take.
 */
export const changeEnumSpec = z
  .object({
    schema: schemaField,
    enum: identifier,
    values: z.array(z.string().min(1).max(63)).min(1, 'an enum needs at least one value'),
    map: z.record(z.string(), z.string()).default({}),
  })
  .strict()
  .superRefine((spec, ctx) => {
    if (new Set(spec.values).size !== spec.values.length) ctx.addIssue({ code: 'custom', path: ['values'], message: 'values must be distinct' });
    for (const [from, to] of Object.entries(spec.map)) {
      if (!spec.values.includes(to)) ctx.addIssue({ code: 'custom', path: ['map', from], message: `maps to ${JSON.stringify(to)}, which is not one of the values` });
      if (spec.values.includes(from)) ctx.addIssue({ code: 'custom', path: ['map', from], message: `${JSON.stringify(from)} stays a value; only values that go are mapped` });
    }
  });
export type ChangeEnumSpec = z.infer<typeof changeEnumSpec>;

/** The type the new values live in until contract renames it to the enum's name. Pure. */
export function changedEnumName(name: string): string {
  return toolkitName('tmp', name, 'enum');
}

/** The columns of tables in `catalog` whose type is the enum (as `format_type` prints it: quoted when needed, qualified outside `public`). Pure. */
function columnsOfEnum(catalog: CatalogSnapshot, schema: string, name: string): { table: string; column: string; default: string | null }[] {
  const printed = new Set([name, quoteIdent(name), `${schema}.${name}`, `${quoteIdent(schema)}.${quoteIdent(name)}`, `${schema}.${quoteIdent(name)}`]);
  return catalog.tables.flatMap((table) =>
    table.schema !== schema ? [] : table.columns.filter((c) => printed.has(c.type)).map((c) => ({ table: table.name, column: c.name, default: c.default })),
  );
}

/**
 * Uses of the enum the type swap does not follow: columns of it or of its array in other schemas, array
 * columns, views, composite types, and functions taking or returning it. Any of them would make the
 * contract's `DROP TYPE` fail after the columns were swapped, so the precheck refuses first, naming them.
 * Read-only.
 */
async function otherUses(client: pg.ClientBase, spec: ChangeEnumSpec, catalog: CatalogSnapshot): Promise<Check> {
  const type = quoteQualified(spec.schema, spec.enum);
  const followed = new Set(columnsOfEnum(catalog, spec.schema, spec.enum).map((c) => JSON.stringify([spec.schema, c.table, c.column])));
  const { rows } = await client.query<{ schema: string | null; relation: string | null; column: string | null; name: string }>(
    `select n.nspname::text as schema, c.relname::text as relation, a.attname::text as column, format('%I.%I.%I', n.nspname, c.relname, a.attname) as name
       from pg_attribute a join pg_class c on c.oid = a.attrelid join pg_namespace n on n.oid = c.relnamespace
      where a.attnum > 0 and not a.attisdropped and c.relkind in ('r', 'p', 'v', 'm', 'c', 'f')
        and (a.atttypid = $1::regtype or a.atttypid = (select typarray from pg_type where oid = $1::regtype))
        -- The view renameTable leaves under an old table name goes at its own contract, before this one's.
        and obj_description(c.oid, 'pg_class') is distinct from $2
     union all
     select null, null, null, p.oid::regprocedure::text from pg_proc p where $1::regtype = any(p.proargtypes) or p.prorettype = $1::regtype
     order by 4`,
    [type, RENAME_TABLE_VIEW_COMMENT],
  );
  const others = rows.filter((r) => !followed.has(JSON.stringify([r.schema, r.relation, r.column]))).map((r) => r.name);
  return {
    name: `every use of enum "${spec.enum}" is a column the change follows`,
    ok: others.length === 0,
    detail: others.length === 0 ? 'only columns of tables in its schema' : `also used by ${others.join(', ')}: change or drop them first`,
  };
}

/** `CASE value WHEN 'old' THEN 'new' … END` over `value` (text), cast to `type`. Pure. */
function mapped(value: string, map: Readonly<Record<string, string>>, type: string): string {
  const cases = Object.entries(map).map(([from, to]) => ` WHEN ${quoteLiteral(from)} THEN ${quoteLiteral(to)}`);
  return cases.length === 0 ? `(${value})::text::${type}` : `(CASE (${value})::text${cases.join('')} ELSE (${value})::text END)::${type}`;
}

/**
 * Changes an enum's values (removes, renames, reorders, adds) without rewriting a table under ACCESS
 * EXCLUSIVE and without breaking old or new code during expand:
 * - Expand: every value of `values` is added to the old type (`ADD VALUE IF NOT EXISTS`, a folder each, so
 *   new code can write the new values into the columns it knows); the new type is created; then each
 *   column of the old type goes through `changeColumnType` to the new one, with `map` applied by its trigger
 *   (old code's writes of a value that goes are mapped as they happen) and by its backfill.
 * - Contract: each column's swap (`changeColumnType` contract), then the old type is dropped and the new
 *   one takes its name, so Prisma sees its enum with exactly `values`.
 * - Down drops each column's temporary column and the new type; the values added to the old type stay
 *   (PostgreSQL cannot drop one; they are unused).
 * The precheck counts the rows holding a value that goes without a mapping and refuses, naming value,
 * table and column; it also refuses, naming them, uses it does not follow (columns in other schemas,
 * arrays of it, views, functions), which would make the contract's `DROP TYPE` fail half-way.
 */
export const changeEnum = {
  kind: 'changeEnum',
  spec: changeEnumSpec,
  describe: (spec) => `change enum "${spec.schema}"."${spec.enum}" to (${spec.values.join(', ')})${Object.keys(spec.map).length > 0 ? `, mapping ${Object.entries(spec.map).map(([a, b]) => `${a} → ${b}`).join(', ')}` : ''}`,
  plan(spec, catalog): OperationPlan {
    const columns = columnsOfEnum(catalog, spec.schema, spec.enum);
    const oldType = quoteQualified(spec.schema, spec.enum);
    const newName = changedEnumName(spec.enum);
    const newType = quoteQualified(spec.schema, newName);
    const expand: PlannedUnit[] = spec.values.map((value, i) => ({
      kind: 'sql',
      name: `enum_${spec.enum}_value_${i + 1}`,
      transactional: false,
      statements: [{ sql: `ALTER TYPE ${oldType} ADD VALUE IF NOT EXISTS ${quoteLiteral(value)}`, lock: null, scansData: false }],
    }));
    expand.push({
      kind: 'sql',
      name: `enum_${spec.enum}_new_type`,
      transactional: true,
      statements: [{ sql: `CREATE TYPE ${newType} AS ENUM (${spec.values.map(quoteLiteral).join(', ')})`, lock: null, scansData: false }],
    });
    const down: PlannedUnit[] = [];
    const contract: PlannedUnit[] = [];
    for (const column of columns) {
      // The old default names the old type: the new column's default is the mapped value of the new type.
      const literal = column.default?.match(/^'((?:[^']|'')*)'::/)?.[1]?.replace(/''/g, "'");
      const newDefault = literal === undefined ? undefined : `${quoteLiteral(spec.map[literal] ?? literal)}::${newType}`;
      if (column.default !== null && newDefault === undefined) {
        throw new InvalidArgumentError('changeEnum', `the default of "${column.table}"."${column.column}" (${column.default}) is not a plain value of the enum; drop it first (dropDefault) and set it again after`);
      }
      const plan = changeColumnType.plan(
        changeColumnType.spec.parse({
          schema: spec.schema,
          table: column.table,
          column: column.column,
          type: newType,
          using: (value: string) => mapped(value, spec.map, newType),
          reverse: (value: string) => `(${value})::text::${oldType}`,
          ...(newDefault ? { default: newDefault } : {}),
        }),
        catalog,
      );
      expand.push(...plan.expand);
      down.push(...plan.down);
      contract.push(...plan.contract);
    }
    down.push({ kind: 'sql', name: `enum_${spec.enum}_drop_new_type`, transactional: true, statements: [{ sql: `DROP TYPE IF EXISTS ${newType}`, lock: null, scansData: false }] });
    contract.push({
      kind: 'sql',
      name: `enum_${spec.enum}_swap`,
      transactional: true,
      statements: [
        { sql: `DROP TYPE ${oldType}`, lock: 'ACCESS EXCLUSIVE', scansData: false },
        { sql: `ALTER TYPE ${newType} RENAME TO ${quoteIdent(spec.enum)}`, lock: 'ACCESS EXCLUSIVE', scansData: false },
      ],
    });
    return { expand, down, contract };
  },
  async precheck(spec, client, catalog) {
    const labels = await enumLabels(client, spec.schema, spec.enum);
    if (labels === undefined) return [{ name: `enum "${spec.schema}"."${spec.enum}" exists`, ok: false, detail: 'absent' }];
    const going = labels.filter((label) => !spec.values.includes(label) && spec.map[label] === undefined);
    const checks: Check[] = [await otherUses(client, spec, catalog)];
    for (const column of columnsOfEnum(catalog, spec.schema, spec.enum)) {
      if (going.length === 0) break;
      const { rows } = await client.query<{ value: string; n: number }>(
        `select ${quoteIdent(column.column)}::text as value, count(*)::int as n from ${quoteQualified(spec.schema, column.table)}
         where ${quoteIdent(column.column)}::text = any($1) group by 1 order by 1`,
        [going],
      );
      checks.push({
        name: `rows of "${column.table}"."${column.column}" keep a value`,
        ok: rows.length === 0,
        detail: rows.length === 0 ? 'none holds a value that goes' : `${rows.map((r) => `${r.n} row(s) hold ${quoteLiteral(r.value)}`).join(', ')}, which goes without a mapping: add it to \`map\``,
      });
    }
    return checks;
  },
  async verify(spec, client, stage) {
    const name = stage === 'expand' ? changedEnumName(spec.enum) : spec.enum;
    const labels = await enumLabels(client, spec.schema, name);
    return [{ name: `enum "${name}" is (${spec.values.join(', ')})`, ok: JSON.stringify(labels) === JSON.stringify(spec.values), detail: labels ? labels.join(', ') : 'absent' }];
  },
} satisfies Operation<ChangeEnumSpec, z.input<typeof changeEnumSpec>>;

