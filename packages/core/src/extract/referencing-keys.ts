import type pg from 'pg';

/** A foreign key that points into a table, as dedupe and the like must respect it. */
export interface ReferencingKey {
  readonly name: string;
  readonly schema: string;
  readonly table: string;
  readonly columns: readonly string[];
  readonly referenced: readonly string[];
  /** `ON DELETE` action: NO ACTION, RESTRICT, CASCADE, SET NULL or SET DEFAULT. */
  readonly onDelete: 'NO ACTION' | 'RESTRICT' | 'CASCADE' | 'SET NULL' | 'SET DEFAULT';
  /** The child table's primary key columns (empty when it has none). */
  readonly childKey: readonly string[];
}

const ACTIONS = { a: 'NO ACTION', r: 'RESTRICT', c: 'CASCADE', n: 'SET NULL', d: 'SET DEFAULT' } as const;

/** Every foreign key that references `qualified` (a quoted `schema.table`), self-references included. Read-only. */
export async function referencingKeys(client: pg.ClientBase, qualified: string): Promise<ReferencingKey[]> {
  const { rows } = await client.query<{ name: string; schema: string; table: string; columns: string[]; referenced: string[]; action: keyof typeof ACTIONS; child_key: string[] | null }>(
    `select c.conname::text as name, n.nspname::text as schema, t.relname::text as table,
            (select array_agg(a.attname::text order by k.i) from unnest(c.conkey) with ordinality k(attnum, i) join pg_attribute a on a.attrelid = c.conrelid and a.attnum = k.attnum) as columns,
            (select array_agg(a.attname::text order by k.i) from unnest(c.confkey) with ordinality k(attnum, i) join pg_attribute a on a.attrelid = c.confrelid and a.attnum = k.attnum) as referenced,
            c.confdeltype as action,
            (select array_agg(a.attname::text order by k.i) from pg_constraint p cross join unnest(p.conkey) with ordinality k(attnum, i)
               join pg_attribute a on a.attrelid = p.conrelid and a.attnum = k.attnum where p.conrelid = c.conrelid and p.contype = 'p') as child_key
     from pg_constraint c join pg_class t on t.oid = c.conrelid join pg_namespace n on n.oid = t.relnamespace
     where c.contype = 'f' and c.confrelid = $1::regclass order by c.conname`,
    [qualified],
  );
  return rows.map((row) => ({ name: row.name, schema: row.schema, table: row.table, columns: row.columns, referenced: row.referenced, onDelete: ACTIONS[row.action], childKey: row.child_key ?? [] }));
}
