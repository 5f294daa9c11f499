import pg from 'pg';
import { listTables, quoteLiteral, quoteQualified } from '@prisma-evolve/core';

/**
 * Per table of `schema`, the set of row fingerprints (md5 of the row as JSON) without the columns a run
 * fills from the clock: timestamp columns named like one whose default reads the clock (`now()`,
 * `CURRENT_TIMESTAMP`) anywhere in the schema (backup copies carry them too), and Prisma's `updatedAt`. Two runs of the same plan on the same data agree on these, wherever they were
 * interrupted. `skip(table)` lists row keys (the `id` column) to leave out, e.g. rows an application wrote.
 * Read-only, in one repeatable-read snapshot.
 */
export async function stableContent(databaseUrl: string, skip: (table: string) => readonly string[] = () => [], schema = 'public'): Promise<Map<string, string[]>> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query('begin isolation level repeatable read read only');
    const content = new Map<string, string[]>();
    // Names of clock-filled columns anywhere in the schema: backup copies of such rows carry them too.
    const { rows: volatileNames } = await client.query<{ name: string }>(
      `select distinct a.attname as name from pg_attribute a join pg_class c on c.oid = a.attrelid join pg_namespace n on n.oid = c.relnamespace
       left join pg_attrdef d on d.adrelid = a.attrelid and d.adnum = a.attnum
       where n.nspname = $1 and a.attnum > 0 and not a.attisdropped and a.atttypid in ('timestamp'::regtype, 'timestamptz'::regtype)
         and (a.attname = 'updatedAt' or pg_get_expr(d.adbin, d.adrelid) ~* '(now\\(\\)|current_timestamp)')`,
      [schema],
    );
    for (const table of await listTables(client, schema)) {
      if (table === '_prisma_migrations') continue;
      const { rows: volatile } = await client.query<{ name: string }>(
        `select a.attname as name from pg_attribute a
         where a.attrelid = $1::regclass and a.attnum > 0 and not a.attisdropped and a.atttypid in ('timestamp'::regtype, 'timestamptz'::regtype)
           and a.attname = any($2::text[])`,
        [quoteQualified(schema, table), volatileNames.map((v) => v.name)],
      );
      const { rows: hasId } = await client.query<{ found: boolean }>(`select exists (select 1 from pg_attribute where attrelid = $1::regclass and attname = 'id' and not attisdropped) as found`, [quoteQualified(schema, table)]);
      const minus = volatile.map((v) => ` - ${quoteLiteral(v.name)}`).join('');
      const skipped = skip(table);
      const where = skipped.length > 0 && hasId[0]?.found ? `where t.id::text <> all($1::text[])` : '';
      const { rows } = await client.query<{ f: string }>(`select md5((to_jsonb(t)${minus})::text) as f from ${quoteQualified(schema, table)} t ${where} order by 1`, where ? [skipped] : []);
      content.set(table, rows.map((r) => r.f));
    }
    await client.query('commit');
    return content;
  } finally {
    await client.end();
  }
}

/** The tables whose content differs between two {@link stableContent} results, with row counts. Pure. */
export function contentDifferences(a: Map<string, string[]>, b: Map<string, string[]>): string[] {
  const tables = [...new Set([...a.keys(), ...b.keys()])].sort();
  return tables.filter((t) => (a.get(t) ?? []).join() !== (b.get(t) ?? []).join()).map((t) => `${t} (${a.get(t)?.length ?? 'absent'} vs ${b.get(t)?.length ?? 'absent'} rows)`);
}
