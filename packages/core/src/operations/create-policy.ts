import { z } from 'zod';
import { requireTable } from '../db/catalog-snapshot.js';
import { quoteIdent, quoteQualified } from '../sql.js';
import type { Operation } from './operation.js';
import { identifier, schemaField, sqlFragment } from './sql-builders.js';

/** Roles written as keywords, not names. */
const ROLE_KEYWORDS = new Set(['PUBLIC', 'CURRENT_USER', 'CURRENT_ROLE', 'SESSION_USER']);

/** Spec of `createPolicy`: a row-level security policy; `using` and `withCheck` are SQL over the table's row. */
export const createPolicySpec = z
  .object({
    schema: schemaField,
    table: identifier,
    name: identifier,
    command: z.enum(['ALL', 'SELECT', 'INSERT', 'UPDATE', 'DELETE']).default('ALL'),
    permissive: z.boolean().default(true),
    roles: z.array(z.string().min(1)).min(1).default(['PUBLIC']),
    using: sqlFragment.optional(),
    withCheck: sqlFragment.optional(),
  })
  .strict()
  .refine((spec) => spec.using !== undefined || spec.withCheck !== undefined, { message: 'give using, withCheck or both', path: ['using'] })
  .refine((spec) => !(spec.command === 'INSERT' && spec.using !== undefined), { message: 'an INSERT policy takes withCheck only', path: ['using'] })
  .refine((spec) => !((spec.command === 'SELECT' || spec.command === 'DELETE') && spec.withCheck !== undefined), { message: 'a SELECT or DELETE policy takes using only', path: ['withCheck'] });
export type CreatePolicySpec = z.infer<typeof createPolicySpec>;

/** A role as SQL: a keyword as it is, a name quoted. Pure. */
function roleSql(role: string): string {
  return ROLE_KEYWORDS.has(role.toUpperCase()) ? role.toUpperCase() : quoteIdent(role);
}

/**
 * Creates a row-level security policy (`CREATE POLICY … ON … AS PERMISSIVE|RESTRICTIVE FOR … TO … USING …
 * WITH CHECK …`): a catalog change under a brief ACCESS EXCLUSIVE lock, no scan. It takes effect once
 * row-level security is on for the table (`enableRls`). The precheck refuses a name the table already has a
 * policy by. Down drops the policy.
 */
export const createPolicy = {
  kind: 'createPolicy',
  spec: createPolicySpec,
  describe: (spec) => `create ${spec.permissive ? 'permissive' : 'restrictive'} policy "${spec.name}" on "${spec.table}" for ${spec.command}`,
  plan(spec, catalog) {
    requireTable(catalog, spec.schema, spec.table);
    const table = quoteQualified(spec.schema, spec.table);
    const sql =
      `CREATE POLICY ${quoteIdent(spec.name)} ON ${table} AS ${spec.permissive ? 'PERMISSIVE' : 'RESTRICTIVE'} FOR ${spec.command} TO ${spec.roles.map(roleSql).join(', ')}` +
      `${spec.using === undefined ? '' : ` USING (${spec.using})`}${spec.withCheck === undefined ? '' : ` WITH CHECK (${spec.withCheck})`}`;
    return {
      expand: [{ kind: 'sql', name: `policy_${spec.table}_${spec.name}`, transactional: true, statements: [{ sql, lock: 'ACCESS EXCLUSIVE', scansData: false }] }],
      down: [{ kind: 'sql', name: `drop_policy_${spec.table}_${spec.name}`, transactional: true, statements: [{ sql: `DROP POLICY ${quoteIdent(spec.name)} ON ${table}`, lock: 'ACCESS EXCLUSIVE', scansData: false }] }],
      contract: [],
    };
  },
  async precheck(spec, client) {
    const { rowCount } = await client.query(`select 1 from pg_policies where schemaname = $1 and tablename = $2 and policyname = $3`, [spec.schema, spec.table, spec.name]);
    return [{ name: `no policy "${spec.name}" on "${spec.table}" yet`, ok: rowCount === 0, detail: rowCount === 0 ? 'free' : `"${spec.schema}"."${spec.table}" already has a policy named "${spec.name}"` }];
  },
  async verify(spec, client) {
    const { rows } = await client.query<{ cmd: string; permissive: string; has_using: boolean; has_check: boolean }>(
      `select cmd, permissive, qual is not null as has_using, with_check is not null as has_check from pg_policies where schemaname = $1 and tablename = $2 and policyname = $3`,
      [spec.schema, spec.table, spec.name],
    );
    const policy = rows[0];
    const ok =
      policy !== undefined &&
      policy.cmd === spec.command &&
      policy.permissive === (spec.permissive ? 'PERMISSIVE' : 'RESTRICTIVE') &&
      policy.has_using === (spec.using !== undefined) &&
      policy.has_check === (spec.withCheck !== undefined);
    return [{ name: `policy "${spec.name}" on "${spec.table}"`, ok, detail: policy ? `for ${policy.cmd}, ${policy.permissive.toLowerCase()}, using ${policy.has_using}, with check ${policy.has_check}` : 'missing' }];
  },
} satisfies Operation<CreatePolicySpec, z.input<typeof createPolicySpec>>;
