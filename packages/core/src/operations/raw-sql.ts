import { z } from 'zod';
import type { Check, LockLevel, Operation } from './operation.js';
import { labelField, sqlFragment } from './sql-builders.js';

const lockLevel = z.enum([
  'ACCESS SHARE',
  'ROW SHARE',
  'ROW EXCLUSIVE',
  'SHARE UPDATE EXCLUSIVE',
  'SHARE',
  'SHARE ROW EXCLUSIVE',
  'EXCLUSIVE',
  'ACCESS EXCLUSIVE',
]) satisfies z.ZodType<LockLevel>;

/**
 * Spec of `rawSql`: statements up and an explicit down (required: every step must be reversible or say
 * so), the lock they take (shown by `plan`), and an optional `verify` query returning one boolean column.
 * `transactional: false` runs each statement alone (e.g. `CONCURRENTLY`).
 */
export const rawSqlSpec = z
  .object({
    name: labelField,
    up: z.array(sqlFragment).min(1),
    down: z.array(sqlFragment),
    transactional: z.boolean().default(true),
    lock: lockLevel.default('ACCESS EXCLUSIVE'),
    scansData: z.boolean().default(false),
    verify: sqlFragment.optional(),
  })
  .strict();
export type RawSqlSpec = z.infer<typeof rawSqlSpec>;

/**
 * Runs hand-written SQL as a step. The toolkit cannot see what it does: the declared lock is shown in
 * plans, and the statements still run under the runner's lock_timeout and retries.
 */
export const rawSql = {
  kind: 'rawSql',
  spec: rawSqlSpec,
  describe: (spec) => `raw SQL "${spec.name}" (${spec.up.length} statement(s))`,
  plan(spec) {
    const units = (statements: readonly string[], label: string) =>
      spec.transactional
        ? [{ kind: 'sql' as const, name: `${label}_${spec.name}`, transactional: true, statements: statements.map((sql) => ({ sql, lock: spec.lock, scansData: spec.scansData })) }]
        : statements.map((sql, i) => ({ kind: 'sql' as const, name: `${label}_${spec.name}_${i + 1}`, transactional: false, statements: [{ sql, lock: spec.lock, scansData: spec.scansData }] }));
    return { expand: units(spec.up, 'raw'), down: units(spec.down, 'raw_down'), contract: [] };
  },
  async verify(spec, client) {
    if (!spec.verify) return [];
    const { rows } = await client.query<Record<string, unknown>>(spec.verify);
    const value = rows[0] ? Object.values(rows[0])[0] : undefined;
    const check: Check = { name: `raw SQL "${spec.name}" verify`, ok: value === true, detail: `returned ${JSON.stringify(value)}` };
    return [check];
  },
} satisfies Operation<RawSqlSpec, z.input<typeof rawSqlSpec>>;
