import { quoteIdent, quoteQualified } from '../sql.js';
import { columnAt, literal, schemaField, stepName, tableAt, USER_TABLES } from './check-support.js';
import type { AnalyzeFinding, StaticCheck } from './static-checks.js';

/** The static checks on indexes and constraints: foreign keys without one, redundant ones, leftovers. */

/** A foreign key whose columns are not the leading columns (in any order) of a valid, non-partial btree index (the definition `indexCoversColumns` shares with addForeignKey). */
export const fkWithoutIndex: StaticCheck = {
  id: 'fk-without-index',
  severity: 'warning',
  async run(context) {
    const { rows } = await context.client.query<{ schema: string; table: string; name: string; columns: string[] }>(
      `select n.nspname::text as schema, c.relname::text as table, k.conname::text as name,
              array(select a.attname::text from unnest(k.conkey) with ordinality u(n, i) join pg_attribute a on a.attrelid = k.conrelid and a.attnum = u.n order by u.i) as columns
       from pg_constraint k join pg_class c on c.oid = k.conrelid join pg_namespace n on n.oid = c.relnamespace
       where k.contype = 'f' and k.conparentid = 0 and ${USER_TABLES}
         and not exists (
           select 1 from pg_index i join pg_class ic on ic.oid = i.indexrelid join pg_am am on am.oid = ic.relam
           where i.indrelid = k.conrelid and i.indisvalid and i.indpred is null and am.amname = 'btree' and cardinality(k.conkey) <= i.indnkeyatts
             and (select array_agg(x order by x) from unnest((string_to_array(i.indkey::text, ' ')::int2[])[1:cardinality(k.conkey)]) x)
               = (select array_agg(x order by x) from unnest(k.conkey) x))
       order by 1, 2, 3`,
    );
    return rows.map((r) => {
      const relation = context.prisma?.relations.find((rel) => rel.schema === r.schema && rel.table === r.table && rel.columns.join() === r.columns.join());
      const fields = relation ? relation.columns.map((c) => context.prisma?.columns.get(`${r.schema}.${r.table}.${c}`)?.field ?? c) : r.columns;
      return {
        check: 'fk-without-index',
        kind: 'static',
        severity: 'warning',
        object: `${r.schema}.${r.table}.${r.columns.join(',')}`,
        prisma: relation ? { model: relation.model, field: relation.field, file: relation.file, line: relation.line } : columnAt(context, r.schema, r.table, r.columns[0] as string),
        message: `foreign key "${r.name}" on "${r.table}" (${r.columns.join(', ')}) has no index starting with its columns: every delete or key update of the referenced row scans "${r.table}", and joins on it cannot use an index`,
        fix: {
          prisma: `@@index([${fields.join(', ')}])${relation ? ` in model ${relation.model}` : ''}`,
          steps: [`schemaStep(${stepName(`index_${r.table}_${r.columns.join('_')}`)}, step(createIndex, { ${schemaField(r.schema)}table: ${literal(r.table)}, columns: ${literal(r.columns)} }))`],
        },
      } satisfies AnalyzeFinding;
    });
  },
};

/**
 * An index whose key (columns, operator classes, collations, orders), expressions and predicate equal another's
 * (a duplicate) or are a prefix of another's (redundant), and that enforces nothing the other does not: not
 * unique unless the other is unique on the same columns, and backing no constraint.
 */
