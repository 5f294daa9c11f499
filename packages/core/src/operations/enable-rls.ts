import { z } from 'zod';
import { requireTable } from '../db/catalog-snapshot.js';
import type { Operation } from './operation.js';
import { alterTable, identifier, schemaField } from './sql-builders.js';

/** Spec of `enableRls`: turn row-level security on; `force` applies the policies to the table's owner too. */
export const enableRlsSpec = z.object({ schema: schemaField, table: identifier, force: z.boolean().default(false) }).strict();
export type EnableRlsSpec = z.infer<typeof enableRlsSpec>;

/**
 * Turns on row-level security: `ALTER TABLE … ENABLE ROW LEVEL SECURITY` (and `FORCE` with `force`), a catalog
 * change under a brief ACCESS EXCLUSIVE lock, no scan. From then on roles other than the owner (and superusers)
 * see only the rows a policy lets through, none at all before the first policy: create the policies
 * (`createPolicy`) in the same phase. The precheck refuses a table whose row-level security is already on, so
 * that down (which turns it off) never weakens a table it did not change.
 */
export const enableRls = {
  kind: 'enableRls',
  spec: enableRlsSpec,
  describe: (spec) => `enable row-level security on "${spec.table}"${spec.force ? ' (forced for the owner too)' : ''}`,
  plan(spec, catalog) {
    requireTable(catalog, spec.schema, spec.table);
    const on = [alterTable(spec.schema, spec.table, 'ENABLE ROW LEVEL SECURITY', 'ACCESS EXCLUSIVE'), ...(spec.force ? [alterTable(spec.schema, spec.table, 'FORCE ROW LEVEL SECURITY', 'ACCESS EXCLUSIVE')] : [])];
    const off = [...(spec.force ? [alterTable(spec.schema, spec.table, 'NO FORCE ROW LEVEL SECURITY', 'ACCESS EXCLUSIVE')] : []), alterTable(spec.schema, spec.table, 'DISABLE ROW LEVEL SECURITY', 'ACCESS EXCLUSIVE')];
    return {
      expand: [{ kind: 'sql', name: `enable_rls_${spec.table}`, transactional: true, statements: on }],
      down: [{ kind: 'sql', name: `disable_rls_${spec.table}`, transactional: true, statements: off }],
      contract: [],
    };
  },
  async precheck(spec, client) {
    const { rows } = await client.query<{ on: boolean; forced: boolean }>(
      `select c.relrowsecurity as on, c.relforcerowsecurity as forced from pg_class c join pg_namespace n on n.oid = c.relnamespace where n.nspname = $1 and c.relname = $2`,
      [spec.schema, spec.table],
    );
    const state = rows[0];
    return [
      {
        name: `row-level security of "${spec.table}" is off`,
        ok: !state?.on,
        detail: state?.on ? `row-level security is already on for "${spec.schema}"."${spec.table}"${state.forced ? ' (forced)' : ''}: remove this step, or disable it first` : 'off',
      },
    ];
  },
  async verify(spec, client) {
    const { rows } = await client.query<{ on: boolean; forced: boolean }>(
      `select c.relrowsecurity as on, c.relforcerowsecurity as forced from pg_class c join pg_namespace n on n.oid = c.relnamespace where n.nspname = $1 and c.relname = $2`,
      [spec.schema, spec.table],
    );
    const state = rows[0];
    const ok = state?.on === true && state.forced === spec.force;
    return [{ name: `row-level security on "${spec.table}"`, ok, detail: `enabled ${state?.on ?? false}, forced ${state?.forced ?? false} (expected forced ${spec.force})` }];
  },
} satisfies Operation<EnableRlsSpec, z.input<typeof enableRlsSpec>>;
