import type pg from 'pg';
import type { Check } from './operation.js';

/** Whether `column` has a default, as one check (present or absent as `expected` says; the detail shows it as PostgreSQL prints it). Read-only. */
export async function checkDefault(client: pg.ClientBase, schema: string, table: string, column: string, expected: { present: boolean }): Promise<Check> {
  const { rows } = await client.query<{ value: string | null }>(
    `select pg_get_expr(d.adbin, d.adrelid) as value from pg_attribute a join pg_class c on c.oid = a.attrelid
     join pg_namespace n on n.oid = c.relnamespace left join pg_attrdef d on d.adrelid = a.attrelid and d.adnum = a.attnum
     where n.nspname = $1 and c.relname = $2 and a.attname = $3 and a.attnum > 0 and not a.attisdropped`,
    [schema, table, column],
  );
  const value = rows[0]?.value ?? null;
  return { name: `default of "${table}"."${column}" ${expected.present ? 'set' : 'dropped'}`, ok: (value !== null) === expected.present, detail: value ?? 'none' };
}