export const redundantIndex: StaticCheck = {
  id: 'redundant-index',
  severity: 'warning',
  async run(context) {
    const { rows } = await context.client.query<{ schema: string; table: string; name: string; other: string; duplicate: boolean; columns: string[] }>(
      `with ix as (
         select i.indexrelid, i.indrelid, ic.relname::text as name, i.indisunique as uniq, n.nspname::text as schema, c.relname::text as table,
                string_to_array(i.indkey::text, ' ') as keys, string_to_array(i.indclass::text, ' ') as classes,
                string_to_array(i.indcollation::text, ' ') as collations, string_to_array(i.indoption::text, ' ') as options,
                coalesce(pg_get_expr(i.indexprs, i.indrelid), '') as exprs, coalesce(pg_get_expr(i.indpred, i.indrelid), '') as pred,
                exists (select 1 from pg_constraint k where k.conindid = i.indexrelid) as backs,
                array(select a.attname::text from unnest(string_to_array(i.indkey::text, ' ')::int2[]) u(n) left join pg_attribute a on a.attrelid = i.indrelid and a.attnum = u.n) as columns
         from pg_index i join pg_class ic on ic.oid = i.indexrelid join pg_am am on am.oid = ic.relam
         join pg_class c on c.oid = i.indrelid join pg_namespace n on n.oid = c.relnamespace
         where i.indisvalid and am.amname = 'btree' and ${USER_TABLES})
       select a.schema, a.table, a.name, b.name as other, cardinality(a.keys) = cardinality(b.keys) as duplicate, a.columns
       from ix a join ix b on a.indrelid = b.indrelid and a.indexrelid <> b.indexrelid
       where a.pred = b.pred and a.exprs = b.exprs and not a.backs
         and cardinality(a.keys) <= cardinality(b.keys)
         and a.keys = b.keys[1:cardinality(a.keys)] and a.classes = b.classes[1:cardinality(a.keys)]
         and a.collations = b.collations[1:cardinality(a.keys)] and a.options = b.options[1:cardinality(a.keys)]
         and (not a.uniq or (b.uniq and cardinality(a.keys) = cardinality(b.keys)))
         -- of two exact duplicates, report one: the one backing nothing, else the later name
         and not (cardinality(a.keys) = cardinality(b.keys) and a.uniq = b.uniq and not b.backs and a.name < b.name)
       order by 1, 2, 3`,
    );
    return rows.map((r) => ({
      check: 'redundant-index',
      kind: 'static',
      severity: 'warning',
      object: `${r.schema}.${r.name}`,
      prisma: tableAt(context, r.schema, r.table),
      message: `index "${r.name}" on "${r.table}" (${r.columns.join(', ')}) ${r.duplicate ? 'duplicates' : 'is a prefix of'} "${r.other}": every write maintains it for nothing`,
      fix: { prisma: `remove the @@index (or @unique) that declares "${r.name}"`, steps: [`schemaStep(${stepName(`drop_${r.name}`)}, step(dropIndex, { ${schemaField(r.schema)}name: ${literal(r.name)} }))`] },
    }));
  },
};

/** An index left INVALID (a failed concurrent build), or a constraint left NOT VALID (`kind` says which). */
export const leftBehind = (kind: 'index' | 'constraint'): StaticCheck => ({
  id: kind === 'index' ? 'invalid-index' : 'not-valid-constraint',
  severity: 'error',
  async run(context) {
    const { rows } = await context.client.query<{ schema: string; table: string; name: string; kind: 'index' | 'constraint' }>(
      `select n.nspname::text as schema, c.relname::text as table, ic.relname::text as name, 'index' as kind
       from pg_index i join pg_class ic on ic.oid = i.indexrelid join pg_class c on c.oid = i.indrelid join pg_namespace n on n.oid = c.relnamespace
       where not i.indisvalid and ic.relkind <> 'I' and ${USER_TABLES}
       union all
       select n.nspname::text, c.relname::text, k.conname::text, 'constraint'
       from pg_constraint k join pg_class c on c.oid = k.conrelid join pg_namespace n on n.oid = c.relnamespace
       where not k.convalidated and ${USER_TABLES}
       order by 1, 2, 3`,
    );
    return rows.filter((r) => r.kind === kind).map((r) => ({
      check: r.kind === 'index' ? 'invalid-index' : 'not-valid-constraint',
      kind: 'static',
      severity: 'error',
      object: `${r.schema}.${r.name}`,
      prisma: tableAt(context, r.schema, r.table),
      message:
        r.kind === 'index'
          ? `index "${r.name}" on "${r.table}" is INVALID (a concurrent build that failed): it is maintained on every write but never used`
          : `constraint "${r.name}" on "${r.table}" is NOT VALID: existing rows were never checked`,
      fix: {
        prisma: null,
        steps: [
          r.kind === 'index'
            ? `schemaStep(${stepName(`reindex_${r.name}`)}, step(rawSql, { name: ${literal(`reindex_${r.name}`)}, transactional: false, lock: 'SHARE UPDATE EXCLUSIVE', scansData: true, up: [${literal(`REINDEX INDEX CONCURRENTLY ${quoteQualified(r.schema, r.name)}`)}], down: [] }))`
            : `schemaStep(${stepName(`validate_${r.name}`)}, step(rawSql, { name: ${literal(`validate_${r.name}`)}, lock: 'SHARE UPDATE EXCLUSIVE', scansData: true, up: [${literal(`ALTER TABLE ${quoteQualified(r.schema, r.table)} VALIDATE CONSTRAINT ${quoteIdent(r.name)}`)}], down: [] }))`,
        ],
      },
    }));
  },
});
