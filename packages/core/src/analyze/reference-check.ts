import { quoteIdent, quoteQualified } from '../sql.js';
import type pg from 'pg';
import { columnAt, literal, USER_TABLES } from './check-support.js';
import { foldCode, referenceFix, referenceNames } from './reference-fix.js';
import type { AnalyzeFinding, StaticCheck } from './static-checks.js';

/**
 * The reference-candidate check (kind `runtime`: it reads a bounded sample of rows): a text column named like a
 * key or code (`…Id`, `…_id`, `…code`, `…key`) that is in no primary key, foreign key or unique constraint, found
 * under the same name in two tables or more, whose values repeat (at most 1,000 distinct values, and at most half
 * as many as the rows holding one). Those are codes typed by hand in several places (seed 003's subject ids in
 * bookings and sessions) that want a reference table and foreign keys. Read-only.
 *
 * `--fix` writes the reference table, its fill, the foreign-key columns with their backfill and keys, and a
 * contract phase dropping the code columns (reference-fix.ts). Once every table of a candidate has the key column
 * the fix names, in a foreign key, the candidate is reported as `reference-built` instead: the contract is left.
 */

/** Whether `table` exists, and which of `tables` have `column` in a foreign key (catalog reads). */
async function referenceState(client: pg.ClientBase, schema: string, tables: readonly string[], table: string, column: string): Promise<{ tableExists: boolean; keyed: number }> {
  const { rows } = await client.query<{ exists: boolean; keyed: number }>(
    `select to_regclass($4) is not null as exists,
            (select count(distinct c.relname)::int from pg_constraint k join pg_class c on c.oid = k.conrelid join pg_namespace n on n.oid = c.relnamespace
             join pg_attribute a on a.attrelid = c.oid and a.attnum = any (k.conkey)
             where k.contype = 'f' and n.nspname = $1 and c.relname = any ($2::text[]) and a.attname = $3) as keyed`,
    [schema, tables, column, quoteQualified(schema, table)],
  );
  return { tableExists: rows[0]?.exists ?? false, keyed: rows[0]?.keyed ?? 0 };
}

/** Rows read per table (the first rows in physical order: enough to see codes repeat). */
const SAMPLE_ROWS = 100_000;

const FOLD = foldCode;

export const referenceCandidate: StaticCheck = {
  id: 'reference-candidate',
  reports: ['reference-candidate', 'reference-built'],
  severity: 'info',
  async run(context) {
    const { rows: columns } = await context.client.query<{ schema: string; column: string; tables: string[] }>(
      `select n.nspname::text as schema, a.attname::text as column, array_agg(c.relname::text order by c.relname) as tables
       from pg_attribute a join pg_class c on c.oid = a.attrelid join pg_namespace n on n.oid = c.relnamespace
       where ${USER_TABLES} and c.relkind = 'r' and a.attnum > 0 and not a.attisdropped
         and a.atttypid in ('text'::regtype, 'varchar'::regtype, 'bpchar'::regtype)
         and a.attname <> 'id' and a.attname ~* '(id|code|key)$'
         and not exists (select 1 from pg_constraint k where k.conrelid = c.oid and k.contype in ('p', 'f', 'u') and a.attnum = any (k.conkey))
       group by 1, 2 having count(*) >= 2 order by 1, 2`,
    );
    const findings: AnalyzeFinding[] = [];
    for (const group of columns) {
      const column = quoteIdent(group.column);
      const union = group.tables.map((t) => `(select ${column} as v from ${quoteQualified(group.schema, t)} where ${column} is not null limit ${SAMPLE_ROWS})`).join(' union all ');
      const { rows } = await context.client.query<{ n: string; distinct: string; folded: string; sample: string[] | null }>(
        `select count(*)::text as n, count(distinct v)::text as distinct, count(distinct ${FOLD('v')})::text as folded,
                (array_agg(distinct v order by v))[1:5] as sample
         from (${union}) s`,
      );
      const r = rows[0];
      const [n, distinct, folded] = [Number(r?.n ?? 0), Number(r?.distinct ?? 0), Number(r?.folded ?? 0)];
      if (n === 0 || distinct > 1000 || distinct * 2 > n) continue;
      const [first] = group.tables;
      const where = group.tables.map((t) => `"${t}"."${group.column}"`).join(', ');
      const names = referenceNames(group.column);
      const state = await referenceState(context.client, group.schema, group.tables, names.table, names.foreignKey);
      const object = `${group.schema}.${group.tables.join('+')}.${group.column}`;
      const prisma = columnAt(context, group.schema, first as string, group.column);
      if (state.tableExists && state.keyed === group.tables.length) {
        findings.push({
          check: 'reference-built',
          kind: 'runtime',
          severity: 'info',
          object,
          prisma,
          message: `${where} have their reference table "${names.table}" through "${names.foreignKey}" (a foreign key on each table); drop the code columns in the contract phase (analyze_fixes_contract) once no code reads them`,
          fix: { prisma: `remove the field for "${group.column}" from the models of ${group.tables.join(', ')}`, steps: [] },
        });
        continue;
      }
      const sources = group.tables.map((t) => `{ ${group.schema === 'public' ? '' : `schema: ${literal(group.schema)}, `}table: ${literal(t)}, select: { code: ${literal(FOLD(`t.${column}`))} }, where: ${literal(`t.${column} IS NOT NULL`)} }`);
      const fix = state.tableExists ? undefined : referenceFix(group.schema, group.tables, group.column);
      findings.push({
        check: 'reference-candidate',
        kind: 'runtime',
        severity: 'info',
        object,
        prisma,
        message: `${where} hold ${distinct} distinct codes in ${n} rows${folded < distinct ? ` (${folded} once case and spacing are folded)` : ''}, e.g. ${(r?.sample ?? []).map((v) => JSON.stringify(v)).join(', ')}, with no table of their own: a reference table and foreign keys would keep them consistent`,
        fix: {
          prisma: `model ${names.table} { id String @id  code String @unique }, and a relation from ${group.tables.join(', ')} through ${names.foreignKey}`,
          steps: fix ? fix.steps : [`// a table "${names.table}" exists already: point ${where} at it by hand`],
          ...(fix ? { contract: fix.contract } : {}),
          code: `// a reference table keyed by the folded code (createTable + addUnique on "code" first), filled from every source:
await extractReferenceRows({
  database: process.env.DATABASE_URL!,
  target: { table: ${literal(names.table)}, idColumn: 'id', key: ['code'] },
  sources: [
    ${sources.join(',\n    ')},
  ],
});`,
        },
      });
    }
    return findings;
  },
};
