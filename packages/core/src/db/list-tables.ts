import type pg from 'pg';

/**
 * Names of the ordinary and partitioned tables of `schema`, sorted. Read-only catalog query
 * (`pg_class`/`pg_namespace`), no locks on the tables themselves.
 */
export async function listTables(client: pg.ClientBase, schema: string): Promise<string[]> {
  const { rows } = await client.query<{ relname: string }>(
    `select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace
     where n.nspname = $1 and c.relkind in ('r', 'p') order by 1`,
    [schema],
  );
  return rows.map((row) => row.relname);
}
