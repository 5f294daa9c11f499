import type pg from 'pg';
import { z } from 'zod';
import { quoteLiteral, quoteQualified } from '../sql.js';
import type { Check, Operation } from './operation.js';
import { identifier, schemaField } from './sql-builders.js';

/** Spec of `addEnumValue`: a value for a PostgreSQL enum type (a Prisma `enum`), optionally placed before or after another. */
export const addEnumValueSpec = z
  .object({
    schema: schemaField,
    enum: identifier,
    value: z.string().min(1, 'must not be empty').max(63, 'an enum label has at most 63 bytes'),
    before: z.string().min(1).optional(),
    after: z.string().min(1).optional(),
  })
  .strict()
  .refine((spec) => spec.before === undefined || spec.after === undefined, { path: ['after'], message: 'give `before` or `after`, not both' });
export type AddEnumValueSpec = z.infer<typeof addEnumValueSpec>;

/** The labels of enum `schema.name`, in order; undefined when there is no such enum. Read-only. */
export async function enumLabels(client: pg.ClientBase, schema: string, name: string): Promise<string[] | undefined> {
  const { rows } = await client.query<{ labels: string[] | null; found: boolean }>(
    `select exists (select 1 from pg_type t join pg_namespace n on n.oid = t.typnamespace where n.nspname = $1 and t.typname = $2 and t.typtype = 'e') as found,
            (select array_agg(e.enumlabel::text order by e.enumsortorder) from pg_enum e join pg_type t on t.oid = e.enumtypid
               join pg_namespace n on n.oid = t.typnamespace where n.nspname = $1 and t.typname = $2) as labels`,
    [schema, name],
  );
  return rows[0]?.found ? (rows[0].labels ?? []) : undefined;
}

/**
 * Adds a value to an enum: `ALTER TYPE … ADD VALUE IF NOT EXISTS` in a folder of its own, outside a
 * transaction, as Prisma writes it (the value cannot be used in the transaction that adds it). Old code
 * never writes it; it can read it only if its client knows the value (a Prisma client older than the
 * schema fails to read a row holding it: deploy the new code before rows get it). Catalog only: a brief
 * ACCESS EXCLUSIVE on the type, no table is touched.
 *
 * Rollback leaves the value in place: PostgreSQL cannot drop an enum value, and an unused value is
 * harmless. A rerun finds it (`IF NOT EXISTS`). To take a value out, `changeEnum` swaps the type without
 * rewriting a table.
 */
export const addEnumValue = {
  kind: 'addEnumValue',
  spec: addEnumValueSpec,
  describe: (spec) => `add value ${quoteLiteral(spec.value)} to enum "${spec.schema}"."${spec.enum}"`,
  plan(spec) {
    const place = spec.before !== undefined ? ` BEFORE ${quoteLiteral(spec.before)}` : spec.after !== undefined ? ` AFTER ${quoteLiteral(spec.after)}` : '';
    return {
      expand: [
        {
          kind: 'sql',
          name: `enum_${spec.enum}_add_${spec.value}`,
          transactional: false,
          statements: [{ sql: `ALTER TYPE ${quoteQualified(spec.schema, spec.enum)} ADD VALUE IF NOT EXISTS ${quoteLiteral(spec.value)}${place}`, lock: null, scansData: false }],
        },
      ],
      down: [],
      contract: [],
    };
  },
  async precheck(spec, client) {
    const labels = await enumLabels(client, spec.schema, spec.enum);
    const anchor = spec.before ?? spec.after;
    const problems: Check[] = [{ name: `enum "${spec.schema}"."${spec.enum}" exists`, ok: labels !== undefined, detail: labels ? labels.join(', ') : 'absent' }];
    if (labels && anchor !== undefined) problems.push({ name: `value ${quoteLiteral(anchor)} to place it by exists`, ok: labels.includes(anchor), detail: labels.join(', ') });
    return problems;
  },
  async verify(spec, client) {
    const labels = (await enumLabels(client, spec.schema, spec.enum)) ?? [];
    return [{ name: `enum "${spec.enum}" has ${quoteLiteral(spec.value)}`, ok: labels.includes(spec.value), detail: labels.join(', ') }];
  },
} satisfies Operation<AddEnumValueSpec, z.input<typeof addEnumValueSpec>>;
